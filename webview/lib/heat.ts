// The prompt as a heat strip: the text cut into segments, each word in the same one of seven buckets, with the same
// theme colours and words, as the editor's token heat (src/shared/presentation.ts). Pure: segmentation, bucketing and the words a screen reader hears.
import { bucketFor, heatValue, heatWords, metricLabel, signed, type Bucket } from '../../src/shared/presentation';
import { VERDICT_METRIC, type MetricView, type Scores, type TokenView } from '../../src/shared/panel/protocol';

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
export function heatSegments(
  prompt: string,
  tokens: readonly TokenView[],
  metric: string,
  weights: Scores,
  scale = 1,
): HeatSegment[] {
  const order = tokens
    .map((token, index) => ({ token, index }))
    .filter(({ token }) => token.start >= 0 && token.end <= prompt.length && token.end > token.start)
    .sort((a, b) => a.token.start - b.token.start || a.index - b.index);
  const segments: HeatSegment[] = [];
  let at = 0;
  for (const { token, index } of order) {
    if (token.start < at) continue;
    if (token.start > at) segments.push({ text: prompt.slice(at, token.start), start: at, end: token.start });
    const value = heatValue(token, metric, weights);
    segments.push({
      text: prompt.slice(token.start, token.end),
      start: token.start,
      end: token.end,
      token: index,
      value,
      bucket: bucketFor(value, metric, scale),
    });
    at = token.end;
  }
  if (at < prompt.length) segments.push({ text: prompt.slice(at), start: at, end: prompt.length });
  return segments;
}

/** What the heat says about one word, in the editor's words: "“weathered” strongly raises the edge's Quality (+0.10)". */
export function describeToken(
  token: TokenView,
  metric: string,
  metrics: readonly MetricView[],
  weights: Scores,
  scale = 1,
): string {
  const value = heatValue(token, metric, weights);
  return `\u201c${token.text}\u201d ${heatWords(value, metric, metrics, scale)} (${signed(value)})`;
}

/** The legend's two ends for a metric. */
export function legendEnds(metric: string, metrics: readonly MetricView[]): { low: string; high: string } {
  if (metric === VERDICT_METRIC) return { low: 'favours cloud', high: 'favours edge' };
  const label = metricLabel(metrics, metric);
  return { low: `lowers ${label}`, high: `raises ${label}` };
}

/** The metric the heat shows when the editor's choice is not among this prompt's metrics (as the editor falls back). */
export function effectiveMetric(metric: string, metrics: readonly MetricView[]): string {
  if (metric === VERDICT_METRIC || metrics.some((m) => m.id === metric)) return metric;
  return VERDICT_METRIC;
}
