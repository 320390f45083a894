import { RouteT2IError } from './errors';
import { metricSuperiority, type Normalisation } from './prs';
import { formatVersus } from '../shared/presentation';
import type { Scores, Side } from './types';

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
    throw new RouteT2IError(
      'bad-policy',
      `${where}: the cloud share (budget ρ) must be a number from 0 to 1 (got ${JSON.stringify(out.cloudShare)})`,
    );
  }
  if (!(Number.isInteger(out.historySize) && out.historySize >= 1 && out.historySize <= 100_000)) {
    throw new RouteT2IError('bad-policy', `${where}: the history size must be a whole number from 1 to 100000`);
  }
  if (
    out.monthlyCap !== null &&
    !(typeof out.monthlyCap === 'number' && out.monthlyCap >= 0 && Number.isFinite(out.monthlyCap))
  ) {
    throw new RouteT2IError(
      'bad-policy',
      `${where}: the monthly cap must be a non-negative amount in USD, or null for none`,
    );
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
  const [prs, alpha] = formatVersus(d.prs, d.alpha);
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
export function decideRoute(
  prs: number,
  alpha: number,
  cloudShare: number,
  config: PolicyConfig,
  money?: MoneyState,
): RouteDecision {
  if (prs >= 0.5) return { route: 'edge', reason: 'edge-predicted-better', alpha, prs };
  if (cloudShare <= 0) return { route: 'edge', reason: 'no-cloud', alpha, prs };
  if (!(prs < alpha)) return { route: 'edge', reason: 'above-alpha', alpha, prs };
  if (config.monthlyCap !== null && money && money.committed + money.cloudPrice > config.monthlyCap + 1e-9) {
    return { route: 'edge', reason: 'money-cap', alpha, prs };
  }
  return { route: 'cloud', reason: 'below-alpha', alpha, prs };
}

/** Routes a batch: α is calibrated on the history plus the batch, then each prompt is decided. */
export function routeBatch(
  prs: readonly number[],
  config: PolicyConfig,
  history: readonly number[] = [],
): { alpha: number; decisions: RouteDecision[] } {
  const alpha = calibrateAlpha(history.length ? [...history, ...prs] : prs, config.cloudShare);
  return { alpha, decisions: prs.map((p) => decideRoute(p, alpha, config.cloudShare, config)) };
}

/* ---- Generation modes: predict, cascade, hybrid (pure helpers for the dispatcher in src/backends) ---- */

/**
 * `predict`: route before generating (the paper). `cascade`: render on the edge, measure it, escalate to
 * the cloud when it falls short. `hybrid`: cascade only where the prediction is uncertain.
 */
export type GenerationMode = 'predict' | 'cascade' | 'hybrid';
export const GENERATION_MODES: readonly GenerationMode[] = ['predict', 'cascade', 'hybrid'];

/** Which side may stand in when the other fails. `edge`: a failed cloud call falls back to the edge (free). */
export type FallbackPolicy = 'none' | 'edge' | 'cloud' | 'both';
export const FALLBACK_POLICIES: readonly FallbackPolicy[] = ['none', 'edge', 'cloud', 'both'];

/** Used when cascade has neither a threshold nor a prediction to compare the measured edge image with. */
export const DEFAULT_QUALITY_THRESHOLD = 0.5;

/** Hybrid: a prediction is uncertain when its PRS lies within `band` of α. */
export function isUncertain(prs: number, alpha: number, band: number): boolean {
  return Math.abs(prs - alpha) <= band;
}

/** Whether a prompt renders on the edge first and is measured: every prompt in cascade mode, uncertain ones in hybrid. */
export function cascadesFirst(mode: GenerationMode, prs: number | undefined, alpha: number, band: number): boolean {
  return mode === 'cascade' || (mode === 'hybrid' && prs !== undefined && isUncertain(prs, alpha, band));
}

/** Cascade's tally of one period (a month in the ledger, or one batch without a ledger). */
export interface CascadeTally {
  /** Prompts whose edge image was measured. */
  cascaded: number;
  /** Of those, the ones re-rendered on the cloud. */
  escalated: number;
}

/**
 * Cascade's cloud share: with `cascaded` prompts measured so far (the current one included), at most ⌈ρ·n⌉ of them may
 * have escalated. Rounding up lets the first shortfall of a period escalate at any ρ > 0 — the editor generates one
 * prompt at a time, and ⌊ρ·1⌋ = 0 would never escalate — while the period's share stays within ρ + 1/n.
 */
export function mayEscalate(cloudShare: number, tally: CascadeTally): boolean {
  return tally.escalated < Math.ceil(cloudShare * tally.cascaded - 1e-9);
}

/** Escalations still allowed for `more` cascades after `tally`, at most `more` (bounds a plan's cost). */
export function escalationAllowance(cloudShare: number, tally: CascadeTally, more: number): number {
  return Math.max(0, Math.min(more, Math.ceil(cloudShare * (tally.cascaded + more) - 1e-9) - tally.escalated));
}

/** Weighted mean of the metrics present in `scores`, weights renormalised over them; undefined when none is. */
export function weightedQuality(scores: Scores, weights: Scores): number | undefined {
  let total = 0;
  let w = 0;
  for (const [m, wi] of Object.entries(weights)) {
    const v = scores[m];
    if (typeof v === 'number' && Number.isFinite(v) && wi > 0) {
      total += wi * v;
      w += wi;
    }
  }
  if (w > 0) return total / w;
  const vs = Object.values(scores).filter((v) => Number.isFinite(v));
  return vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : undefined;
}

/** PRS over the metrics both vectors have (weights renormalised): measured edge scores against predicted cloud ones. */
export function partialPrs(edge: Scores, cloud: Scores, n: Normalisation): number | undefined {
  let prs = 0;
  let w = 0;
  for (const [m, wi] of Object.entries(n.weights)) {
    const e = edge[m];
    const c = cloud[m];
    if (typeof e !== 'number' || typeof c !== 'number' || !(wi > 0)) continue;
    prs += wi * metricSuperiority(e, c, m, n);
    w += wi;
  }
  return w > 0 ? prs / w : undefined;
}

export interface EscalationVerdict {
  escalate: boolean;
  /** `threshold`: measured quality against a fixed bar; `prs`: measured edge vs. predicted cloud, against α. */
  basis: 'threshold' | 'prs';
  /** The measured value (quality or measured PRS) and the bar it was held to. */
  value: number;
  bar: number;
}

/**
 * Cascade: should a measured edge image be redone on the cloud? With a threshold, when its weighted
 * quality is below it. Without one, when its measured PRS against the cloud's predicted scores is below
 * α — the same rule predict mode applies to predicted scores, now with the edge side measured.
 */
export function decideEscalation(
  measuredEdge: Scores,
  o: {
    threshold: number | null;
    alpha: number;
    weights: Scores;
    predictedCloud?: Scores;
    normalisation?: Normalisation;
  },
): EscalationVerdict | undefined {
  if (o.threshold === null && o.predictedCloud && o.normalisation) {
    const prs = partialPrs(measuredEdge, o.predictedCloud, o.normalisation);
    if (prs !== undefined) return { escalate: prs < o.alpha, basis: 'prs', value: prs, bar: o.alpha };
  }
  const q = weightedQuality(measuredEdge, o.weights);
  if (q === undefined) return undefined;
  const bar = o.threshold ?? DEFAULT_QUALITY_THRESHOLD;
  return { escalate: q < bar, basis: 'threshold', value: q, bar };
}

export function explainEscalation(v: EscalationVerdict): string {
  const value = v.value.toFixed(2);
  const bar = v.bar.toFixed(2);
  if (v.basis === 'prs') {
    return v.escalate
      ? `measured edge image falls short of the predicted cloud (measured PRS ${value} < α ${bar})`
      : `measured edge image good enough (measured PRS ${value} ≥ α ${bar})`;
  }
  return v.escalate
    ? `measured edge quality ${value} below the threshold ${bar}`
    : `measured edge quality ${value} meets the threshold ${bar}`;
}
