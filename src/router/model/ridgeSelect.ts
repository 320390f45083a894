import { RouteT2IError } from '../errors';
import { kFolds, routerFigures } from '../evaluate';
import {
  RIDGE_GROUPS,
  ridgeStats,
  solveRidge,
  predictRidge,
  type RidgeData,
  type RidgeFeature,
  type RidgeGroup,
  type RidgeModel,
} from './ridge';
import { Rng } from './rng';

/**
 * Chooses the ridge head's strength λ and which feature groups it uses (and how strongly) by cross-validation on the
 * training rows only: callers that report figures call this inside each outer fold (nested cross-validation), so no
 * choice is ever made on the folds a figure is computed on.
 */

export type GroupWeights = Record<RidgeGroup, number>;

export interface RidgeChoice {
  lambda: number;
  groups: GroupWeights;
}

export const RIDGE_LAMBDAS: readonly number[] = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000];

/**
 * Group weightings tried: length, counts and number sizes always (they cost nothing where prompts hold no numbers); the
 * other word flags in or out; word vectors out, half-weighted (penalised 4×) or in. Six settings × nine λ: a wider
 * search (number sizes in or out too) took twice the time for no better nested APGR on GeckoNum and GenAI-Bench.
 */
export const RIDGE_GROUP_CHOICES: readonly GroupWeights[] = (() => {
  const out: GroupWeights[] = [];
  for (const vectors of [0, 0.5, 1])
    for (const lexical of [0, 1]) out.push({ length: 1, counts: 1, lexical, numbers: 1, vectors });
  return out;
})();

/** Used where there are too few rows to choose (fewer than MIN_ROWS_TO_CHOOSE). */
export const DEFAULT_RIDGE_CHOICE: RidgeChoice = Object.freeze({
  lambda: 300,
  groups: { length: 1, counts: 1, lexical: 1, numbers: 1, vectors: 1 },
});
export const MIN_ROWS_TO_CHOOSE = 20;
export const INNER_FOLDS = 5;

export function columnWeights(features: readonly RidgeFeature[], groups: GroupWeights): Float64Array {
  return Float64Array.from(features.map((f) => groups[f.group] ?? 0));
}

/** How routing ranks a row: the predicted quality gap (cloud − edge), metrics weighted. */
export type RoutingKey = (out: Float64Array) => number;

export interface ChoiceResult {
  choice: RidgeChoice;
  /** Inner cross-validated APGR of the chosen setting. */
  innerApgr: number;
  tried: number;
}

/** Inner K-fold cross-validation over RIDGE_LAMBDAS × RIDGE_GROUP_CHOICES; the best pooled inner APGR wins (ties: the stronger λ). */
export function chooseRidge(
  data: RidgeData,
  rows: readonly number[],
  features: readonly RidgeFeature[],
  key: RoutingKey,
  quality: { edge: ArrayLike<number>; cloud: ArrayLike<number> },
  options: { seed?: number; folds?: number; groupChoices?: readonly GroupWeights[]; lambdas?: readonly number[] } = {},
): ChoiceResult {
  const groupChoices = options.groupChoices ?? RIDGE_GROUP_CHOICES;
  const lambdas = options.lambdas ?? RIDGE_LAMBDAS;
  if (rows.length < MIN_ROWS_TO_CHOOSE) return { choice: DEFAULT_RIDGE_CHOICE, innerApgr: NaN, tried: 0 };
  const k = Math.min(options.folds ?? INNER_FOLDS, rows.length);
  const rng = new Rng((options.seed ?? 1) ^ 0x2545f491);
  const folds = kFolds(rows.length, k, (xs) => rng.shuffle(xs));
  const configs = groupChoices.flatMap((groups) => lambdas.map((lambda) => ({ lambda, groups })));
  const scores = configs.map(() => new Float64Array(rows.length));
  const weights = groupChoices.map((g) => columnWeights(features, g));
  const out = new Float64Array(data.q);
  for (const fold of folds) {
    const held = new Set(fold);
    const train = rows.filter((_, j) => !held.has(j));
    const stats = ridgeStats(data, train);
    configs.forEach((cfg, c) => {
      const model = solveRidge(stats, cfg.lambda, weights[groupChoices.indexOf(cfg.groups)]);
      for (const j of fold)
        scores[c]![j] = key(predictRidge(model, data.x.subarray(rows[j]! * data.p, (rows[j]! + 1) * data.p), out));
    });
  }
  const edge = rows.map((r) => quality.edge[r]!);
  const cloud = rows.map((r) => quality.cloud[r]!);
  let best = -1;
  let bestApgr = -Infinity;
  configs.forEach((_, c) => {
    let apgr: number;
    try {
      apgr = routerFigures(Array.from(scores[c]!), edge, cloud).apgr;
    } catch (e) {
      if (e instanceof RouteT2IError && e.code === 'no-gap') return;
      throw e;
    }
    // Strictly better only: among equals the earlier (simpler groups, then smaller λ) stays; a tiny margin keeps noise from picking.
    if (apgr > bestApgr + 1e-9) {
      bestApgr = apgr;
      best = c;
    }
  });
  if (best < 0) return { choice: DEFAULT_RIDGE_CHOICE, innerApgr: NaN, tried: configs.length };
  return {
    choice: { lambda: configs[best]!.lambda, groups: { ...configs[best]!.groups } },
    innerApgr: bestApgr,
    tried: configs.length,
  };
}

/** Fits the chosen setting on all `rows`. */
export function fitChosen(
  data: RidgeData,
  rows: readonly number[],
  features: readonly RidgeFeature[],
  choice: RidgeChoice,
): RidgeModel {
  return solveRidge(ridgeStats(data, rows), choice.lambda, columnWeights(features, choice.groups));
}

export { RIDGE_GROUPS };
