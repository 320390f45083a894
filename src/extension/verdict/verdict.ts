// A prompt's verdict as the editor shows it: weighted edge and cloud quality, PRS, Pareto relation, and what Generate
// Prompt at Cursor will do with it right now — the generation layer's plan of that one prompt (src/generation/plan.ts),
// not a copy of it (α from the recent PRS history, this month's money, the backends that are set). No `vscode` here.
import { planPrompt } from '../../generation/plan';
import { RouteT2IError } from '../../router/errors';
import {
  calibrateAlpha,
  decideRoute,
  explainDecision,
  weightedQuality,
  type GenerationMode,
  type PolicyConfig,
  type RouteDecision,
} from '../../router/policy';
import type { ParetoRelation, Prediction, Scores, Side } from '../../router/types';

/** What the policy needs besides the prediction; built once per redraw, not per prompt. */
export interface PolicyView {
  config: PolicyConfig;
  /** α calibrated on the predictor's reference PRS sample and this workspace's recent generations. */
  alpha: number;
  /** That sample: Generate calibrates α on it plus the prompts it generates, and so does each verdict. */
  history: readonly number[];
  /** Spent plus reserved this month (USD). */
  committed: number;
  /** Price of one image on the configured cloud backend (USD); 0 when unknown. */
  cloudPrice: number;
  /** Whether a cloud backend is configured at all. */
  cloudConfigured: boolean;
  /** Whether an edge backend is configured at all. */
  edgeConfigured: boolean;
  /** How Generate will act: predict routes by the verdict; cascade (and hybrid where uncertain) renders on the edge first. */
  mode: GenerationMode;
  hybridBand: number;
}

export function policyView(
  config: PolicyConfig,
  history: readonly number[],
  rest: {
    committed: number;
    cloudPrice: number;
    cloudConfigured: boolean;
    edgeConfigured: boolean;
    mode?: GenerationMode;
    hybridBand?: number;
  },
): PolicyView {
  return {
    config,
    alpha: calibrateAlpha(history, config.cloudShare),
    history,
    mode: 'predict',
    hybridBand: 0.1,
    ...rest,
  };
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
  /** Generate will refuse this prompt: its `# route:` line names a side that has no backend (the other side has one). */
  refused?: boolean;
  /** Why, in words a user reads. */
  why: string;
}

export function verdictOf(prediction: Prediction, weights: Scores, policy: PolicyView, override?: Side): Verdict {
  // Generate Prompt at Cursor plans a batch of this one prompt: α over the history and the prompt itself.
  const alpha = policy.history.length
    ? calibrateAlpha([...policy.history, prediction.prs], policy.config.cloudShare)
    : policy.alpha;
  const decision = decideRoute(prediction.prs, alpha, policy.config.cloudShare, policy.config, {
    committed: policy.committed,
    cloudPrice: policy.cloudPrice,
  });
  const force = override ? { side: override, why: `"# route: ${override}" in the file` } : undefined;
  let route: Side;
  let why: string;
  let cascade = false;
  let refused = false;
  if (!policy.edgeConfigured && !policy.cloudConfigured) {
    // Nothing can render it yet: say what the policy would choose once backends are set.
    route = override ?? decision.route;
    why = `${force ? `${force.why} (the policy alone would say ${decision.route}: ` : ''}${explainDecision(decision, policy.config.cloudShare)}${force ? ')' : ''}; no backend is configured yet`;
  } else {
    try {
      const plan = planPrompt(
        { id: 'prompt', prediction, ...(force ? { force } : {}) },
        { edge: policy.edgeConfigured, cloud: policy.cloudConfigured, cloudPrice: policy.cloudPrice },
        { mode: policy.mode, policy: policy.config, alpha, hybridBand: policy.hybridBand, committed: policy.committed },
      );
      cascade = plan.action === 'cascade';
      route = plan.action === 'cascade' ? 'edge' : plan.action;
      why = plan.why;
    } catch (e) {
      if (!(e instanceof RouteT2IError && force)) throw e;
      // A `# route:` line to a side with no backend: Generate will refuse it, and says why.
      route = force.side;
      refused = true;
      why = `${force.why}, but no ${force.side} backend is configured`;
    }
  }
  return {
    edge: weightedQuality(prediction.edge, weights) ?? 0,
    cloud: weightedQuality(prediction.cloud, weights) ?? 0,
    prs: prediction.prs,
    pareto: prediction.pareto,
    decision,
    route,
    ...(override ? { override } : {}),
    ...(cascade ? { cascade } : {}),
    ...(refused ? { refused } : {}),
    why,
  };
}
