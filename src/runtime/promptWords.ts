/**
 * The words of a prompt with their exact source ranges and A1111 emphasis weights, and where
 * `BREAK` starts a new 75-token chunk. Syntax characters are never words: `(word:1.2)`, `(word)`
 * (×1.1), `[word]` (÷1.1), `<lora:name:0.8>`, `BREAK`; `\(` is a literal bracket.
 *
 * Interim: the engine's own prompt tokenizer (src/router) is the reference for word ranges; the
 * clip encoder takes its words from there once it is on main, and this module goes.
 */
import type { Token } from '../router/types';

export interface PromptWords {
  tokens: Token[];
  /** Source offsets of `BREAK` keywords, in order. */
  breaks: number[];
  /** Source ranges of text between words that is neither a word nor syntax (commas, full stops…): context for CLIP. */
  context: Array<{ start: number; end: number; text: string }>;
}

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/uy;
const WEIGHT = /:\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*\)/y;
const EXTRA = /<[^<>\n]*>/y;
const BREAK = /BREAK(?![\p{L}\p{N}_])/uy;

export function promptWords(prompt: string): PromptWords {
  const tokens: Token[] = [];
  const breaks: number[] = [];
  const context: PromptWords['context'] = [];
  const stack: Array<{ kind: '(' | '['; from: number }> = [];
  const scale = (from: number, factor: number) => {
    for (let i = from; i < tokens.length; i++) tokens[i]!.weight *= factor;
  };
  let contextStart = -1;
  const flushContext = (end: number) => {
    if (contextStart >= 0) {
      const text = prompt.slice(contextStart, end);
      if (text.trim() !== '') context.push({ start: contextStart, end, text });
    }
    contextStart = -1;
  };
  let i = 0;
  const at = (re: RegExp) => ((re.lastIndex = i), re.exec(prompt));
  while (i < prompt.length) {
    const ch = prompt[i]!;
    let m: RegExpExecArray | null;
    if (ch === '\\' && i + 1 < prompt.length && '()[]'.includes(prompt[i + 1]!)) {
      // an escaped bracket is literal text, CLIP sees it
      if (contextStart < 0) contextStart = i + 1;
      i += 2;
      continue;
    }
    if ((m = at(BREAK)) && (i === 0 || !/[\p{L}\p{N}_]/u.test(prompt[i - 1]!))) {
      flushContext(i);
      breaks.push(i);
      i += m[0].length;
      continue;
    }
    if ((m = at(WORD))) {
      flushContext(i);
      tokens.push({ text: m[0], start: i, end: i + m[0].length, weight: 1 });
      i += m[0].length;
      continue;
    }
    if (ch === '<' && (m = at(EXTRA))) {
      flushContext(i);
      i += m[0].length;
      continue;
    }
    if (ch === '(' || ch === '[') {
      flushContext(i);
      stack.push({ kind: ch, from: tokens.length });
      i += 1;
      continue;
    }
    if (ch === ':' && stack.at(-1)?.kind === '(' && (m = at(WEIGHT))) {
      flushContext(i);
      scale(stack.pop()!.from, Number(m[1]));
      i += m[0].length;
      continue;
    }
    if ((ch === ')' && stack.at(-1)?.kind === '(') || (ch === ']' && stack.at(-1)?.kind === '[')) {
      flushContext(i);
      scale(stack.pop()!.from, ch === ')' ? 1.1 : 1 / 1.1);
      i += 1;
      continue;
    }
    if (/\s/.test(ch)) flushContext(i);
    else if (contextStart < 0) contextStart = i;
    i += 1;
  }
  flushContext(prompt.length);
  // A1111 applies still-open brackets to the rest of the prompt.
  while (stack.length > 0) {
    const open = stack.pop()!;
    scale(open.from, open.kind === '(' ? 1.1 : 1 / 1.1);
  }
  return { tokens, breaks, context };
}
