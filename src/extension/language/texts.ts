// What the editor says about a prompt: CodeLens titles, hover tables, diagnostic messages, quick-fix titles and the
// status bar text. Plain strings (Markdown where a hover wants it); no `vscode` here.
import type { Metric } from '../../router/metrics';
import { PARETO_WORDS } from '../../router/prs';
import type { ParetoRelation, Prediction, Scores, TokenImpact, Truncation } from '../../router/types';
import { fixed, heatValue, heatWords, money, signed } from '../../shared/presentation';
import type { Verdict } from '../verdict/verdict';

export const PARETO_SHORT: Record<ParetoRelation, string> = {
  'cloud-dominates': 'cloud better',
  'edge-dominates': 'edge better',
  incomparable: 'mixed',
  equal: 'tie',
};

/** "edge 0.62 · cloud 0.74 · cloud better, PRS 0.31 → cloud" (and "· cut at 2,000 characters" for a cut prompt) */
export function lensTitle(v: Verdict, truncated?: Truncation): string {
  // A `# route:` line to a side without a backend: Generate refuses it, so the lens says that rather than a route.
  const route = v.refused
    ? `${v.route} (set in file, but no ${v.route} backend)`
    : v.override
      ? `${v.route} (set in file)`
      : v.cascade
        ? 'edge, cloud if short'
        : v.route;
  const cut = truncated ? ` · ${cutNote(truncated)}` : '';
  return `edge ${fixed(v.edge)} · cloud ${fixed(v.cloud)} · ${PARETO_SHORT[v.pareto]}, PRS ${fixed(v.prs)} → ${route}${cut}`;
}

export function lensTooltip(v: Verdict, truncated?: Truncation): string {
  const cut = truncated ? ` Only part of the prompt was analysed: ${truncated.reason}.` : '';
  return `Predicted quality (PRS-weighted): edge ${fixed(v.edge)}, cloud ${fixed(v.cloud)}; ${PARETO_WORDS[v.pareto]}. Route: ${v.route}, ${v.why}.${cut} Click for the panel.`;
}

/** The short note on a prompt the engine cut (Prediction.truncated): "cut at 2,000 characters". */
export function cutNote(truncated: Truncation): string {
  return `cut at ${truncated.at.toLocaleString('en-US')} characters`;
}

/** The diagnostic on the part of a prompt that is not analysed. */
export function truncatedMessage(truncated: Truncation): string {
  return `Only part of this prompt is analysed: ${truncated.reason}.`;
}

/** The hover of one word: its impact per metric, the cloud's advantage, the prompt's estimates, PRS and route. */
export function hoverMarkdown(
  token: TokenImpact,
  prediction: Prediction,
  verdict: Verdict,
  metrics: readonly Metric[],
  weights: Scores,
  heat: { metric: string; scale: number },
): string {
  const value = heatValue(token, heat.metric, weights);
  const what = heatWords(value, heat.metric, metrics, heat.scale);
  const lines = [
    `**${escapeMarkdown(token.text)}** ${what} (heat ${signed(value)})`,
    '',
    row(['metric', 'word impact', 'cloud gain', 'edge', 'cloud']),
    '|:--|--:|--:|--:|--:|',
    ...metrics.map((m) =>
      row([
        escapeMarkdown(m.label),
        signed(token.impact[m.id] ?? 0),
        signed(token.cloudGain[m.id] ?? 0),
        fixed(prediction.edge[m.id] ?? NaN),
        fixed(prediction.cloud[m.id] ?? NaN),
      ]),
    ),
    '',
    `Prompt: edge **${fixed(verdict.edge)}** · cloud **${fixed(verdict.cloud)}** · PRS **${fixed(verdict.prs)}** · ${PARETO_WORDS[verdict.pareto]} → **${verdict.route}** (${escapeMarkdown(verdict.why)})`,
    '',
    ...(prediction.truncated
      ? [`**${cutNote(prediction.truncated)}**: ${escapeMarkdown(prediction.truncated.reason)}.`, '']
      : []),
    "_Word impact: on the edge's predicted quality of the metric (logit units, against an average key word; + raises it). Cloud gain: how much more the word helps the cloud (+ favours the cloud). Edge, cloud: the prompt's predicted quality._",
  ];
  return lines.join('\n');
}

/** A weak token's diagnostic: which metrics it lowers on the edge and what the cloud gains on it. */
export function weakTokenMessage(token: TokenImpact, metrics: readonly Metric[], weights: Scores): string {
  const lowered = metrics
    .filter((m) => (token.impact[m.id] ?? 0) < 0)
    .sort((a, b) => (token.impact[a.id] ?? 0) - (token.impact[b.id] ?? 0))
    .map((m) => `${m.label} ${signed(token.impact[m.id]!)}`);
  let gain = 0;
  for (const m of metrics) gain += (weights[m.id] ?? 0) * (token.cloudGain[m.id] ?? 0);
  const cloud = gain > 0 ? `; the cloud handles it better (${signed(gain)})` : '';
  return `"${token.text}" is a weak word for the edge model: it lowers ${lowered.join(', ') || 'its predicted quality'}${cloud}.`;
}

/** "Remove 'hands' (edge quality 0.61 → 0.66, PRS 0.31 → 0.38)" */
export function removeTitle(word: string, before: Verdict, after: Verdict): string {
  return `Remove "${word}" (edge quality ${fixed(before.edge)} → ${fixed(after.edge)}, PRS ${fixed(before.prs)} → ${fixed(after.prs)})`;
}

export function routeTitle(side: 'cloud' | 'edge', v: Verdict): string {
  const gain =
    side === 'cloud'
      ? `cloud ${fixed(v.cloud)} vs edge ${fixed(v.edge)}`
      : `edge ${fixed(v.edge)} vs cloud ${fixed(v.cloud)}`;
  return `Route this prompt to the ${side} (${gain}, PRS ${fixed(v.prs)})`;
}

export function ignoreTitle(word: string): string {
  return `Ignore "${word}" in this workspace (no more weak-word diagnostics for it)`;
}

/** Status bar text for the prompt at the cursor. */
export function statusText(v: Verdict): string {
  const icon = v.route === 'cloud' ? '$(cloud)' : '$(device-desktop)';
  return `${icon} ${v.cascade ? 'cascade' : v.route} · PRS ${fixed(v.prs)}`;
}

export function budgetText(month: { spent: number; cap: number | null }): string {
  return month.cap === null
    ? `${money(month.spent)} this month`
    : `${money(month.spent)} of ${money(month.cap)} this month`;
}

/**
 * A table row whose cells after the first start with two no-break spaces: a hover draws tables without cell padding,
 * so without them the headers run together ("word impactcloud gain").
 */
function row(cells: string[]): string {
  return `| ${cells.map((c, i) => (i === 0 ? c : `&nbsp;&nbsp;${c}`)).join(' | ')} |`;
}

function escapeMarkdown(text: string): string {
  // Only what would change the rendering inside a table cell or a line of text.
  return text.replace(/[\\`*_[\]|<>]/g, (c) => `\\${c}`);
}
