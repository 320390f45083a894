// Where the prompts are in a document: the whole of a .t2i file, the ```t2i fenced blocks of a Markdown file, or the
// lines of a plain-text file. Offsets are into the document's text, so `document.positionAt` maps them. No `vscode`.
import { RouteT2IError } from '../../router/errors';
import { parsePromptInput, routeOverride, type InputFormat } from '../../router/inputs';

export { routeOverride } from '../../router/inputs';
import type { PromptEntry, PromptSettings, Side } from '../../router/types';

export interface DocPrompt {
  /** The engine's entry; `entry.prompt` is the exact text at [start, end) of the document. */
  entry: PromptEntry;
  start: number;
  end: number;
  /** A `# route: cloud` (or edge) comment line just above the prompt. */
  override?: { side: Side; start: number; end: number };
  /** Front matter settings of the file or block the prompt is in. */
  settings: PromptSettings;
}

export interface DocPrompts {
  prompts: DocPrompt[];
  /** The first problem that stopped a part of the document from being read (bad front matter…). */
  errors: Array<{ message: string; offset: number }>;
}

/** `t2i` for prompt files; `markdown` for ```t2i blocks; `plaintext`: one prompt per line. */
export type DocKind = 't2i' | 'markdown' | 'plaintext';

export function kindOfLanguage(languageId: string): DocKind | undefined {
  if (languageId === 't2i-prompt') return 't2i';
  if (languageId === 'markdown') return 'markdown';
  if (languageId === 'plaintext') return 'plaintext';
  return undefined;
}

export function findPrompts(text: string, kind: DocKind, name: string): DocPrompts {
  if (kind === 'markdown') {
    const out: DocPrompts = { prompts: [], errors: [] };
    let n = 0;
    for (const block of fencedBlocks(text)) {
      const part = parsePart(text.slice(block.start, block.end), 't2i', name, block.start, text);
      for (const p of part.prompts) out.prompts.push({ ...p, entry: { ...p.entry, id: `p${++n}` } });
      // One by one: a spread of an unbounded list can overflow the stack.
      for (const e of part.errors) out.errors.push(e);
    }
    return out;
  }
  return parsePart(text, kind === 't2i' ? 't2i' : 'txt', name, 0, text);
}

function parsePart(part: string, format: InputFormat, name: string, base: number, whole: string): DocPrompts {
  let entries: PromptEntry[];
  try {
    entries = parsePromptInput(part, name, format).entries;
  } catch (error) {
    if (!(error instanceof RouteT2IError)) throw error;
    // Messages read "<file>:<line>: …" or "<file>: …"; the line (1-based) places the problem.
    const rest = error.message.startsWith(name) ? error.message.slice(name.length) : error.message;
    const m = /^:(\d+):\s*/.exec(rest);
    const line = m ? Number(m[1]) - 1 : 0;
    const message = (m ? rest.slice(m[0].length) : rest.replace(/^:\s*/, '')).trim();
    return { prompts: [], errors: [{ message, offset: base + lineOffset(part, line) }] };
  }
  const prompts = entries
    .filter((e) => !e.source.escaped)
    .map((entry): DocPrompt => {
      const start = base + entry.source.start;
      const override = routeOverride(whole, start);
      return {
        entry,
        start,
        end: base + entry.source.end,
        settings: entry.settings,
        ...(override ? { override } : {}),
      };
    });
  return { prompts, errors: [] };
}

function lineOffset(text: string, line: number): number {
  let at = 0;
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return at;
    at = nl + 1;
  }
  return at;
}

const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})[ \t]*(t2i|t2i-prompt)(?:[ \t][^\n]*)?$/;

/** The content ranges of Markdown fenced code blocks tagged `t2i` (or `t2i-prompt`). */
export function fencedBlocks(text: string): Array<{ start: number; end: number }> {
  const blocks: Array<{ start: number; end: number }> = [];
  let at = 0;
  let open: { fence: string; content: number } | undefined;
  while (at <= text.length) {
    const nl = text.indexOf('\n', at);
    const lineEnd = nl < 0 ? text.length : nl;
    const line = text.slice(at, lineEnd).replace(/\r$/, '');
    if (!open) {
      const m = FENCE_OPEN.exec(line);
      if (m) open = { fence: m[2]!, content: nl < 0 ? text.length : nl + 1 };
    } else {
      const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
      if (close && close[1]![0] === open.fence[0] && close[1]!.length >= open.fence.length) {
        blocks.push({ start: open.content, end: at });
        open = undefined;
      }
    }
    if (nl < 0) break;
    at = nl + 1;
  }
  // An unclosed fence runs to the end of the document, as CommonMark says.
  if (open) blocks.push({ start: open.content, end: text.length });
  return blocks;
}

/** The prompt whose range holds `offset` (its end included, so a cursor just after the last word counts). */
export function promptAt(prompts: readonly DocPrompt[], offset: number): DocPrompt | undefined {
  let lo = 0;
  let hi = prompts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = prompts[mid]!;
    if (offset < p.start) hi = mid - 1;
    else if (offset > p.end) lo = mid + 1;
    else return p;
  }
  return undefined;
}

/** Prompts overlapping any of the ranges (document offsets), in order, each once. */
export function promptsIn(
  prompts: readonly DocPrompt[],
  ranges: ReadonlyArray<{ start: number; end: number }>,
): DocPrompt[] {
  const out: DocPrompt[] = [];
  const seen = new Set<DocPrompt>();
  for (const r of ranges) {
    // Prompts are sorted and disjoint: find the first that ends at or after r.start.
    let lo = 0;
    let hi = prompts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prompts[mid]!.end < r.start) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < prompts.length && prompts[i]!.start <= r.end; i++) {
      const p = prompts[i]!;
      if (!seen.has(p)) {
        seen.add(p);
        out.push(p);
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
