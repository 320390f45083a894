// How RouteT2I writes what it shows, decided once for the editor, the panel's webview and the CLI: token heat as
// numbers (the value a token shows for a metric or the verdict, its bucket of seven, the bucket's words), the
// verdict's words, and numbers (scores, signed impacts, shares, money). Pure: no Node, no `vscode`, no DOM, and no
// import of ours, so every face (and the webview bundle) can take it.

/** Scores by metric id. */
export type Scores = Record<string, number>;

/** What the heat needs of a token: where it is, and its impact per metric on the edge and the cloud's extra gain. */
export interface HeatToken {
  start: number;
  end: number;
  impact: Scores;
  cloudGain: Scores;
}

/** A metric as shown: its id and label. */
export interface MetricName {
  id: string;
  label: string;
}

const MINUS = '\u2212';

/** A score with two decimals ("0.62"); "–" when there is none. */
export function fixed(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** A signed difference with a true minus sign: "+0.05", "−0.12", and zero (after rounding) as "±0.00". */
export function signed(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '–';
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `\u00b1${text}`;
  return value > 0 ? `+${text}` : `${MINUS}${text}`;
}

/** A share as a whole percentage ("31%"); one decimal below 10% where it matters ("2.5%"). */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const p = value * 100;
  const rounded = Math.round(p);
  if (Math.abs(p - rounded) >= 0.05 && Math.abs(p) < 10) return `${p.toFixed(1)}%`;
  return `${rounded}%`;
}

/** Money in USD: "$1.20", "$0.004" (small per-image prices keep a third decimal), "$0.00"; "–" when unknown. */
export function money(value: number | null | undefined, currency = 'USD'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const symbol = currency === 'USD' ? '$' : `${currency} `;
  const abs = Math.abs(value);
  const digits = abs > 0 && abs < 0.1 && Math.abs(abs * 100 - Math.round(abs * 100)) > 1e-9 ? 3 : 2;
  return `${value < 0 ? MINUS : ''}${symbol}${abs.toFixed(digits)}`;
}

/**
 * Two values compared at the precision shown: with two decimals when they differ there, else with as many more as
 * it takes to tell them apart (up to six), so "PRS 0.219 < α 0.221" never reads "0.22 < 0.22".
 */
export function formatVersus(a: number, b: number, digits = 2): [string, string] {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return [fixed(a, digits), fixed(b, digits)];
  let d = digits;
  while (d < 6 && a !== b && a.toFixed(d) === b.toFixed(d)) d++;
  return [a.toFixed(d), b.toFixed(d)];
}

/** The heat metric that shows the edge-vs-cloud verdict instead of one metric. */
export const VERDICT = 'verdict';

/** Seven buckets, from strongly lowering to strongly raising; the middle one is not drawn. */
export const BUCKETS = [
  'strongLower',
  'lower',
  'slightLower',
  'neutral',
  'slightRaise',
  'raise',
  'strongRaise',
] as const;
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
export function heatValue(token: Pick<HeatToken, 'impact' | 'cloudGain'>, metric: string, weights: Scores): number {
  if (metric !== VERDICT) return token.impact[metric] ?? 0;
  let v = 0;
  for (const [m, w] of Object.entries(weights)) v -= w * (token.cloudGain[m] ?? 0);
  return v;
}

/** Bucket index 0…6 of a value, given the three edges (already scaled). */
export function bucketOf(value: number, edges: readonly [number, number, number] | readonly number[]): number {
  if (!Number.isFinite(value)) return NEUTRAL;
  const a = Math.abs(value);
  const level = a < edges[0] ? 0 : a < edges[1] ? 1 : a < edges[2] ? 2 : 3;
  return value < 0 ? NEUTRAL - level : NEUTRAL + level;
}

export function bucketEdges(metric: string, scale: number): [number, number, number] {
  const base = metric === VERDICT ? THRESHOLDS.verdict : THRESHOLDS.metric;
  return [base[0] * scale, base[1] * scale, base[2] * scale];
}

/** The bucket a value falls in for a metric, with the edges scaled (`routet2i.heat.scale` × the predictor's factor). */
export function bucketFor(value: number, metric: string, scale = 1): Bucket {
  return BUCKETS[bucketOf(value, bucketEdges(metric, scale))]!;
}

/** What a word's heat says, as the hover and the panel read it: "strongly raises the edge's Quality", "favours the cloud". */
export function heatWords(value: number, metric: string, metrics: readonly MetricName[], scale = 1): string {
  const bucket = bucketFor(value, metric, scale);
  return metric === VERDICT
    ? VERDICT_WORDS[bucket]
    : `${BUCKET_WORDS[bucket]} the edge's ${metricLabel(metrics, metric)}`;
}

/** Tokens of one prompt grouped by bucket (neutral left out): offsets into the prompt. */
export function bucketTokens(
  tokens: readonly HeatToken[],
  metric: string,
  weights: Scores,
  scale: number,
): Array<Array<{ start: number; end: number }>> {
  const edges = bucketEdges(metric, scale);
  const out: Array<Array<{ start: number; end: number }>> = BUCKETS.map(() => []);
  for (const t of tokens) {
    const b = bucketOf(heatValue(t, metric, weights), edges);
    if (b !== NEUTRAL) out[b]!.push({ start: t.start, end: t.end });
  }
  return out;
}

/** Verdict heat in words: + favours the edge (raises PRS), − is where the cloud pulls ahead. */
export const VERDICT_WORDS: Record<Bucket, string> = {
  strongLower: 'strongly favours the cloud',
  lower: 'favours the cloud',
  slightLower: 'slightly favours the cloud',
  neutral: 'hardly moves the verdict',
  slightRaise: 'slightly favours the edge',
  raise: 'favours the edge',
  strongRaise: 'strongly favours the edge',
};

/** A heat metric's label, as the quick pick, hovers, the status item and the panel say it. */
export function metricLabel(metrics: readonly MetricName[], id: string): string {
  if (id === VERDICT) return 'Verdict (edge vs cloud)';
  return metrics.find((m) => m.id === id)?.label ?? id;
}
