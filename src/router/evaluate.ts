import { RouteT2IError } from './errors';

/**
 * Router evaluation as RouteLLM defines it. Routing the fraction s of prompts to the cloud, cloud-first in
 * a router's order, gives a mean quality Q(s); PGR(s) = (Q(s) − Q_edge)/(Q_cloud − Q_edge) is the share of
 * the edge–cloud gap recovered. APGR is the area under PGR over s ∈ [0, 1], here exact over all n + 1
 * shares (k/n); CPT(50%) is the least cloud share with PGR ≥ 0.5; PGR(50%) is PGR at half the prompts.
 * Tied router scores are routed as a random order would in expectation, so `random` (all tied) has
 * PGR(s) = s exactly and the figures are deterministic.
 */

export interface RouterFigures {
  apgr: number;
  cpt50: number;
  pgr50: number;
}

export interface RoutingCurve extends RouterFigures {
  /** PGR at shares k/n, k = 0..n. */
  pgr: Float64Array;
}

/** `cloudFirst[i]`: higher means prompt i goes to the cloud earlier. */
export function routingCurve(
  cloudFirst: readonly number[],
  edge: readonly number[],
  cloud: readonly number[],
): RoutingCurve {
  const n = cloudFirst.length;
  if (n === 0 || edge.length !== n || cloud.length !== n)
    throw new RouteT2IError('bad-eval', 'evaluation needs one score, edge quality and cloud quality per prompt');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => cloudFirst[b]! - cloudFirst[a]!);
  const gains = new Float64Array(n + 1);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && cloudFirst[order[j]!] === cloudFirst[order[i]!]) j++;
    let sum = 0;
    for (let t = i; t < j; t++) sum += cloud[order[t]!]! - edge[order[t]!]!;
    const mean = sum / (j - i);
    for (let t = i; t < j; t++) gains[t + 1] = gains[t]! + mean;
    i = j;
  }
  const total = gains[n]!;
  if (!(total > 1e-12)) {
    throw new RouteT2IError(
      'no-gap',
      'the cloud is not better than the edge on average in these pairs, so there is no gap to recover (PGR is undefined)',
    );
  }
  const pgr = gains.map((g) => g / total);
  let apgr = 0;
  for (let k = 0; k < n; k++) apgr += (pgr[k]! + pgr[k + 1]!) / 2;
  apgr /= n;
  return { apgr, cpt50: shareReaching(pgr, 0.5), pgr50: valueAt(pgr, 0.5), pgr };
}

export function routerFigures(
  cloudFirst: readonly number[],
  edge: readonly number[],
  cloud: readonly number[],
): RouterFigures {
  const { apgr, cpt50, pgr50 } = routingCurve(cloudFirst, edge, cloud);
  return { apgr, cpt50, pgr50 };
}

/** Linear interpolation of a curve sampled at k/n. */
export function valueAt(curve: Float64Array, share: number): number {
  const n = curve.length - 1;
  const x = share * n;
  const k = Math.min(n - 1, Math.floor(x));
  return curve[k]! + (curve[k + 1]! - curve[k]!) * (x - k);
}

/** Least share at which the curve reaches `level` (interpolated); 1 if it never does. */
export function shareReaching(curve: Float64Array, level: number): number {
  const n = curve.length - 1;
  for (let k = 1; k <= n; k++) {
    if (curve[k]! >= level) {
      const lo = curve[k - 1]!;
      const hi = curve[k]!;
      const f = hi === lo ? 0 : (level - lo) / (hi - lo);
      return (k - 1 + Math.max(0, Math.min(1, f))) / n;
    }
  }
  return 1;
}

/** The curve at `points` evenly spaced shares, for plots. */
export function sampleCurve(curve: Float64Array, points = 21): Array<{ share: number; pgr: number }> {
  return Array.from({ length: points }, (_, i) => {
    const share = i / (points - 1);
    return { share, pgr: valueAt(curve, share) };
  });
}

/** K folds of indices 0..n−1 from a seeded shuffle, sizes differing by at most one. */
export function kFolds(n: number, k: number, shuffle: (xs: number[]) => number[]): number[][] {
  if (!(Number.isInteger(k) && k >= 2))
    throw new RouteT2IError('bad-eval', `--folds must be a whole number of at least 2 (got ${k})`);
  if (n < k) throw new RouteT2IError('bad-eval', `${k}-fold cross-validation needs at least ${k} pairs (got ${n})`);
  const order = shuffle(Array.from({ length: n }, (_, i) => i));
  const folds: number[][] = Array.from({ length: k }, () => []);
  order.forEach((idx, i) => folds[i % k]!.push(idx));
  return folds;
}

/**
 * K folds in which rows sharing a key (the prompt text, where pairs of several model pairs are pooled) always fall in
 * the same fold, so no prompt is both trained on and ranked. Groups are dealt out in a seeded order to the fold with
 * the fewest rows so far. With all keys distinct it is an ordinary K-fold split.
 */
export function groupedFolds(keys: readonly string[], k: number, shuffle: (xs: number[]) => number[]): number[][] {
  const groups = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const list = [...groups.values()];
  if (!(Number.isInteger(k) && k >= 2))
    throw new RouteT2IError('bad-eval', `--folds must be a whole number of at least 2 (got ${k})`);
  if (list.length < k)
    throw new RouteT2IError(
      'bad-eval',
      `${k}-fold cross-validation needs at least ${k} distinct prompts (got ${list.length})`,
    );
  const order = shuffle(list.map((_, i) => i));
  const folds: number[][] = Array.from({ length: k }, () => []);
  for (const gi of order) {
    let smallest = 0;
    for (let f = 1; f < k; f++) if (folds[f]!.length < folds[smallest]!.length) smallest = f;
    folds[smallest]!.push(...list[gi]!);
  }
  return folds;
}
