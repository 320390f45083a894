import { RouteT2IError } from './errors';
import { splitLines } from './text';
import type { LabelledPair, Scores } from './types';

/**
 * Labelled pairs (DESIGN.md): one JSON object per line, `{"id", "prompt", "edge": {metric: score}, "cloud": {…}}`,
 * scores in [0, 1], higher is better. Extra fields are kept.
 */

function scores(value: unknown, where: string, side: string): Scores {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RouteT2IError('bad-pairs', `${where}: "${side}" must be an object of metric scores`);
  const out: Scores = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw new RouteT2IError(
        'bad-pairs',
        `${where}: ${side}.${k} must be a score from 0 to 1 (got ${JSON.stringify(v)})`,
      );
    }
    out[k] = v;
  }
  if (Object.keys(out).length === 0) throw new RouteT2IError('bad-pairs', `${where}: "${side}" has no scores`);
  return out;
}

export function parsePairs(text: string, file: string): LabelledPair[] {
  const pairs: LabelledPair[] = [];
  // A repeated id is one prompt labelled twice (two collect runs on one file): training on both would weigh it double.
  const firstLine = new Map<string, number>();
  const lines = splitLines(text);
  lines.forEach((line, i) => {
    if (line.text.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch (e) {
      const last = i === lines.length - 1 || lines.slice(i + 1).every((l) => l.text.trim() === '');
      throw new RouteT2IError(
        'bad-pairs',
        `${where}: not valid JSON${last ? ' (the file may have been cut off while being written)' : ''}: ${(e as Error).message}`,
      );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new RouteT2IError('bad-pairs', `${where}: each line must be a JSON object`);
    const o = value as Record<string, unknown>;
    if (typeof o.prompt !== 'string') throw new RouteT2IError('bad-pairs', `${where}: "prompt" must be a string`);
    const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : `line${i + 1}`;
    const first = firstLine.get(id);
    if (first !== undefined)
      throw new RouteT2IError(
        'bad-pairs',
        `${where}: id "${id}" repeats line ${first}; each prompt must be labelled once`,
        'remove the repeated lines (keep one measurement per id)',
      );
    firstLine.set(id, i + 1);
    pairs.push({
      ...o,
      id,
      prompt: o.prompt,
      edge: scores(o.edge, where, 'edge'),
      cloud: scores(o.cloud, where, 'cloud'),
    });
  });
  if (pairs.length === 0)
    throw new RouteT2IError(
      'bad-pairs',
      `${file}: no labelled pairs found`,
      'one JSON object per line: {"id", "prompt", "edge": {…}, "cloud": {…}}',
    );
  return pairs;
}

/** Metric ids that appear on both sides of at least one pair, in order of first appearance. */
export function pairMetricIds(pairs: readonly LabelledPair[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of pairs) {
    for (const id of Object.keys(p.edge)) {
      if (id in p.cloud && !seen.has(id)) {
        seen.add(id);
        out.push(id);
      }
    }
  }
  return out;
}

/** Each side's quality for one pair: the (weighted) mean of the metrics present on both sides. */
export function pairQuality(
  pair: LabelledPair,
  metricIds: readonly string[],
  weights?: Scores,
): { edge: number; cloud: number } | undefined {
  let e = 0;
  let c = 0;
  let w = 0;
  for (const id of metricIds) {
    const ev = pair.edge[id];
    const cv = pair.cloud[id];
    if (ev === undefined || cv === undefined) continue;
    const wi = weights ? (weights[id] ?? 0) : 1;
    e += wi * ev;
    c += wi * cv;
    w += wi;
  }
  return w > 0 ? { edge: e / w, cloud: c / w } : undefined;
}
