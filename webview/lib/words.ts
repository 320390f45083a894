// The sentences the panel says about a prediction: the Pareto relation, the route's reason and the metric gaps.
import type { MetricView, ParetoRelation, Scores, Side } from '../../src/shared/panel/protocol';

/** Metrics within this of each other read as a tie. */
const TIE = 0.005;

function list(labels: string[]): string {
  if (labels.length <= 1) return labels.join('');
  return `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}

/** The strict Pareto relation of the two predicted vectors, in words, naming who wins where. */
export function paretoSentence(
  pareto: ParetoRelation,
  edge: Scores,
  cloud: Scores,
  metrics: readonly MetricView[],
): string {
  const edgeWins: string[] = [];
  const cloudWins: string[] = [];
  for (const m of metrics) {
    const e = edge[m.id];
    const c = cloud[m.id];
    if (e === undefined || c === undefined || Math.abs(e - c) < TIE) continue;
    (e > c ? edgeWins : cloudWins).push(m.label);
  }
  switch (pareto) {
    case 'cloud-dominates':
      return 'The cloud is predicted at least as good on every metric and better on some: it dominates.';
    case 'edge-dominates':
      return 'The edge is predicted at least as good on every metric and better on some: it dominates.';
    case 'equal':
      return 'Edge and cloud are predicted equal on every metric.';
    case 'incomparable':
      if (edgeWins.length && cloudWins.length) {
        return `Neither dominates: the edge is predicted better on ${list(edgeWins)}, the cloud on ${list(cloudWins)}.`;
      }
      return 'Neither dominates: each is predicted better on some metrics.';
  }
}

export const SIDE_LABEL: Record<Side, string> = { edge: 'Edge', cloud: 'Cloud' };

/** The engine's lower-case phrase as a sentence: first letter up, full stop at the end. */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  return `${t[0]!.toUpperCase()}${t.slice(1)}${/[.!?)]$/.test(t) ? '' : '.'}`;
}

/** Which side the PRS favours, in words (PRS > 0.5: edge). */
export function prsVerdict(prs: number): string {
  if (prs > 0.5) return 'edge expected better';
  if (prs < 0.5) return 'cloud expected better';
  return 'no difference expected';
}
