// The text edits behind the quick fixes, computed on plain strings: removing a word from a prompt (with its emphasis
// group when it was the group's only word, the article before it, a preposition it leaves dangling, and the comma it
// leaves behind), and the `# route:` comment line.
// No `vscode` here; offsets are UTF-16, as in the document.
import type { Side } from '../../router/types';
import type { DocPrompt } from '../prompts/regions';

export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

const BLANK = /[ \t]/;
const OPEN: Record<string, string> = { ')': '(', ']': '[' };

const ARTICLES = new Set(['a', 'an', 'the']);
const PREPOSITIONS = new Set([
  'of',
  'with',
  'in',
  'on',
  'at',
  'for',
  'by',
  'from',
  'to',
  'into',
  'onto',
  'under',
  'over',
  'without',
  'near',
  'behind',
  'beside',
  'between',
  'through',
]);
const LETTER = /\p{L}/u;

/**
 * The range of `prompt` to delete to remove the word at [start, end): the word with the words that would be left
 * pointing at nothing — the article before it ("a portrait"), the preposition that opened its clause when it ended
 * one ("with hands," → ","), the preposition after it when it opened one ("a portrait of an old fisherman" → "an old
 * fisherman") — or the whole `(word:1.2)` / `[word]` group when nothing else is inside it, plus the separator it
 * leaves, so that "a, hands, b" becomes "a, b", "a, hands" becomes "a" and "both hands kneading" becomes "both kneading".
 */
export function removalRange(prompt: string, start: number, end: number): { start: number; end: number } {
  const span = withDanglingWords(prompt, start, end);
  return withSeparators(prompt, span.start, span.end);
}

function withDanglingWords(prompt: string, start: number, end: number): { start: number; end: number } {
  let a = start;
  let b = end;
  // The article goes only with the head of its noun phrase ("a portrait of", "a cat,"), not with an adjective ("the old man").
  const after = wordAfter(prompt, b);
  const article = wordBefore(prompt, a);
  if (article && ARTICLES.has(article.word) && (clauseEndsAt(prompt, b) || (after && PREPOSITIONS.has(after.word))))
    a = article.start;
  if (clauseEndsAt(prompt, b)) {
    const preposition = wordBefore(prompt, a);
    if (preposition && PREPOSITIONS.has(preposition.word)) a = preposition.start;
  } else if (clauseStartsAt(prompt, a)) {
    if (after && PREPOSITIONS.has(after.word)) b = after.end;
  }
  return { start: a, end: b };
}

/** The word (lower-cased) that ends right before `at`, blanks between allowed. */
function wordBefore(prompt: string, at: number): { start: number; word: string } | undefined {
  let i = at;
  while (i > 0 && BLANK.test(prompt[i - 1]!)) i--;
  const end = i;
  while (i > 0 && LETTER.test(prompt[i - 1]!)) i--;
  return i < end ? { start: i, word: prompt.slice(i, end).toLowerCase() } : undefined;
}

/** The word (lower-cased) that starts right after `at`, blanks between allowed. */
function wordAfter(prompt: string, at: number): { end: number; word: string } | undefined {
  let i = at;
  while (i < prompt.length && BLANK.test(prompt[i]!)) i++;
  const start = i;
  while (i < prompt.length && LETTER.test(prompt[i]!)) i++;
  return i > start ? { end: i, word: prompt.slice(start, i).toLowerCase() } : undefined;
}

function clauseEndsAt(prompt: string, at: number): boolean {
  let i = at;
  while (i < prompt.length && BLANK.test(prompt[i]!)) i++;
  return i >= prompt.length || ',.;\n\r'.includes(prompt[i]!);
}

function clauseStartsAt(prompt: string, at: number): boolean {
  let i = at;
  while (i > 0 && BLANK.test(prompt[i - 1]!)) i--;
  return i === 0 || ',\n\r'.includes(prompt[i - 1]!);
}

function withSeparators(prompt: string, start: number, end: number): { start: number; end: number } {
  let a = start;
  let b = end;
  // Grow to the enclosing emphasis group while the group holds nothing but this word (and a weight).
  for (;;) {
    const group = enclosingGroup(prompt, a, b);
    if (!group) break;
    const inside = prompt.slice(group.open + 1, group.close);
    const rest = inside.slice(0, a - group.open - 1) + inside.slice(b - group.open - 1);
    if (!/^\s*(:\s*[+-]?(\d+\.?\d*|\.\d+)\s*)?$/.test(rest)) break;
    a = group.open;
    b = group.close + 1;
  }
  let left = a;
  while (left > 0 && BLANK.test(prompt[left - 1]!)) left--;
  let right = b;
  while (right < prompt.length && BLANK.test(prompt[right]!)) right++;
  const prev = left > 0 ? prompt[left - 1]! : '\n';
  const next = right < prompt.length ? prompt[right]! : '\n';
  const prevIsBreak = prev === ',' || prev === '\n' || prev === '\r';
  if (next === ',' && prevIsBreak) {
    // "a, hands, b" → "a, b"; "hands, b" → "b": the word, its comma and the blanks after it.
    let r = right + 1;
    while (r < prompt.length && BLANK.test(prompt[r]!)) r++;
    return { start: prev === ',' ? a : left, end: r };
  }
  if (prev === ',' && (next === '\n' || next === '\r')) {
    // "a, hands" (at the end of a line) → "a": the comma before it goes too.
    return { start: left - 1, end: right };
  }
  if (
    next === '\n' ||
    next === '\r' ||
    next === ',' ||
    next === '.' ||
    next === ';' ||
    next === ':' ||
    next === ')' ||
    next === ']'
  ) {
    // "in both hands, soft" → "in both, soft": the blanks before the word go with it.
    return { start: prevIsBreak ? a : left, end: b };
  }
  // Between words: "both hands kneading" → "both kneading"; "a, hands kneading" → "a, kneading".
  return { start: a, end: right };
}

/** The `(`…`)` or `[`…`]` group that directly encloses [start, end), if any. */
function enclosingGroup(prompt: string, start: number, end: number): { open: number; close: number } | undefined {
  let depth = 0;
  let open = -1;
  for (let i = start - 1; i >= 0; i--) {
    const c = prompt[i]!;
    if (prompt[i - 1] === '\\') continue;
    if (c === ')' || c === ']') depth++;
    else if (c === '(' || c === '[') {
      if (depth === 0) {
        open = i;
        break;
      }
      depth--;
    } else if (c === '\n') return undefined;
  }
  if (open < 0) return undefined;
  depth = 0;
  for (let i = end; i < prompt.length; i++) {
    const c = prompt[i]!;
    if (prompt[i - 1] === '\\') continue;
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') {
      if (depth === 0) return OPEN[c] === prompt[open] ? { open, close: i } : undefined;
      depth--;
    } else if (c === '\n') return undefined;
  }
  return undefined;
}

/** The prompt with the word at [start, end) removed (what the quick fix predicts before it acts). */
export function removeWord(prompt: string, start: number, end: number): string {
  const r = removalRange(prompt, start, end);
  return prompt.slice(0, r.start) + prompt.slice(r.end);
}

/**
 * The edit that routes a prompt to `side`: replaces an existing `# route:` line above it, or inserts one directly
 * above the prompt's first line, indented like it.
 */
export function routeOverrideEdit(text: string, prompt: DocPrompt, side: Side): TextEdit {
  if (prompt.override) return { start: prompt.override.start, end: prompt.override.end, newText: `# route: ${side}` };
  const lineStart = text.lastIndexOf('\n', prompt.start - 1) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart, prompt.start))![0];
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return { start: lineStart, end: lineStart, newText: `${indent}# route: ${side}${eol}` };
}
