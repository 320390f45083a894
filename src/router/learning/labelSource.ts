import { RouteT2IError } from '../errors';
import type { LabelledPair } from '../types';

/**
 * Where a pair's scores come from. Human ratings and a CLIP scorer measure different things on different scales, and
 * two scorers (another CLIP model, other metric texts) differ too: a predictor learns one of them, so a training set
 * never mixes them, and a measured score is compared only with a threshold or predictor of the same source.
 */
export type LabelSource =
  | { kind: 'human'; dataset?: string }
  | { kind: 'scorer'; model: string; metrics?: Array<{ id: string; positive: string; negative: string }> };

/** A canonical string: equal sources, equal keys. Metric order does not matter; unrecorded texts are part of the key. */
export function labelSourceKey(source: LabelSource | undefined): string {
  if (!source) return 'unrecorded';
  if (source.kind === 'human') return `human${source.dataset ? `:${source.dataset}` : ''}`;
  const metrics = source.metrics
    ? [...source.metrics]
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((m) => `${m.id}=${m.positive}|${m.negative}`)
    : ['texts unrecorded'];
  return `scorer:${source.model}:${metrics.join(';')}`;
}

export function sameLabelSource(a: LabelSource | undefined, b: LabelSource | undefined): boolean {
  return labelSourceKey(a) === labelSourceKey(b);
}

/** In words, for errors and the log. */
export function describeLabelSource(source: LabelSource | undefined): string {
  if (!source) return 'labels of unrecorded origin';
  if (source.kind === 'human') return `human ratings${source.dataset ? ` (${source.dataset})` : ''}`;
  const texts = source.metrics
    ? source.metrics.map((m) => `${m.id} "${m.positive}"/"${m.negative}"`).join(', ')
    : 'metric texts unrecorded';
  return `CLIP scorer ${source.model} (${texts})`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a recorded source (a pair's `labels` field, a predictor's `training.data.labels`); undefined when absent or malformed. */
export function parseLabelSource(v: unknown): LabelSource | undefined {
  if (!isObject(v)) return undefined;
  if (v.kind === 'human')
    return typeof v.dataset === 'string' ? { kind: 'human', dataset: v.dataset } : { kind: 'human' };
  if (v.kind !== 'scorer' || typeof v.model !== 'string') return undefined;
  if (!Array.isArray(v.metrics)) return { kind: 'scorer', model: v.model };
  const metrics = v.metrics.filter(
    (m): m is { id: string; positive: string; negative: string } =>
      isObject(m) && typeof m.id === 'string' && typeof m.positive === 'string' && typeof m.negative === 'string',
  );
  return {
    kind: 'scorer',
    model: v.model,
    metrics: metrics.map((m) => ({ id: m.id, positive: m.positive, negative: m.negative })),
  };
}

/**
 * A pair's label source: its `labels` field; else a `scoredWith` model (what `collect` writes, texts unrecorded); else
 * unrecorded (the public rated data sets, whose README says how they were rated).
 */
export function labelSourceOfPair(pair: LabelledPair): LabelSource | undefined {
  const recorded = parseLabelSource(pair.labels);
  if (recorded) return recorded;
  if (typeof pair.scoredWith === 'string') return { kind: 'scorer', model: pair.scoredWith };
  return undefined;
}

/** The one label source of a training set; a set that mixes two is refused with an error naming both and where. */
export function singleLabelSource(
  pairs: readonly LabelledPair[],
  where = 'the training pairs',
): LabelSource | undefined {
  if (pairs.length === 0) return undefined;
  const first = labelSourceOfPair(pairs[0]!);
  const key = labelSourceKey(first);
  for (const p of pairs) {
    const s = labelSourceOfPair(p);
    if (labelSourceKey(s) !== key) {
      throw new RouteT2IError(
        'mixed-label-sources',
        `${where} mix ${describeLabelSource(first)} (pair "${pairs[0]!.id}") with ${describeLabelSource(s)} (pair "${p.id}"); a predictor learns one kind of label`,
        'train on the pairs of one label source (one file per source)',
      );
    }
  }
  return first;
}
