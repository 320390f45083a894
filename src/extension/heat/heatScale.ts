// Token heat as numbers: what value a token shows for the chosen metric (or the verdict), and which of the seven
// buckets it falls in. No `vscode` here; heat.ts turns buckets into decorations.
import type { Scores, TokenImpact } from '../../router/types';

/** The heat metric that shows the edge-vs-cloud verdict instead of one metric. */
export const VERDICT = 'verdict';

/** Seven buckets, from strongly lowering to strongly raising; the middle one is not drawn. */
export const BUCKETS = ['strongLower', 'lower', 'slightLower', 'neutral', 'slightRaise', 'raise', 'strongRaise'] as const;
export type Bucket = (typeof BUCKETS)[number];
export const NEUTRAL = 3;

/** Words for each bucket, as hovers and the legend say them. */
export const BUCKET_WORDS: Record<Bucket, string> = {
  strongLower: 'strongly lowers',
  lower: 'lowers',
  slightLower: 'slightly lowers',
  neutral: 'hardly changes',
  slightRaise: 'slightly raises',
  raise: 'raises',
  strongRaise: 'strongly raises',
};

/**
 * Bucket edges in logit units: |value| below the first is neutral; then slight, moderate, strong. Taken from the shipped
 * predictor's token impacts over examples/*.t2i and the 1,632 PartiPrompts (`npx tsx scripts/heat-thresholds.ts`
 * prints them): the 50th, 80th and 95th percentiles of the non-zero |values|, rounded. So about half of a prompt's key
 * words are coloured, and one in twenty strongly. Per metric, impacts on the edge's predicted quality; for the verdict,
 * the PRS-weighted cloud gain, which runs larger. `routet2i.heat.scale` multiplies them for predictors with other scales.
 */
export const THRESHOLDS = {
  metric: [0.02, 0.05, 0.09],
  verdict: [0.03, 0.07, 0.15],
} as const;

/**
 * How much larger a predictor's token impacts run than the shipped one's: its own 80th percentile of |impact| (stored
 * in model.json at training) over the one THRESHOLDS come from. The editor multiplies `routet2i.heat.scale` by it, so a
 * predictor trained on your own models colours about as many words as the shipped one does. 1 for files without it.
 */
export function modelHeatFactor(heat: { metric: readonly number[] } | undefined): number {
  const p80 = heat?.metric[1];
  if (p80 === undefined || !(p80 > 0)) return 1;
  return Math.min(20, Math.max(0.05, p80 / THRESHOLDS.metric[1]));
}

/**
 * The value a token shows. For a metric: its impact on the edge's predicted quality of that metric (+ raises it). For
 * the verdict: minus its PRS-weighted cloud gain, so + means the word favours the edge (raises PRS) and − means it is
 * where the cloud pulls ahead.
 */
export function heatValue(token: TokenImpact, metric: string, weights: Scores): number {
  if (metric !== VERDICT) return token.impact[metric] ?? 0;
  let v = 0;
  for (const [m, w] of Object.entries(weights)) v -= w * (token.cloudGain[m] ?? 0);
  return v;
}

/** Bucket index 0…6 of a value, given the three edges (already scaled). */
export function bucketOf(value: number, edges: readonly [number, number, number] | readonly number[]): number {
  if (!Number.isFinite(value)) return NEUTRAL;
  const a = Math.abs(value);
  const level = a < edges[0]! ? 0 : a < edges[1]! ? 1 : a < edges[2]! ? 2 : 3;
  return value < 0 ? NEUTRAL - level : NEUTRAL + level;
}

export function bucketEdges(metric: string, scale: number): [number, number, number] {
  const base = metric === VERDICT ? THRESHOLDS.verdict : THRESHOLDS.metric;
  return [base[0] * scale, base[1] * scale, base[2] * scale];
}

/** Tokens of one prompt grouped by bucket (neutral left out): offsets into the prompt. */
export function bucketTokens(tokens: readonly TokenImpact[], metric: string, weights: Scores, scale: number): Array<Array<{ start: number; end: number }>> {
  const edges = bucketEdges(metric, scale);
  const out: Array<Array<{ start: number; end: number }>> = BUCKETS.map(() => []);
  for (const t of tokens) {
    const b = bucketOf(heatValue(t, metric, weights), edges);
    if (b !== NEUTRAL) out[b]!.push({ start: t.start, end: t.end });
  }
  return out;
}
