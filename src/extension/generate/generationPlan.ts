// The pure half of "Generate": which prompts a command covers, the request each backend receives, the file names the
// images get, and how `# route:` overrides and "Generate on edge/cloud" split the prompts into dispatcher runs.
// No `vscode` here.
import { requestFor as requestFromSettings } from '../../generation/request';
import type { GenerationRequest } from '../../backends/types';
import type { Side } from '../../router/types';
import type { DocPrompt } from '../prompts/regions';
import { promptAt, promptsIn } from '../prompts/regions';

export type GenerateScope = 'cursor' | 'selection' | 'file';

/** The prompts a generate command covers: the one at the cursor, those the selections touch, or all of them. */
export function promptsFor(
  scope: GenerateScope,
  prompts: readonly DocPrompt[],
  cursor: number,
  selections: ReadonlyArray<{ start: number; end: number }>,
): DocPrompt[] {
  if (scope === 'file') return [...prompts];
  if (scope === 'selection') {
    const nonEmpty = selections.filter((s) => s.end > s.start);
    if (nonEmpty.length) return promptsIn(prompts, nonEmpty);
  }
  const p = promptAt(prompts, cursor);
  return p ? [p] : [];
}

/** The request for one prompt: its file's or its own settings (front matter) over the extension's defaults. */
export function requestFor(
  p: DocPrompt,
  defaults: { width: number; height: number; steps: number | null },
  where: string,
): GenerationRequest {
  return requestFromSettings(p.entry, p.settings, defaults, where);
}

/** A file stem that names the document, the prompt and the moment, so a second render never overwrites the first. */
export function outputStem(documentName: string, promptId: string, at: Date): string {
  const base =
    documentName
      .replace(/\.[^.]+$/, '')
      .replace(/[^\w.-]+/g, '_')
      .slice(0, 40) || 'prompt';
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
  return `${base}-${promptId}-${stamp}`;
}

/** Prompts grouped by the side they are forced to (`undefined`: the cost policy decides). A command's force wins. */
export function groupByRoute<T extends { prompt: DocPrompt }>(
  items: readonly T[],
  force?: Side,
): Map<Side | undefined, T[]> {
  const groups = new Map<Side | undefined, T[]>();
  for (const item of items) {
    const side = force ?? item.prompt.override?.side;
    const list = groups.get(side) ?? [];
    list.push(item);
    groups.set(side, list);
  }
  return groups;
}
