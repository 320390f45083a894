// A prompt's verdict as the editor shows it: weighted edge and cloud quality, PRS, Pareto relation, and the route the
// cost policy would take right now (α from the recent PRS history, this month's money). No `vscode` here.
import { calibrateAlpha, cascadesFirst, decideRoute, explainDecision, weightedQuality, type GenerationMode, type PolicyConfig, type RouteDecision } from '../../router/policy';
import type { ParetoRelation, Prediction, Scores, Side } from '../../router/types';

/** What the policy needs besides the prediction; built once per redraw, not per prompt. */
export interface PolicyView {
  config: PolicyConfig;
  /** α calibrated on the predictor's reference PRS sample and this workspace's recent generations. */
  alpha: number;
  /** Spent plus reserved this month (USD). */
  committed: number;
  /** Price of one image on the configured cloud backend (USD); 0 when unknown. */
  cloudPrice: number;
  /** Whether a cloud backend is configured at all. */
  cloudConfigured: boolean;
  /** How Generate will act: predict routes by the verdict; cascade (and hybrid where uncertain) renders on the edge first. */
  mode: GenerationMode;
  hybridBand: number;
}

export function policyView(
  config: PolicyConfig,
  history: readonly number[],
  rest: { committed: number; cloudPrice: number; cloudConfigured: boolean; mode?: GenerationMode; hybridBand?: number },
): PolicyView {
  return { config, alpha: calibrateAlpha(history, config.cloudShare), mode: 'predict', hybridBand: 0.1, ...rest };
}

export interface Verdict {
  /** PRS-weighted quality of each side, in [0, 1]. */
  edge: number;
  cloud: number;
  prs: number;
  pareto: ParetoRelation;
  decision: RouteDecision;
  /** The route generation will take (for a cascade, its first side): the decision, or the prompt's `# route:` override. */
  route: Side;
  override?: Side;
  /** Generate will render on the edge, measure the image, and escalate to the cloud if it falls short. */
  cascade?: boolean;
  /** Why, in words a user reads. */
  why: string;
}

export function verdictOf(prediction: Prediction, weights: Scores, policy: PolicyView, override?: Side): Verdict {
  const decision = decideRoute(prediction.prs, policy.alpha, policy.config.cloudShare, policy.config, {
    committed: policy.committed,
    cloudPrice: policy.cloudPrice,
  });
  let why = explainDecision(decision, policy.config.cloudShare);
  // Mirrors the dispatcher's plan, so the verdict says what Generate will do.
  const cascade =
    !override && policy.cloudConfigured && cascadesFirst(policy.mode, prediction.prs, policy.alpha, policy.hybridBand);
  if (override) why = `"# route: ${override}" in the file (the policy alone would say ${decision.route}: ${why})`;
  else if (cascade) {
    const reason = policy.mode === 'cascade' ? 'cascade' : `uncertain (|PRS − α| ≤ ${policy.hybridBand}), so cascade`;
    why = `${reason}: the edge renders first and the cloud redoes it if the measured quality falls short (the prediction alone would say ${decision.route}: ${why})`;
  }
  return {
    edge: weightedQuality(prediction.edge, weights) ?? 0,
    cloud: weightedQuality(prediction.cloud, weights) ?? 0,
    prs: prediction.prs,
    pareto: prediction.pareto,
    decision,
    route: override ?? (cascade ? 'edge' : decision.route),
    ...(override ? { override } : {}),
    ...(cascade ? { cascade } : {}),
    why,
  };
}
