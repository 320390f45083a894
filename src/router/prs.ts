import type { Metric } from './metrics';
import type { ParetoRelation, Scores } from './types';

/** μ, Γ and w of the PRS formula (DESIGN.md, "Pareto relative superiority"), stored in the predictor file. */
export interface Normalisation {
  /** Mean score per metric of each model over the training data. */
  muEdge: Scores;
  muCloud: Scores;
  /** Temperature Γ > 0. */
  gamma: number;
  /** Metric weights, summing to 1. */
  weights: Scores;
}

/** Below this mean gap a metric's scale is taken as this floor, so a metric where both models tie on average cannot divide by zero. */
const MIN_SCALE = 1e-3;

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** D_i = σ((q_e,i − q_c,i) / (Γ·|μ_e,i − μ_c,i|)): > 0.5 where the edge is predicted to do better on metric i. */
export function metricSuperiority(edge: number, cloud: number, metric: string, n: Normalisation): number {
  const scale = Math.max(MIN_SCALE, Math.abs((n.muEdge[metric] ?? 0) - (n.muCloud[metric] ?? 0)));
  return sigmoid((edge - cloud) / (n.gamma * scale));
}

/** PRS = Σ w_i·D_i. PRS > 0.5: the edge image is expected to be better; < 0.5: the cloud's. */
export function paretoRelativeSuperiority(
  edge: Scores,
  cloud: Scores,
  metrics: readonly Metric[],
  n: Normalisation,
): number {
  let prs = 0;
  for (const m of metrics) prs += (n.weights[m.id] ?? 0) * metricSuperiority(edge[m.id]!, cloud[m.id]!, m.id, n);
  return prs;
}

/** Strict Pareto relation of two score vectors; differences within `tolerance` count as equal. */
export function paretoRelation(
  edge: Scores,
  cloud: Scores,
  metrics: readonly Metric[],
  tolerance = 1e-6,
): ParetoRelation {
  let edgeBetter = false;
  let cloudBetter = false;
  for (const m of metrics) {
    const d = edge[m.id]! - cloud[m.id]!;
    if (d > tolerance) edgeBetter = true;
    else if (d < -tolerance) cloudBetter = true;
  }
  if (edgeBetter && cloudBetter) return 'incomparable';
  if (edgeBetter) return 'edge-dominates';
  if (cloudBetter) return 'cloud-dominates';
  return 'equal';
}

/** Equal weights over the metrics. */
export function uniformWeights(metrics: readonly Metric[]): Scores {
  return Object.fromEntries(metrics.map((m) => [m.id, 1 / metrics.length]));
}

export const PARETO_WORDS: Record<ParetoRelation, string> = {
  'cloud-dominates': 'cloud better on every metric',
  'edge-dominates': 'edge better on every metric',
  incomparable: 'each better on some metrics',
  equal: 'equal',
};
