// The prompt as a heat strip: the text cut into segments, each token coloured by its predicted impact on the chosen
// metric, as the editor colours it. Pure: segmentation, bucketing and the words a screen reader hears.
import { VERDICT_METRIC, type MetricView, type Scores, type TokenView } from '../../src/extension/panel/protocol';
import { signed } from './format';

/** -2 strongly lowers · -1 lowers · 0 about neutral · 1 raises · 2 strongly raises. */
export type HeatLevel = -2 | -1 | 0 | 1 | 2;

export const HEAT_LEVELS: readonly HeatLevel[] = [-2, -1, 0, 1, 2];

/**
 * Where a token's impact (logit units of the predicted quality) turns mild and strong. A typical key token of the
 * shipped predictor moves a metric by 0.003 to 0.05; weak-token diagnostics start at −0.05, so "strong" starts there.
 */
export const HEAT_THRESHOLDS = { mild: 0.01, strong: 0.05 } as const;

export function heatLevel(value: number, thresholds: { mild: number; strong: number } = HEAT_THRESHOLDS): HeatLevel {
  if (!Number.isFinite(value)) return 0;
  const a = Math.abs(value);
  const size = a >= thresholds.strong ? 2 : a >= thresholds.mild ? 1 : 0;
  return (size === 0 ? 0 : value < 0 ? -size : size) as HeatLevel;
}

/**
 * A token's value for the heat: its impact on one metric's edge quality, or, for the verdict, its pull on PRS:
 * − Σ w·cloudGain (positive favours the edge, negative the cloud).
 */
export function tokenValue(token: TokenView, metric: string, weights: Scores): number {
  if (metric === VERDICT_METRIC) {
    let sum = 0;
    for (const [id, gain] of Object.entries(token.cloudGain)) sum += (weights[id] ?? 0) * gain;
    return sum === 0 ? 0 : -sum;
  }
  return token.impact[metric] ?? 0;
}

export interface HeatSegment {
  text: string;
  start: number;
  end: number;
  /** Index into the prompt's tokens; absent for the text between tokens (spaces, syntax, comments). */
  token?: number;
  value?: number;
  level?: HeatLevel;
}

/**
 * Cuts the prompt into token and gap segments that together spell the prompt exactly. Tokens out of order are sorted;
 * a token that overlaps the previous one or falls outside the prompt is left out (its text stays in a gap).
 */
export function heatSegments(prompt: string, tokens: readonly TokenView[], metric: string, weights: Scores): HeatSegment[] {
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
    segments.push({ text: prompt.slice(token.start, token.end), start: token.start, end: token.end, token: index, value, level: heatLevel(value) });
    at = token.end;
  }
  if (at < prompt.length) segments.push({ text: prompt.slice(at), start: at, end: prompt.length });
  return segments;
}

export function metricLabel(metric: string, metrics: readonly MetricView[]): string {
  if (metric === VERDICT_METRIC) return 'Edge vs cloud';
  return metrics.find((m) => m.id === metric)?.label ?? metric;
}

const STRENGTH: Record<HeatLevel, string> = { [-2]: 'strongly', [-1]: 'slightly', 0: '', 1: 'slightly', 2: 'strongly' };

/** What the heat says about one token, in words: "“weathered” strongly raises Quality (+0.06)". */
export function describeToken(token: TokenView, metric: string, metrics: readonly MetricView[], weights: Scores): string {
  const value = tokenValue(token, metric, weights);
  const level = heatLevel(value);
  const word = `\u201c${token.text}\u201d`;
  if (metric === VERDICT_METRIC) {
    if (level === 0) return `${word} barely moves the edge-vs-cloud verdict (${signed(value)})`;
    return `${word} ${STRENGTH[level]} favours the ${level > 0 ? 'edge' : 'cloud'} (${signed(value)})`;
  }
  const label = metricLabel(metric, metrics);
  if (level === 0) return `${word} barely affects ${label} (${signed(value)})`;
  return `${word} ${STRENGTH[level]} ${level > 0 ? 'raises' : 'lowers'} ${label} (${signed(value)})`;
}

/** The legend's two ends for a metric. */
export function legendEnds(metric: string, metrics: readonly MetricView[]): { low: string; high: string } {
  if (metric === VERDICT_METRIC) return { low: 'favours cloud', high: 'favours edge' };
  const label = metricLabel(metric, metrics);
  return { low: `lowers ${label}`, high: `raises ${label}` };
}

/** The metric the heat shows when the editor's choice is not among this prompt's metrics. */
export function effectiveMetric(metric: string, metrics: readonly MetricView[]): string {
  if (metric === VERDICT_METRIC || metrics.some((m) => m.id === metric)) return metric;
  return VERDICT_METRIC;
}
