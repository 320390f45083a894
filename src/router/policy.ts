import { RouteT2IError } from './errors';
import type { Side } from './types';

/**
 * Cost-calibrated routing (DESIGN.md, "Routing under a cost budget"): a prompt goes to the cloud when
 * PRS < α, α = min(0.5, quantile_ρ(recent PRS)), so the cloud share stays at the budget ρ; a money cap
 * sits on top. Scoring (the predictor) is separate from deciding (this module), as in RouteLLM.
 */

export interface PolicyConfig {
  /** ρ: the share of prompts that may go to the cloud, in [0, 1]. */
  cloudShare: number;
  /** How many recent PRS values calibrate α. */
  historySize: number;
  /** Monthly money cap in USD; `null` means no cap. */
  monthlyCap: number | null;
  /** Price per image in USD, by backend name. */
  prices: Record<string, number>;
}

export const DEFAULT_POLICY: Readonly<PolicyConfig> = Object.freeze({
  cloudShare: 0.3,
  historySize: 500,
  monthlyCap: null,
  prices: {},
});

/** Checks a policy read from flags, a config file or settings; `where` names the source in errors. */
export function validatePolicy(p: Partial<PolicyConfig>, where: string): PolicyConfig {
  const out: PolicyConfig = { ...DEFAULT_POLICY, prices: { ...DEFAULT_POLICY.prices }, ...p };
  if (!(typeof out.cloudShare === 'number' && out.cloudShare >= 0 && out.cloudShare <= 1)) {
    throw new RouteT2IError('bad-policy', `${where}: the cloud share (budget ρ) must be a number from 0 to 1 (got ${JSON.stringify(out.cloudShare)})`);
  }
  if (!(Number.isInteger(out.historySize) && out.historySize >= 1 && out.historySize <= 100_000)) {
    throw new RouteT2IError('bad-policy', `${where}: the history size must be a whole number from 1 to 100000`);
  }
  if (out.monthlyCap !== null && !(typeof out.monthlyCap === 'number' && out.monthlyCap >= 0 && Number.isFinite(out.monthlyCap))) {
    throw new RouteT2IError('bad-policy', `${where}: the monthly cap must be a non-negative amount in USD, or null for none`);
  }
  for (const [name, price] of Object.entries(out.prices)) {
    if (!(typeof price === 'number' && price >= 0 && Number.isFinite(price))) {
      throw new RouteT2IError('bad-policy', `${where}: the price of "${name}" must be a non-negative amount in USD`);
    }
  }
  return out;
}

/**
 * α from a PRS sample: the ⌊ρ·n⌋-th smallest value, so that exactly the values strictly below it — at most
 * ρ·n of them — go to the cloud; capped at 0.5 so that a prompt the edge is predicted to win never does.
 */
export function calibrateAlpha(prsValues: readonly number[], cloudShare: number): number {
  if (prsValues.length === 0) return cloudShare > 0 ? 0.5 : 0;
  const sorted = Float64Array.from(prsValues).sort();
  const k = Math.floor(cloudShare * sorted.length + 1e-9);
  const q = k >= sorted.length ? Infinity : sorted[k]!;
  return Math.min(0.5, q);
}

/** A bounded window of recent PRS values, seeded with a reference sample (the model's own) for a cold start. */
export class PrsHistory {
  private readonly values: number[];
  private next = 0;

  constructor(
    readonly size: number,
    seed: readonly number[] = [],
  ) {
    this.values = seed.slice(-size);
    this.next = this.values.length % size;
  }

  push(prs: number): void {
    if (!Number.isFinite(prs)) return;
    if (this.values.length < this.size) this.values.push(prs);
    else {
      this.values[this.next] = prs;
      this.next = (this.next + 1) % this.size;
    }
  }

  snapshot(): number[] {
    return this.values.slice();
  }

  get length(): number {
    return this.values.length;
  }
}

export type RouteReason =
  /** PRS ≥ 0.5: the edge is predicted to do at least as well. */
  | 'edge-predicted-better'
  /** PRS < α: among the prompts that gain most from the cloud. */
  | 'below-alpha'
  /** α ≤ PRS < 0.5: the cloud would be better, but the share budget is kept for prompts that gain more. */
  | 'above-alpha'
  /** The cloud was chosen, but this month's money cap would be exceeded. */
  | 'money-cap'
  /** No cloud backend price is known or the cloud share is 0. */
  | 'no-cloud';

export interface RouteDecision {
  route: Side;
  reason: RouteReason;
  alpha: number;
  prs: number;
}

export interface MoneyState {
  /** Spent plus reserved this month, in USD. */
  committed: number;
  /** Price of one image on the cloud backend that would be used, in USD. */
  cloudPrice: number;
}

/** Why a route was chosen, in words a user reads. */
export function explainDecision(d: RouteDecision, cloudShare: number): string {
  const prs = d.prs.toFixed(2);
  const alpha = d.alpha.toFixed(2);
  switch (d.reason) {
    case 'edge-predicted-better':
      return `edge predicted at least as good (PRS ${prs} ≥ 0.5)`;
    case 'below-alpha':
      return `cloud gains most here (PRS ${prs} < α ${alpha}, budget ${Math.round(cloudShare * 100)}% cloud)`;
    case 'above-alpha':
      return `cloud slightly better but not enough to spend budget on (PRS ${prs} ≥ α ${alpha})`;
    case 'money-cap':
      return `cloud chosen (PRS ${prs} < α ${alpha}) but the monthly money cap would be exceeded`;
    case 'no-cloud':
      return 'no cloud budget';
  }
}

/** Decides one prompt's route from its PRS, α, and (optionally) this month's money. */
export function decideRoute(prs: number, alpha: number, cloudShare: number, config: PolicyConfig, money?: MoneyState): RouteDecision {
  if (prs >= 0.5) return { route: 'edge', reason: 'edge-predicted-better', alpha, prs };
  if (cloudShare <= 0) return { route: 'edge', reason: 'no-cloud', alpha, prs };
  if (!(prs < alpha)) return { route: 'edge', reason: 'above-alpha', alpha, prs };
  if (config.monthlyCap !== null && money && money.committed + money.cloudPrice > config.monthlyCap + 1e-9) {
    return { route: 'edge', reason: 'money-cap', alpha, prs };
  }
  return { route: 'cloud', reason: 'below-alpha', alpha, prs };
}

/** Routes a batch: α is calibrated on the history plus the batch, then each prompt is decided. */
export function routeBatch(prs: readonly number[], config: PolicyConfig, history: readonly number[] = []): { alpha: number; decisions: RouteDecision[] } {
  const alpha = calibrateAlpha(history.length ? [...history, ...prs] : prs, config.cloudShare);
  return { alpha, decisions: prs.map((p) => decideRoute(p, alpha, config.cloudShare, config)) };
}
