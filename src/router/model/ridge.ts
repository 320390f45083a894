/**
 * The ridge head: a closed-form linear predictor of each side's quality per metric from prompt-level features that
 * are sums over the prompt's words (the rarity-weighted mean of their word vectors, counts of flagged words) plus two
 * length features. Because every word feature is a sum over words, each word's share of the prediction is exact and
 * additive: prediction = intercept + prompt part (length, and the mean of the counts) + Σ_words impact. That share is
 * the heat.
 *
 * Fitting is one p × p solve (p ≈ 115) shared by every target, so training on thousands of pairs takes milliseconds
 * and the ridge strength λ can be chosen by (nested) cross-validation at no real cost.
 */

export type RidgeFeatureKind = 'mean' | 'sum' | 'global' | 'bin';

/** Feature groups: each can be weighted (or dropped) as a whole, a choice made by nested cross-validation. */
export type RidgeGroup = 'length' | 'counts' | 'lexical' | 'numbers' | 'vectors';
export const RIDGE_GROUPS: readonly RidgeGroup[] = ['length', 'counts', 'lexical', 'numbers', 'vectors'];

export interface RidgeFeature {
  name: string;
  kind: RidgeFeatureKind;
  group: RidgeGroup;
  /** The token-feature column it reads (mean, sum, bin). */
  column?: number;
  /** bin: the number values it counts, [lo, hi]. */
  range?: [number, number];
}

/** Token features summed over the prompt's words. */
export const RIDGE_SUM_FEATURES = [
  'count',
  'type:number',
  'number-value',
  'spatial',
  'colour',
  'person',
  'text',
  'quoted',
  'clause-start',
  'and',
  'negated',
] as const;
/** Prompt-level features (not attributed to words). */
export const RIDGE_GLOBAL_FEATURES = ['log-words', 'words/30'] as const;

/** Asked-for numbers, by size: models count 2 far better than 7. */
export const NUMBER_BINS: ReadonlyArray<[number, number]> = [
  [0, 0],
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 4],
  [5, 5],
  [6, 6],
  [7, 7],
  [8, 8],
  [9, 10],
  [11, 20],
  [21, 1e9],
];
const NOT_LEXICAL = new Set<string>([
  'bias',
  'position',
  'length',
  'first-clause',
  'last-clause',
  'number-value',
  ...RIDGE_SUM_FEATURES,
]);

/** The ridge features over an encoder's token features: length, counts of flagged words, the other flags, number bins, the word-vector mean. */
export function ridgeFeatures(tokenFeatures: readonly string[]): RidgeFeature[] {
  const out: RidgeFeature[] = RIDGE_GLOBAL_FEATURES.map((name) => ({
    name,
    kind: 'global' as const,
    group: 'length' as const,
  }));
  for (const name of RIDGE_SUM_FEATURES) {
    const column = tokenFeatures.indexOf(name);
    if (column >= 0) out.push({ name: `sum:${name}`, kind: 'sum', group: 'counts', column });
  }
  tokenFeatures.forEach((name, column) => {
    if (!name.startsWith('vec:') && !NOT_LEXICAL.has(name))
      out.push({ name: `sum:${name}`, kind: 'sum', group: 'lexical', column });
  });
  const value = tokenFeatures.indexOf('number-value');
  if (value >= 0)
    for (const range of NUMBER_BINS)
      out.push({ name: `numbers:${range[0]}-${range[1]}`, kind: 'bin', group: 'numbers', column: value, range });
  tokenFeatures.forEach((name, column) => {
    if (name.startsWith('vec:')) out.push({ name: `mean:${name}`, kind: 'mean', group: 'vectors', column });
  });
  return out;
}

/** The number a `number-value` feature encodes (log(2 + v)/log(102)). */
function decodeNumber(v: number): number {
  return Math.round(Math.exp(v * Math.log(102)) - 2);
}

/** One prompt's ridge features and, per word, its additive part of them (n × p; global columns are 0). */
export interface PromptFeatures {
  x: Float64Array;
  perToken: Float64Array;
  /** Each word's weight in the vector mean (they sum to 1, or are all 0). */
  weight: Float64Array;
  n: number;
}

/** Computes the ridge features of one encoded prompt. `rarityColumn`: the token weight of the vector mean. */
export function promptFeatures(
  features: readonly RidgeFeature[],
  tokenFeatures: Float32Array,
  n: number,
  dim: number,
  rarityColumn: number,
  withTokens = true,
): PromptFeatures {
  const p = features.length;
  const x = new Float64Array(p);
  const perToken = new Float64Array(withTokens ? n * p : 0);
  let weightSum = 0;
  for (let t = 0; t < n; t++) weightSum += rarityColumn >= 0 ? tokenFeatures[t * dim + rarityColumn]! : 1;
  const weight = new Float64Array(n);
  if (weightSum > 0)
    for (let t = 0; t < n; t++)
      weight[t] = (rarityColumn >= 0 ? tokenFeatures[t * dim + rarityColumn]! : 1) / weightSum;
  for (let j = 0; j < p; j++) {
    const f = features[j]!;
    if (f.kind === 'global') {
      x[j] = f.name === 'log-words' ? Math.log1p(n) : n / 30;
      continue;
    }
    const c = f.column!;
    for (let t = 0; t < n; t++) {
      const v = tokenFeatures[t * dim + c]!;
      if (v === 0) continue;
      let share: number;
      if (f.kind === 'sum') share = v;
      else if (f.kind === 'mean') share = weight[t]! * v;
      else {
        const k = decodeNumber(v);
        share = k >= f.range![0] && k <= f.range![1] ? 1 : 0;
        if (share === 0) continue;
      }
      x[j]! += share;
      if (withTokens) perToken[t * p + j] = share;
    }
  }
  return { x, perToken, weight, n };
}

/** A fitted ridge: standardised coefficients per target (side × metric), means and scales of the features. */
export interface RidgeModel {
  lambda: number;
  mean: Float64Array;
  scale: Float64Array;
  /** q × p, row-major. */
  coef: Float64Array;
  /** q. */
  intercept: Float64Array;
}

/** Solves A·X = B for symmetric positive definite A (p × p) and B (p × q) by Cholesky; A and B are overwritten. */
function choleskySolve(A: Float64Array, B: Float64Array, p: number, q: number): Float64Array {
  for (let j = 0; j < p; j++) {
    let d = A[j * p + j]!;
    for (let k = 0; k < j; k++) d -= A[j * p + k]! ** 2;
    d = Math.sqrt(Math.max(d, 1e-12));
    A[j * p + j] = d;
    for (let i = j + 1; i < p; i++) {
      let s = A[i * p + j]!;
      for (let k = 0; k < j; k++) s -= A[i * p + k]! * A[j * p + k]!;
      A[i * p + j] = s / d;
    }
  }
  const X = B;
  for (let c = 0; c < q; c++) {
    for (let i = 0; i < p; i++) {
      let s = X[i * q + c]!;
      for (let k = 0; k < i; k++) s -= A[i * p + k]! * X[k * q + c]!;
      X[i * q + c] = s / A[i * p + i]!;
    }
    for (let i = p - 1; i >= 0; i--) {
      let s = X[i * q + c]!;
      for (let k = i + 1; k < p; k++) s -= A[k * p + i]! * X[k * q + c]!;
      X[i * q + c] = s / A[i * p + i]!;
    }
  }
  return X;
}

/** Sufficient statistics of a training set, so that many λ (and folds) share one pass over the data. */
export interface RidgeData {
  /** m × p features. */
  x: Float64Array;
  /** m × q targets; NaN where absent (filled with the target's mean: no pull either way). */
  y: Float64Array;
  m: number;
  p: number;
  q: number;
}

/** Standardised Gram matrix and cross-products of a training set: every λ and group weighting reuses them. */
export interface RidgeStats {
  p: number;
  q: number;
  mean: Float64Array;
  /** Standard deviation per column (1 for a constant column). */
  sd: Float64Array;
  gram: Float64Array;
  xty: Float64Array;
  ymean: Float64Array;
}

export function ridgeStats(data: RidgeData, rows: readonly number[]): RidgeStats {
  const { p, q } = data;
  const m = rows.length;
  const mean = new Float64Array(p);
  const sd = new Float64Array(p);
  const ymean = new Float64Array(q);
  const ycount = new Float64Array(q);
  for (const r of rows) {
    for (let j = 0; j < p; j++) mean[j]! += data.x[r * p + j]!;
    for (let c = 0; c < q; c++) {
      const v = data.y[r * q + c]!;
      if (!Number.isNaN(v)) {
        ymean[c]! += v;
        ycount[c]! += 1;
      }
    }
  }
  for (let j = 0; j < p; j++) mean[j]! /= Math.max(1, m);
  for (let c = 0; c < q; c++) ymean[c] = ycount[c]! > 0 ? ymean[c]! / ycount[c]! : 0.5;
  for (const r of rows) for (let j = 0; j < p; j++) sd[j]! += (data.x[r * p + j]! - mean[j]!) ** 2;
  // A constant column gets sd 1 (its standardised value is 0 everywhere, so its coefficient is 0).
  for (let j = 0; j < p; j++) sd[j] = Math.sqrt(sd[j]! / Math.max(1, m)) || 1;
  const gram = new Float64Array(p * p);
  const xty = new Float64Array(p * q);
  const z = new Float64Array(p);
  const nz = new Int32Array(p);
  for (const r of rows) {
    let k = 0;
    for (let j = 0; j < p; j++) {
      z[j] = (data.x[r * p + j]! - mean[j]!) / sd[j]!;
      if (z[j] !== 0) nz[k++] = j;
    }
    for (let a = 0; a < k; a++) {
      const i = nz[a]!;
      const zi = z[i]!;
      for (let b = 0; b <= a; b++) gram[i * p + nz[b]!]! += zi * z[nz[b]!]!;
      for (let c = 0; c < q; c++) {
        const v = data.y[r * q + c]!;
        xty[i * q + c]! += zi * ((Number.isNaN(v) ? ymean[c]! : v) - ymean[c]!);
      }
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) gram[j * p + i] = gram[i * p + j]!;
  return { p, q, mean, sd, gram, xty, ymean };
}

/**
 * Solves ridge for λ with the standardised columns scaled by `columnWeights` (a column weighted w is penalised as
 * λ/w²; 0 drops it).
 */
export function solveRidge(stats: RidgeStats, lambda: number, columnWeights?: ArrayLike<number>): RidgeModel {
  const { p, q } = stats;
  const w = new Float64Array(p).fill(1);
  if (columnWeights) for (let j = 0; j < p; j++) w[j] = Math.max(columnWeights[j]!, 1e-6);
  const A = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) A[i * p + j] = stats.gram[i * p + j]! * w[i]! * w[j]!;
  for (let i = 0; i < p; i++) A[i * p + i]! += lambda;
  const B = new Float64Array(p * q);
  for (let i = 0; i < p; i++) for (let c = 0; c < q; c++) B[i * q + c] = stats.xty[i * q + c]! * w[i]!;
  const beta = choleskySolve(A, B, p, q);
  const coef = new Float64Array(q * p);
  for (let c = 0; c < q; c++) for (let j = 0; j < p; j++) coef[c * p + j] = beta[j * q + c]!;
  const scale = new Float64Array(p);
  for (let j = 0; j < p; j++) scale[j] = stats.sd[j]! / w[j]!;
  return { lambda, mean: stats.mean.slice(), scale, coef, intercept: stats.ymean.slice() };
}

/** Fits ridge on rows `rows` of the data for each λ in `lambdas`. */
export function fitRidge(
  data: RidgeData,
  rows: readonly number[],
  lambdas: readonly number[],
  columnWeights?: ArrayLike<number>,
): RidgeModel[] {
  const stats = ridgeStats(data, rows);
  return lambdas.map((lambda) => solveRidge(stats, lambda, columnWeights));
}

/** The model's q outputs for one feature row. */
export function predictRidge(
  model: RidgeModel,
  x: ArrayLike<number>,
  out = new Float64Array(model.intercept.length),
): Float64Array {
  const p = model.mean.length;
  for (let c = 0; c < out.length; c++) {
    let s = model.intercept[c]!;
    for (let j = 0; j < p; j++) s += (model.coef[c * p + j]! * (x[j]! - model.mean[j]!)) / model.scale[j]!;
    out[c] = s;
  }
  return out;
}

/**
 * Each word's additive share of output c: Σ_j coef_cj/scale_j · perToken_tj, with the vector-mean columns centred
 * per word (a word as typical as the training prompts' average reads 0). Returns n values; what they leave (the
 * intercept, the length features and the counts' means) is the prompt part.
 */
export function tokenShares(
  model: RidgeModel,
  features: readonly RidgeFeature[],
  pf: PromptFeatures,
  c: number,
): Float64Array {
  const p = features.length;
  const out = new Float64Array(pf.n);
  for (let t = 0; t < pf.n; t++) {
    let s = 0;
    for (let j = 0; j < p; j++) {
      const f = features[j]!;
      if (f.kind === 'global') continue;
      const share =
        f.kind === 'mean' ? pf.perToken[t * p + j]! - pf.weight[t]! * model.mean[j]! : pf.perToken[t * p + j]!;
      s += (model.coef[c * p + j]! / model.scale[j]!) * share;
    }
    out[t] = s;
  }
  return out;
}
