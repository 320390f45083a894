import { RouteT2IError } from '../router/errors';
import {
  cascadesFirst,
  decideRoute,
  explainDecision,
  type GenerationMode,
  type PolicyConfig,
  type RouteDecision,
} from '../router/policy';
import type { Prediction, Side } from '../router/types';

/**
 * The plan of one prompt: what Generate does with it (edge, cloud, or cascade: edge first, measured, cloud if it falls
 * short), why in words, and what it may cost. Pure: no network, no ledger write. The dispatcher plans a batch with it
 * (α over the batch, money carried from prompt to prompt), and the editor's verdict is this plan of the one prompt, so
 * what the editor shows is what Generate Prompt at Cursor does.
 */

export type PlannedAction = 'edge' | 'cloud' | 'cascade';

export interface PlanEntry {
  id: string;
  action: PlannedAction;
  /** Why, in words a user reads. */
  why: string;
  decision?: RouteDecision;
  uncertain?: boolean;
  /** Money this prompt is expected to take (the cloud estimate where it goes or may go there). */
  estimate: number;
  /** Upper bound: a cascade that escalates. */
  maxEstimate: number;
}

/** Which sides can render this prompt, and what one cloud image of it costs. */
export interface PlanSides {
  edge: boolean;
  cloud: boolean;
  cloudPrice: number;
}

export interface PlanContext {
  mode: GenerationMode;
  policy: PolicyConfig;
  alpha: number;
  /** Hybrid: cascade where |PRS − α| ≤ band. */
  hybridBand: number;
  /** Spent plus reserved this month, and what the prompts planned before this one take. */
  committed: number;
}

export interface PlanPrompt {
  id: string;
  prediction?: Prediction;
  /** A side the user chose (a `# route:` line): the policy does not decide it, the ledger still caps it. */
  force?: { side: Side; why: string };
}

const CASCADE = 'the edge renders first and the cloud redoes it if the measured quality falls short';

/**
 * Plans one prompt. Throws `no-backend` when it cannot be rendered at all (no backend, or a forced side that has none).
 */
export function planPrompt(item: PlanPrompt, sides: PlanSides, ctx: PlanContext): PlanEntry {
  const { mode, policy, alpha } = ctx;
  const price = sides.cloud ? sides.cloudPrice : 0;
  const p = item.prediction;
  const decide = () =>
    p
      ? decideRoute(p.prs, alpha, sides.cloud ? policy.cloudShare : 0, policy, {
          committed: ctx.committed,
          cloudPrice: price,
        })
      : undefined;
  const opinion = (d: RouteDecision | undefined, what: string) =>
    d
      ? ` (${what} would say ${d.route}: ${sides.cloud ? explainDecision(d, policy.cloudShare) : 'no cloud backend configured'})`
      : '';
  if (item.force) {
    const side = item.force.side;
    if (!(side === 'cloud' ? sides.cloud : sides.edge)) {
      throw new RouteT2IError(
        'no-backend',
        `prompt ${item.id}: ${item.force.why} asks for the ${side}, but no ${side} backend is configured`,
      );
    }
    const estimate = side === 'cloud' ? price : 0;
    return {
      id: item.id,
      action: side,
      why: `${item.force.why}${opinion(decide(), 'the policy alone')}`,
      estimate,
      maxEstimate: estimate,
    };
  }
  if (!sides.edge && !sides.cloud) {
    throw new RouteT2IError(
      'no-backend',
      `prompt ${item.id}: neither an edge nor a cloud backend is configured`,
      'name one with --edge/--cloud or the config file (in VS Code: "routet2i.backends.edge" / ".cloud")',
    );
  }
  if (cascadesFirst(mode, p?.prs, alpha, ctx.hybridBand)) {
    if (!sides.edge)
      return { id: item.id, action: 'cloud', why: 'no edge backend configured', estimate: price, maxEstimate: price };
    if (!sides.cloud)
      return {
        id: item.id,
        action: 'edge',
        why: 'no cloud backend configured',
        uncertain: mode === 'hybrid' ? true : undefined,
        estimate: 0,
        maxEstimate: 0,
      };
    const reason =
      mode === 'cascade'
        ? 'cascade'
        : `uncertain prediction (|PRS ${p!.prs.toFixed(2)} − α ${alpha.toFixed(2)}| ≤ ${ctx.hybridBand}), so cascade`;
    return {
      id: item.id,
      action: 'cascade',
      why: `${reason}: ${CASCADE}${opinion(decide(), 'the prediction alone')}`,
      uncertain: mode === 'hybrid' ? true : undefined,
      estimate: 0,
      maxEstimate: price,
    };
  }
  const decision = decide();
  if (!decision)
    return {
      id: item.id,
      action: sides.edge ? 'edge' : 'cloud',
      why: 'no prediction',
      estimate: sides.edge ? 0 : price,
      maxEstimate: sides.edge ? 0 : price,
    };
  let action: PlannedAction = decision.route;
  let why = sides.cloud ? explainDecision(decision, policy.cloudShare) : 'no cloud backend configured';
  if (action === 'edge' && !sides.edge) {
    action = 'cloud';
    why = `no edge backend configured (the prediction alone would say edge: ${explainDecision(decision, policy.cloudShare)})`;
  } else if (action === 'cloud' && !sides.cloud) {
    action = 'edge';
    why = 'no cloud backend configured';
  }
  const estimate = action === 'cloud' ? price : 0;
  return {
    id: item.id,
    action,
    why,
    decision,
    uncertain: mode === 'hybrid' ? false : undefined,
    estimate,
    maxEstimate: estimate,
  };
}
