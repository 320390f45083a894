import { RouteT2IError } from './errors';

/**
 * A quality metric. A `contrast` metric is scored as the two-way softmax of CLIP's
 * similarities to its positive and negative text; an `alignment` metric is the
 * CLIPScore of the image against its own prompt (it has no texts).
 */
export interface Metric {
  id: string;
  label: string;
  kind?: 'contrast' | 'alignment';
  positive?: string;
  negative?: string;
}

/** The paper's ten metrics in CLIP-IQA's short "<x> photo." form, plus prompt alignment. */
export const DEFAULT_METRICS: readonly Metric[] = Object.freeze([
  {
    id: 'definition',
    label: 'Definition',
    kind: 'contrast',
    positive: 'High definition photo.',
    negative: 'Low definition photo.',
  },
  { id: 'detail', label: 'Detail', kind: 'contrast', positive: 'Detailed photo.', negative: 'Blurry photo.' },
  { id: 'clarity', label: 'Clarity', kind: 'contrast', positive: 'Clear photo.', negative: 'Hazy photo.' },
  { id: 'sharpness', label: 'Sharpness', kind: 'contrast', positive: 'Sharp photo.', negative: 'Out of focus photo.' },
  { id: 'harmony', label: 'Harmony', kind: 'contrast', positive: 'Harmonious photo.', negative: 'Discordant photo.' },
  { id: 'realism', label: 'Realism', kind: 'contrast', positive: 'Realistic photo.', negative: 'Artificial photo.' },
  { id: 'color', label: 'Color', kind: 'contrast', positive: 'Colorful photo.', negative: 'Dull photo.' },
  {
    id: 'consistency',
    label: 'Consistency',
    kind: 'contrast',
    positive: 'Consistent photo.',
    negative: 'Inconsistent photo.',
  },
  {
    id: 'layout',
    label: 'Layout',
    kind: 'contrast',
    positive: 'Well composed photo.',
    negative: 'Badly composed photo.',
  },
  { id: 'integrity', label: 'Integrity', kind: 'contrast', positive: 'Complete photo.', negative: 'Fragmented photo.' },
  { id: 'alignment', label: 'Alignment', kind: 'alignment' },
] satisfies Metric[]);

const ID = /^[a-z][a-z0-9_-]{0,39}$/;

/** Checks a metric list read from a file or a setting; `where` names the source in errors. */
export function parseMetrics(value: unknown, where: string): Metric[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RouteT2IError(
      'bad-metrics',
      `${where}: metrics must be a non-empty list of {id, label, positive, negative}`,
    );
  }
  const seen = new Set<string>();
  return value.map((raw, i) => {
    const at = `${where}: metric ${i + 1}`;
    if (typeof raw !== 'object' || raw === null) throw new RouteT2IError('bad-metrics', `${at} is not an object`);
    const m = raw as Record<string, unknown>;
    if (typeof m.id !== 'string' || !ID.test(m.id)) {
      throw new RouteT2IError(
        'bad-metrics',
        `${at}: "id" must be lower-case letters, digits, "-" or "_" (got ${JSON.stringify(m.id)})`,
      );
    }
    if (seen.has(m.id)) throw new RouteT2IError('bad-metrics', `${at}: duplicate id "${m.id}"`);
    seen.add(m.id);
    const kind =
      m.kind === undefined ? (m.positive === undefined && m.negative === undefined ? undefined : 'contrast') : m.kind;
    if (kind !== undefined && kind !== 'contrast' && kind !== 'alignment') {
      throw new RouteT2IError('bad-metrics', `${at}: "kind" must be "contrast" or "alignment"`);
    }
    const label = typeof m.label === 'string' && m.label.trim() !== '' ? m.label : m.id;
    if (kind === 'contrast') {
      for (const key of ['positive', 'negative'] as const) {
        if (typeof m[key] !== 'string' || m[key].trim() === '') {
          throw new RouteT2IError('bad-metrics', `${at} ("${m.id}"): "${key}" text is missing`);
        }
      }
      return { id: m.id, label, kind, positive: m.positive as string, negative: m.negative as string };
    }
    return kind === 'alignment' ? { id: m.id, label, kind } : { id: m.id, label };
  });
}
