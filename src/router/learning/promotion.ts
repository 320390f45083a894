/**
 * When the predictor in use gives way to one retrained on the workspace's own pairs. The rule, deterministic so that a
 * user (and a test) can predict it:
 *
 * 1. Retrain once `every` new measurements of the model pair in use have come in since the last retrain.
 * 2. Split that pair's labelled prompts into `folds` folds with the seeded shuffle of cross-validation (same `seed`).
 *    The candidate is trained on the other folds and ranks each held-out fold; the predictor in use ranks the same
 *    prompts. Both are scored with APGR over the pooled held-out prompts (the same prompts, the same labels).
 * 3. Switch only when the candidate's APGR beats the current one's by at least `margin`.
 *
 * The predictor in use may have been trained on some of these prompts, which favours it: the rule errs on the side of
 * keeping what the user has.
 */
import { RouteT2IError } from '../errors';
import { kFolds, routerFigures } from '../evaluate';
import { Rng } from '../model/rng';
import { pairQuality } from '../pairs';
import type { Predictor } from '../predictor';
import { crossValidate, type FitOptions, type PreparedData } from '../training';
import type { TokenEncoder } from '../types';

export interface PromotionRule {
  /** New measurements of the pair in use that trigger a retrain. */
  every: number;
  /** APGR the candidate must gain over the predictor in use to take over. */
  margin: number;
  folds: number;
  seed: number;
}

/** Documented in docs/calibration.md and the `routet2i.learning.*` settings. */
export const DEFAULT_PROMOTION: PromotionRule = { every: 20, margin: 0.02, folds: 5, seed: 1 };

/** Fewest labelled prompts per fold for a comparison worth making. */
export const MIN_PAIRS_PER_FOLD = 4;

export function retrainDue(measurements: number, atLastRetrain: number, rule: Pick<PromotionRule, 'every'>): boolean {
  return measurements - atLastRetrain >= rule.every;
}

export interface Contender {
  name: string;
  /** APGR over the pooled held-out prompts. */
  apgr: number;
  /** APGR per fold (folds without an edge–cloud gap are left out). */
  perFold: number[];
}

export interface PromotionDecision {
  promote: boolean;
  /** Why, in one sentence with the figures. */
  reason: string;
  candidate: Contender;
  current: Contender;
  gain: number;
  rule: PromotionRule;
  n: number;
}

function quality(data: PreparedData, indices: readonly number[]): { edge: number[]; cloud: number[] } {
  const ids = data.metrics.map((m) => m.id);
  const edge: number[] = [];
  const cloud: number[] = [];
  for (const i of indices) {
    const q = pairQuality(data.pairs[i]!, ids);
    if (!q) throw new RouteT2IError('bad-pairs', `pair "${data.pairs[i]!.id}" has no metric scored on both sides`);
    edge.push(q.edge);
    cloud.push(q.cloud);
  }
  return { edge, cloud };
}

function figures(
  prs: readonly number[],
  data: PreparedData,
  folds: readonly number[][],
): { apgr: number; perFold: number[] } {
  const all = data.pairs.map((_, i) => i);
  const q = quality(data, all);
  const apgr = routerFigures(
    prs.map((p) => -p),
    q.edge,
    q.cloud,
  ).apgr;
  const perFold: number[] = [];
  for (const fold of folds) {
    const fq = quality(data, fold);
    try {
      perFold.push(
        routerFigures(
          fold.map((i) => -prs[i]!),
          fq.edge,
          fq.cloud,
        ).apgr,
      );
    } catch (e) {
      if (!(e instanceof RouteT2IError && e.code === 'no-gap')) throw e;
    }
  }
  return { apgr, perFold };
}

/** Trains the candidate fold by fold, ranks the same held-out prompts with the predictor in use, and decides. */
export async function decidePromotion(
  data: PreparedData,
  encoder: TokenEncoder,
  current: Predictor,
  rule: PromotionRule,
  fit: FitOptions & { onFold?: (fold: number, of: number) => void } = {},
): Promise<PromotionDecision> {
  const n = data.pairs.length;
  if (n < rule.folds * MIN_PAIRS_PER_FOLD) {
    throw new RouteT2IError(
      'too-few-pairs',
      `comparing predictors on ${rule.folds} folds needs at least ${rule.folds * MIN_PAIRS_PER_FOLD} labelled prompts of this pair (there are ${n})`,
      'keep measuring both sides (calibration, cascade, Compare on Both)',
    );
  }
  const cv = await crossValidate(data, encoder, { ...fit, folds: rule.folds, seed: rule.seed });
  // The same folds crossValidate used: the same seeded shuffle.
  const rng = new Rng(rule.seed);
  const folds = kFolds(n, rule.folds, (xs) => rng.shuffle(xs));
  const currentPrs = (
    await current.predict(
      data.pairs.map((p) => p.prompt),
      fit.signal ? { signal: fit.signal } : {},
    )
  ).map((p) => p.prs);
  const candidate: Contender = { name: fit.name ?? 'candidate', ...figures(cv.outOfFoldPrs, data, folds) };
  const now: Contender = { name: current.name, ...figures(currentPrs, data, folds) };
  const gain = candidate.apgr - now.apgr;
  const promote = gain >= rule.margin;
  const f = (x: number) => x.toFixed(3);
  const reason = promote
    ? `the retrained predictor routes ${n} held-out prompts with APGR ${f(candidate.apgr)} against ${f(now.apgr)} for "${now.name}" (+${f(gain)}, at least +${f(rule.margin)} needed)`
    : `"${now.name}" stays: the retrained predictor's APGR is ${f(candidate.apgr)} against ${f(now.apgr)} on the same ${n} prompts (${gain >= 0 ? '+' : ''}${f(gain)}, +${f(rule.margin)} needed)`;
  return { promote, reason, candidate, current: now, gain, rule, n };
}

/** Checks a rule read from settings or a request. */
export function checkPromotionRule(rule: PromotionRule): PromotionRule {
  if (!(Number.isInteger(rule.every) && rule.every >= 1))
    throw new RouteT2IError(
      'bad-setting',
      `the retrain interval must be a whole number of at least 1 (got ${rule.every})`,
    );
  if (!(Number.isFinite(rule.margin) && rule.margin >= 0 && rule.margin < 1))
    throw new RouteT2IError(
      'bad-setting',
      `the switch margin must be an APGR difference from 0 to 1 (got ${rule.margin})`,
    );
  if (!(Number.isInteger(rule.folds) && rule.folds >= 2))
    throw new RouteT2IError('bad-setting', `folds must be a whole number of at least 2 (got ${rule.folds})`);
  return rule;
}
