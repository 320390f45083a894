// The prompt as a heat strip: the text cut into segments, each word in the same one of seven buckets, with the same
// theme colours and words, as the editor's token heat (src/extension/heat/heatScale.ts and texts.ts, which are pure and
// shared). Pure: segmentation, bucketing and the words a screen reader hears.
import { BUCKET_WORDS, BUCKETS, bucketEdges, bucketOf, heatValue, type Bucket } from '../../src/extension/heat/heatScale';
import { metricLabel as editorMetricLabel, VERDICT_WORDS } from '../../src/extension/language/texts';
import { VERDICT_METRIC, type MetricView, type Scores, type TokenView } from '../../src/extension/panel/protocol';
import { signed } from './format';

export { BUCKETS, type Bucket };

/**
 * A token's value for the heat: its impact on one metric's edge quality, or, for the verdict, its pull on PRS:
 * − Σ w·cloudGain (positive favours the edge, negative the cloud).
 */
export function tokenValue(token: TokenView, metric: string, weights: Scores): number {
  return heatValue(token, metric, weights);
}

/** The bucket of a value, with the editor's edges for the metric times the `routet2i.heat.scale` setting. */
export function heatBucket(value: number, metric: string, scale = 1): Bucket {
  return BUCKETS[bucketOf(value, bucketEdges(metric, scale))]!;
}

export interface HeatSegment {
  text: string;
  start: number;
  end: number;
  /** Index into the prompt's tokens; absent for the text between tokens (spaces, syntax, comments). */
  token?: number;
  value?: number;
  bucket?: Bucket;
}

/**
 * Cuts the prompt into token and gap segments that together spell the prompt exactly. Tokens out of order are sorted;
 * a token that overlaps the previous one or falls outside the prompt is left out (its text stays in a gap).
 */
export function heatSegments(prompt: string, tokens: readonly TokenView[], metric: string, weights: Scores, scale = 1): HeatSegment[] {
  const order = tokens
    .map((token, index) => ({ token, index }))
    .filter(({ token }) => token.start >= 0 && token.end <= prompt.length && token.end > token.start)
    .sort((a, b) => a.token.start - b.token.start || a.index - b.index);
  const segments: HeatSegment[] = [];
  let at = 0;
  for (const { token, index } of order) {
    if (token.start < at) continue;
    if (token.start > at) segments.push({ text: prompt.slice(at, token.start), start: at, end: token.start });
    const value = tokenValue(token, metric, weights);
    segments.push({ text: prompt.slice(token.start, token.end), start: token.start, end: token.end, token: index, value, bucket: heatBucket(value, metric, scale) });
    at = token.end;
  }
  if (at < prompt.length) segments.push({ text: prompt.slice(at), start: at, end: prompt.length });
  return segments;
}

/** A metric's label as the editor's quick pick and hovers say it ("Verdict (edge vs cloud)" for the verdict). */
export function metricLabel(metric: string, metrics: readonly MetricView[]): string {
  return editorMetricLabel(metrics, metric);
}

/** What the heat says about one word, in the editor's words: "“weathered” strongly raises the edge's Quality (+0.10)". */
export function describeToken(token: TokenView, metric: string, metrics: readonly MetricView[], weights: Scores, scale = 1): string {
  const value = tokenValue(token, metric, weights);
  const bucket = heatBucket(value, metric, scale);
  const what = metric === VERDICT_METRIC ? VERDICT_WORDS[bucket] : `${BUCKET_WORDS[bucket]} the edge's ${metricLabel(metric, metrics)}`;
  return `\u201c${token.text}\u201d ${what} (${signed(value)})`;
}

/** The legend's two ends for a metric. */
export function legendEnds(metric: string, metrics: readonly MetricView[]): { low: string; high: string } {
  if (metric === VERDICT_METRIC) return { low: 'favours cloud', high: 'favours edge' };
  const label = metricLabel(metric, metrics);
  return { low: `lowers ${label}`, high: `raises ${label}` };
}

/** The metric the heat shows when the editor's choice is not among this prompt's metrics (as the editor falls back). */
export function effectiveMetric(metric: string, metrics: readonly MetricView[]): string {
  if (metric === VERDICT_METRIC || metrics.some((m) => m.id === metric)) return metric;
  return VERDICT_METRIC;
}
