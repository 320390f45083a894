// A prompt's verdict as the editor shows it: weighted edge and cloud quality, PRS, Pareto relation, and the route the
// cost policy would take right now (α from the recent PRS history, this month's money). No `vscode` here.
import { calibrateAlpha, decideRoute, explainDecision, weightedQuality, type PolicyConfig, type RouteDecision } from '../router/policy';
import type { ParetoRelation, Prediction, Scores, Side } from '../router/types';

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
}

export function policyView(config: PolicyConfig, history: readonly number[], money: { committed: number; cloudPrice: number; cloudConfigured: boolean }): PolicyView {
  return { config, alpha: calibrateAlpha(history, config.cloudShare), ...money };
}

export interface Verdict {
  /** PRS-weighted quality of each side, in [0, 1]. */
  edge: number;
  cloud: number;
  prs: number;
  pareto: ParetoRelation;
  decision: RouteDecision;
  /** The route generation will take: the decision, or the prompt's `# route:` override. */
  route: Side;
  override?: Side;
  /** Why, in words a user reads. */
  why: string;
}

export function verdictOf(prediction: Prediction, weights: Scores, policy: PolicyView, override?: Side): Verdict {
  const decision = decideRoute(prediction.prs, policy.alpha, policy.config.cloudShare, policy.config, {
    committed: policy.committed,
    cloudPrice: policy.cloudPrice,
  });
  let why = explainDecision(decision, policy.config.cloudShare);
  if (override) why = `"# route: ${override}" in the file (the policy alone would say ${decision.route}: ${why})`;
  return {
    edge: weightedQuality(prediction.edge, weights) ?? 0,
    cloud: weightedQuality(prediction.cloud, weights) ?? 0,
    prs: prediction.prs,
    pareto: prediction.pareto,
    decision,
    route: override ?? decision.route,
    ...(override ? { override } : {}),
    why,
  };
}
