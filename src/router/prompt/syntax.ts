/**
 * The A1111 / ComfyUI prompt syntax: `(word:1.2)`, `(word)` ×1.1, `[word]` ÷1.1, `\(` escapes,
 * `<lora:name:0.8>` (and other `<kind:name:weight>` extra networks), `BREAK`, `{a|b}` alternatives,
 * `[from:to:when]` editing, and `#` comment lines. Syntax characters are replaced by spaces in a
 * masked copy of the same length, so every word found in it keeps its exact range in the source.
 */

export interface ExtraNetwork {
  kind: string;
  name: string;
  weight: number;
  start: number;
  end: number;
}

export interface PromptSyntax {
  /** The prompt with syntax characters and comment lines blanked: same length as the input. */
  masked: string;
  /** Emphasis weight at each UTF-16 position (1 = none). */
  weightAt(offset: number): number;
  extraNetworks: ExtraNetwork[];
  /** Ranges of `BREAK` keywords. */
  breaks: Array<{ start: number; end: number }>;
}

const EXTRA_NETWORK = /<([A-Za-z_][\w-]*):([^:<>\n]+?)(?::([^:<>\n]*))?(?::[^<>\n]*)?>/y;
const WEIGHT_SUFFIX = /:\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$/;
const BREAK_WORD = /BREAK(?![\p{L}\p{N}_])/uy;

/** Syntax characters that are never words; blanking them keeps offsets. */
function blank(chars: string[], from: number, to: number): void {
  for (let i = from; i < to; i++) if (chars[i] !== '\n' && chars[i] !== '\r') chars[i] = ' ';
}

export function parsePromptSyntax(prompt: string): PromptSyntax {
  const n = prompt.length;
  const chars = prompt.split('');
  // Emphasis as a sum of log-weights over ranges: one difference array, one prefix sum.
  const logDelta = new Float64Array(n + 1);
  const extraNetworks: ExtraNetwork[] = [];
  const breaks: Array<{ start: number; end: number }> = [];
  const stack: Array<{ open: '(' | '['; at: number }> = [];
  const addWeight = (from: number, to: number, w: number) => {
    if (!(w > 0) || to <= from) return;
    logDelta[from]! += Math.log(w);
    logDelta[to]! -= Math.log(w);
  };

  let lineStart = true;
  let i = 0;
  while (i < n) {
    const c = prompt[i]!;
    if (lineStart) {
      // A line whose first non-blank character is `#` is a comment.
      let j = i;
      while (j < n && (prompt[j] === ' ' || prompt[j] === '\t')) j++;
      if (prompt[j] === '#') {
        let end = j;
        while (end < n && prompt[end] !== '\n' && prompt[end] !== '\r') end++;
        blank(chars, j, end);
        i = end;
        lineStart = false;
        continue;
      }
      lineStart = false;
    }
    if (c === '\n') {
      lineStart = true;
      i++;
      continue;
    }
    if (c === '\\' && i + 1 < n && '()[]{}\\<>:|'.includes(prompt[i + 1]!)) {
      chars[i] = ' ';
      i += 2; // the escaped character stays literal
      continue;
    }
    if (c === '<') {
      EXTRA_NETWORK.lastIndex = i;
      const m = EXTRA_NETWORK.exec(prompt);
      if (m) {
        const weight = m[3] !== undefined && m[3].trim() !== '' && Number.isFinite(Number(m[3])) ? Number(m[3]) : 1;
        extraNetworks.push({ kind: m[1]!.toLowerCase(), name: m[2]!.trim(), weight, start: i, end: i + m[0].length });
        blank(chars, i, i + m[0].length);
        i += m[0].length;
        continue;
      }
    }
    if (c === 'B') {
      BREAK_WORD.lastIndex = i;
      const before = i === 0 ? '' : prompt[i - 1]!;
      if (BREAK_WORD.test(prompt) && !/[\p{L}\p{N}_]/u.test(before)) {
        breaks.push({ start: i, end: i + 5 });
        blank(chars, i, i + 5);
        i += 5;
        continue;
      }
    }
    if (c === '(' || c === '[') {
      stack.push({ open: c, at: i });
      chars[i] = ' ';
    } else if (c === ')' || c === ']') {
      const want = c === ')' ? '(' : '[';
      let k = stack.length - 1;
      while (k >= 0 && stack[k]!.open !== want) k--;
      if (k >= 0) {
        const { at } = stack[k]!;
        stack.length = k;
        chars[i] = ' ';
        const inner = prompt.slice(at + 1, i);
        if (want === '(') {
          const m = WEIGHT_SUFFIX.exec(inner);
          if (m && !inner.slice(0, m.index).includes(':')) {
            const colon = at + 1 + m.index;
            blank(chars, colon, i);
            addWeight(at + 1, colon, Number(m[1]));
          } else addWeight(at + 1, i, 1.1);
        } else {
          // `[from:to:when]` prompt editing: both words stay, the colons and the step number go.
          const editing = /^([^:]*):([^:]*)(?::\s*[\d.]+\s*)?$/.exec(inner);
          if (editing) {
            for (let p = at + 1; p < i; p++) if (prompt[p] === ':') chars[p] = ' ';
            // The step number (`[a:b:10]`, `[a:10]`) is syntax, not a word.
            const lastColon = inner.lastIndexOf(':');
            if (/^\s*[\d.]+\s*$/.test(inner.slice(lastColon + 1))) blank(chars, at + 1 + lastColon, i);
          } else addWeight(at + 1, i, 1 / 1.1);
        }
      }
    } else if (c === '{' || c === '}' || c === '|') {
      chars[i] = ' ';
    }
    i++;
  }
  // Brackets left open apply to the end of the prompt, as A1111 does.
  for (const { open, at } of stack) addWeight(at + 1, n, open === '(' ? 1.1 : 1 / 1.1);

  const weights = new Float32Array(n);
  let acc = 0;
  let any = false;
  for (let p = 0; p < n; p++) {
    acc += logDelta[p]!;
    if (acc !== 0) any = true;
    weights[p] = Math.exp(acc);
  }
  return {
    masked: chars.join(''),
    weightAt: any ? (offset: number) => weights[offset] ?? 1 : () => 1,
    extraNetworks,
    breaks,
  };
}

/** The prompt as plain text for backends that do not understand the syntax: masked, with whitespace collapsed. */
export function plainPromptText(prompt: string): string {
  return parsePromptSyntax(prompt).masked.replace(/\s+/g, ' ').replace(/\s+([,.;:!?])/g, '$1').trim();
}
