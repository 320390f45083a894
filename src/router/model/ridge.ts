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

/**
 * Raw (uncentred) sums of a set of rows: they add and subtract, so a training set that is a pool minus a held-out fold
 * costs one pass over the fold instead of one over the pool (inner cross-validation reuses the outer fold's sums).
 * Targets are summed only where present; a missing target is treated as the target's mean (no pull either way).
 */
export interface RidgeSums {
  p: number;
  q: number;
  m: number;
  /** Σx (p). */
  sx: Float64Array;
  /** Σxxᵀ (p × p, full). */
  sxx: Float64Array;
  /** Per target: rows where present, Σy, Σx over those rows (q × p), Σx·y (q × p). */
  ny: Float64Array;
  sy: Float64Array;
  sxPresent: Float64Array;
  sxy: Float64Array;
}

export function ridgeSums(data: RidgeData, rows: readonly number[]): RidgeSums {
  const { p, q } = data;
  const sx = new Float64Array(p);
  const sxx = new Float64Array(p * p);
  const ny = new Float64Array(q);
  const sy = new Float64Array(q);
  const sxPresent = new Float64Array(q * p);
  const sxy = new Float64Array(q * p);
  const nz = new Int32Array(p);
  for (const r of rows) {
    const o = r * p;
    let k = 0;
    for (let j = 0; j < p; j++) {
      const v = data.x[o + j]!;
      if (v !== 0) {
        nz[k++] = j;
        sx[j]! += v;
      }
    }
    // Lower triangle only (mirrored in ridgeStatsFromSums); rows are sparse in the count columns.
    for (let a = 0; a < k; a++) {
      const i = nz[a]!;
      const xi = data.x[o + i]!;
      const base = i * p;
      for (let b = 0; b <= a; b++) {
        const j = nz[b]!;
        sxx[base + j]! += xi * data.x[o + j]!;
      }
    }
    for (let c = 0; c < q; c++) {
      const y = data.y[r * q + c]!;
      if (Number.isNaN(y)) continue;
      ny[c]! += 1;
      sy[c]! += y;
      for (let a = 0; a < k; a++) {
        const j = nz[a]!;
        const v = data.x[o + j]!;
        sxPresent[c * p + j]! += v;
        sxy[c * p + j]! += v * y;
      }
    }
  }
  return { p, q, m: rows.length, sx, sxx, ny, sy, sxPresent, sxy };
}

/** a − b: the sums of a pool without one of its parts. */
export function subtractSums(a: RidgeSums, b: RidgeSums): RidgeSums {
  const minus = (x: Float64Array, y: Float64Array) => x.map((v, i) => v - y[i]!);
  return {
    p: a.p,
    q: a.q,
    m: a.m - b.m,
    sx: minus(a.sx, b.sx),
    sxx: minus(a.sxx, b.sxx),
    ny: minus(a.ny, b.ny),
    sy: minus(a.sy, b.sy),
    sxPresent: minus(a.sxPresent, b.sxPresent),
    sxy: minus(a.sxy, b.sxy),
  };
}

/** Standardised Gram matrix and cross-products from raw sums. */
export function ridgeStatsFromSums(s: RidgeSums): RidgeStats {
  const { p, q, m } = s;
  const mean = new Float64Array(p);
  const sd = new Float64Array(p);
  const ymean = new Float64Array(q);
  const div = Math.max(1, m);
  for (let j = 0; j < p; j++) mean[j] = s.sx[j]! / div;
  for (let j = 0; j < p; j++) {
    const v = s.sxx[j * p + j]! / div - mean[j]! ** 2;
    // A constant column gets sd 1 (its standardised value is 0 everywhere, so its coefficient is 0). The relative
    // tolerance absorbs the rounding left by subtracting sums.
    sd[j] = v > 1e-12 * (1 + mean[j]! ** 2) ? Math.sqrt(v) : 1;
  }
  for (let c = 0; c < q; c++) ymean[c] = s.ny[c]! > 0 ? s.sy[c]! / s.ny[c]! : 0.5;
  const gram = new Float64Array(p * p);
  for (let i = 0; i < p; i++)
    for (let j = 0; j <= i; j++) {
      const g = (s.sxx[i * p + j]! - m * mean[i]! * mean[j]!) / (sd[i]! * sd[j]!);
      gram[i * p + j] = g;
      gram[j * p + i] = g;
    }
  // Σ_present z·(y − ȳ) = (Σ x·y − ȳ Σ x − μ (Σ y − n ȳ)) / sd, and Σ y − n ȳ = 0.
  const xty = new Float64Array(p * q);
  for (let c = 0; c < q; c++)
    for (let j = 0; j < p; j++) xty[j * q + c] = (s.sxy[c * p + j]! - ymean[c]! * s.sxPresent[c * p + j]!) / sd[j]!;
  return { p, q, mean, sd, gram, xty, ymean };
}

export function ridgeStats(data: RidgeData, rows: readonly number[]): RidgeStats {
  return ridgeStatsFromSums(ridgeSums(data, rows));
}

/**
 * Solves ridge for λ with the standardised columns scaled by `columnWeights` (a column weighted w is penalised as
 * λ/w²; 0 drops it).
 */
export function solveRidge(stats: RidgeStats, lambda: number, columnWeights?: ArrayLike<number>): RidgeModel {
  const { p, q } = stats;
  const w = new Float64Array(p).fill(1);
  if (columnWeights) for (let j = 0; j < p; j++) w[j] = Math.max(columnWeights[j]!, 0);
  // A dropped column (weight 0) has coefficient 0: solve only for the others (a dropped word-vector group leaves a
  // system a third the size, about 1/30 of the work).
  const active: number[] = [];
  for (let j = 0; j < p; j++) if (w[j]! > 0) active.push(j);
  const a = active.length;
  const A = new Float64Array(a * a);
  for (let r = 0; r < a; r++) {
    const i = active[r]!;
    for (let c = 0; c < a; c++) {
      const j = active[c]!;
      A[r * a + c] = stats.gram[i * p + j]! * w[i]! * w[j]!;
    }
    A[r * a + r]! += lambda;
  }
  const B = new Float64Array(a * q);
  for (let r = 0; r < a; r++)
    for (let c = 0; c < q; c++) B[r * q + c] = stats.xty[active[r]! * q + c]! * w[active[r]!]!;
  const beta = a > 0 ? choleskySolve(A, B, a, q) : B;
  const coef = new Float64Array(q * p);
  for (let c = 0; c < q; c++) for (let r = 0; r < a; r++) coef[c * p + active[r]!] = beta[r * q + c]! * w[active[r]!]!;
  // Coefficients are on the standardised (unweighted) columns: x enters as (x − mean)/sd.
  return { lambda, mean: stats.mean.slice(), scale: stats.sd.slice(), coef, intercept: stats.ymean.slice() };
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
