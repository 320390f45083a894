import { RouteT2IError } from '../errors';
import { groupedFolds, kFolds, routerFigures } from '../evaluate';
import {
  RIDGE_GROUPS,
  ridgeStats,
  ridgeStatsFromSums,
  ridgeSums,
  solveRidge,
  subtractSums,
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
 * Group weightings tried: first the ten counts and the length alone (the simplest model: on GenAI-Bench it alone
 * routes about as well as anything, nested APGR 0.637 over the seven pairs); then length, counts and number sizes
 * always (they cost nothing where prompts hold no numbers), the other word flags in or out, word vectors out,
 * half-weighted (penalised 4×) or in. Seven settings × nine λ. Measured by scripts/experiment-features.ts (nested):
 * adding the counts-only setting lifted GenAI-Bench from 0.626 to 0.641 and left GeckoNum at 0.762; a wider search
 * (number sizes in or out with every other setting) gave 0.620; a bag of hashed words, alone (0.57), as a group (no
 * better) or blended with this model by an inner-chosen weight (no better), did not earn its place.
 */
export const RIDGE_GROUP_CHOICES: readonly GroupWeights[] = (() => {
  const out: GroupWeights[] = [{ length: 1, counts: 1, lexical: 0, numbers: 0, vectors: 0 }];
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
  /** Every setting tried, best inner APGR first. */
  ranking: Array<{ choice: RidgeChoice; apgr: number }>;
}

/**
 * The inner folds over `rows` (positions 0…rows.length − 1): grouped by `groupKeys[row]` where some rows share a key
 * (a prompt pooled from several pair files), plain K-fold otherwise.
 */
export function innerFolds(
  rows: readonly number[],
  k: number,
  seed: number,
  groupKeys?: readonly string[],
): number[][] {
  const rng = new Rng(seed ^ 0x2545f491);
  const keys = groupKeys ? rows.map((r) => groupKeys[r]!) : undefined;
  const distinct = keys ? new Set(keys).size : rows.length;
  return keys && distinct < keys.length && distinct >= k
    ? groupedFolds(keys, k, (xs) => rng.shuffle(xs))
    : kFolds(rows.length, k, (xs) => rng.shuffle(xs));
}

/** Inner K-fold cross-validation over RIDGE_LAMBDAS × RIDGE_GROUP_CHOICES; the best pooled inner APGR wins (ties: the stronger λ). */
export function chooseRidge(
  data: RidgeData,
  rows: readonly number[],
  features: readonly RidgeFeature[],
  key: RoutingKey,
  quality: { edge: ArrayLike<number>; cloud: ArrayLike<number> },
  options: {
    seed?: number;
    folds?: number;
    groupChoices?: readonly GroupWeights[];
    lambdas?: readonly number[];
    /**
     * Per data row, what groups it with others (the prompt text): rows that share a key are held out together, so
     * a pooled file that repeats a prompt never has it on both sides of an inner fold.
     */
    groupKeys?: readonly string[];
    /** Inner cross-validation repeated on this many different splits, APGR averaged (less noise in the choice). */
    repeats?: number;
  } = {},
): ChoiceResult {
  const groupChoices = options.groupChoices ?? RIDGE_GROUP_CHOICES;
  const lambdas = options.lambdas ?? RIDGE_LAMBDAS;
  if (rows.length < MIN_ROWS_TO_CHOOSE) return { choice: DEFAULT_RIDGE_CHOICE, innerApgr: NaN, tried: 0, ranking: [] };
  const k = Math.min(options.folds ?? INNER_FOLDS, rows.length);
  const repeats = Math.max(1, options.repeats ?? 1);
  const configs = groupChoices.flatMap((groups) => lambdas.map((lambda) => ({ lambda, groups })));
  const weights = groupChoices.map((g) => columnWeights(features, g));
  const out = new Float64Array(data.q);
  const edge = rows.map((r) => quality.edge[r]!);
  const cloud = rows.map((r) => quality.cloud[r]!);
  // One pass over all rows, then one per held-out fold: each inner training set is the whole minus its fold.
  const whole = ridgeSums(data, rows);
  const apgrSum = new Float64Array(configs.length);
  const valid = new Uint8Array(configs.length).fill(1);
  for (let rep = 0; rep < repeats; rep++) {
    const folds = innerFolds(rows, k, (options.seed ?? 1) + rep * 1009, options.groupKeys);
    const scores = configs.map(() => new Float64Array(rows.length));
    for (const fold of folds) {
      const stats = ridgeStatsFromSums(
        subtractSums(
          whole,
          ridgeSums(
            data,
            fold.map((j) => rows[j]!),
          ),
        ),
      );
      configs.forEach((cfg, c) => {
        const model = solveRidge(stats, cfg.lambda, weights[groupChoices.indexOf(cfg.groups)]);
        for (const j of fold)
          scores[c]![j] = key(predictRidge(model, data.x.subarray(rows[j]! * data.p, (rows[j]! + 1) * data.p), out));
      });
    }
    configs.forEach((_, c) => {
      try {
        apgrSum[c]! += routerFigures(Array.from(scores[c]!), edge, cloud).apgr;
      } catch (e) {
        if (e instanceof RouteT2IError && e.code === 'no-gap') valid[c] = 0;
        else throw e;
      }
    });
  }
  let best = -1;
  let bestApgr = -Infinity;
  const ranking: Array<{ choice: RidgeChoice; apgr: number }> = [];
  configs.forEach((cfg, c) => {
    if (!valid[c]) return;
    const apgr = apgrSum[c]! / repeats;
    ranking.push({ choice: cfg, apgr });
    // Strictly better only: among equals the earlier (simpler groups, then smaller λ) stays; a tiny margin keeps noise from picking.
    if (apgr > bestApgr + 1e-9) {
      bestApgr = apgr;
      best = c;
    }
  });
  if (best < 0) return { choice: DEFAULT_RIDGE_CHOICE, innerApgr: NaN, tried: configs.length, ranking: [] };
  ranking.sort((a, b) => b.apgr - a.apgr);
  return {
    choice: { lambda: configs[best]!.lambda, groups: { ...configs[best]!.groups } },
    innerApgr: bestApgr,
    tried: configs.length,
    ranking,
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
