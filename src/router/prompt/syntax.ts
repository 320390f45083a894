/**
 * The A1111 / ComfyUI prompt syntax: `(word:1.2)`, `(word)` ×1.1, `[word]` ÷1.1, `\(` escapes,
 * `<lora:name:0.8>` (and other `<kind:name:weight>` extra networks), `BREAK`, `{a|b}` alternatives,
 * `[from:to:when]` editing, and `#` comment lines. Syntax characters are replaced by spaces in a
 * masked copy of the same length, so every word found in it keeps its exact range in the source.
 *
 * One pass, linear in the prompt's length whatever it holds (100,000 nested brackets, a `<` never
 * closed, a line of colons): no regular expression runs over a bracket's contents, a closing bracket
 * finds its opener in O(1), and the colons a bracket holds are found by binary search.
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

/** `:1.2` and `: -0.5 ` after the first colon of a `(…)`: the whole rest of the bracket is the weight. */
const WEIGHT_TAIL = /^:\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$/;
/** The step of `[a:b:10]` / `[a:10]`: the whole rest of the bracket after its last colon. */
const STEP_TAIL = /^:\s*[\d.]+\s*$/;
/** Emphasis is held within e^±20: a thousand nested brackets would otherwise overflow to an infinite weight. */
const MAX_LOG_WEIGHT = 20;
const BREAK_WORD = /BREAK(?![\p{L}\p{N}_])/uy;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
/** Characters a weight or a step may be written with (the regular expressions above decide the rest). */
const NUMBERISH = /[\s\d.+-]/;

const isAsciiLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isWordAscii = (c: number) => isAsciiLetter(c) || (c >= 48 && c <= 57) || c === 95;

/**
 * Where `<kind:name[:weight][:more]>` starting at `i` ends (just past `>`), or -1. The body may not hold
 * `<`, `>` or a line break, so a scan from one `<` never passes the next one: all scans together are linear.
 */
function extraNetworkEnd(prompt: string, i: number): { end: number; kindEnd: number } | undefined {
  const n = prompt.length;
  let j = i + 1;
  const first = prompt.charCodeAt(j);
  if (!(isAsciiLetter(first) || first === 95)) return undefined;
  j++;
  while (j < n && (isWordAscii(prompt.charCodeAt(j)) || prompt[j] === '-')) j++;
  if (prompt[j] !== ':') return undefined;
  const kindEnd = j;
  j++;
  while (j < n && prompt[j] !== '<' && prompt[j] !== '>' && prompt[j] !== '\n') j++;
  if (prompt[j] !== '>') return undefined;
  // The name (up to the next colon) may not be empty.
  if (j === kindEnd + 1 || prompt[kindEnd + 1] === ':') return undefined;
  return { end: j + 1, kindEnd };
}

export function parsePromptSyntax(prompt: string): PromptSyntax {
  const n = prompt.length;
  // 1 where the masked copy has a space instead of the source character.
  const blanked = new Uint8Array(n);
  const blank = (from: number, to: number) => {
    for (let p = from; p < to; p++) if (prompt[p] !== '\n' && prompt[p] !== '\r') blanked[p] = 1;
  };
  // Emphasis as a sum of log-weights over ranges: one difference array (made on first use), one prefix sum.
  let logDelta: Float64Array | undefined;
  const addWeight = (from: number, to: number, w: number) => {
    if (!(w > 0) || to <= from) return;
    logDelta ??= new Float64Array(n + 1);
    logDelta[from]! += Math.log(w);
    logDelta[to]! -= Math.log(w);
  };
  const extraNetworks: ExtraNetwork[] = [];
  const breaks: Array<{ start: number; end: number }> = [];

  // Colons of the source in order, for the brackets' `:weight` and `[a:b:step]` forms.
  const colons: number[] = [];
  for (let p = prompt.indexOf(':'); p >= 0; p = prompt.indexOf(':', p + 1)) colons.push(p);
  /** Index in `colons` of the first colon at or after `offset`. */
  const colonIndex = (offset: number) => {
    let lo = 0;
    let hi = colons.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (colons[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Where the run of number-ish characters after a colon stops (memoised: each colon is scanned once, and a
  // scan stops at the next colon, so all scans together are linear).
  const tailEnds = new Map<number, number>();
  const tailEnd = (colon: number) => {
    let end = tailEnds.get(colon);
    if (end === undefined) {
      end = colon + 1;
      while (end < n && NUMBERISH.test(prompt[end]!)) end++;
      tailEnds.set(colon, end);
    }
    return end;
  };
  /** Whether the bracket closing at `close` is exactly `<colon><tail matching re>`. */
  const tailIs = (colon: number, close: number, re: RegExp) =>
    tailEnd(colon) === close && re.test(prompt.slice(colon, close));

  // Open brackets, and for each kind the positions in `open` of its own brackets: a closing bracket finds its
  // opener in O(1); the brackets of the other kind opened after it are dropped with it, as before.
  const open: Array<{ kind: '(' | '['; at: number }> = [];
  const openOf: Record<'(' | '[', number[]> = { '(': [], '[': [] };

  let lineStart = true;
  let i = 0;
  while (i < n) {
    const c = prompt[i]!;
    if (lineStart) {
      lineStart = false;
      // A line whose first non-blank character is `#` is a comment.
      let j = i;
      while (j < n && (prompt[j] === ' ' || prompt[j] === '\t')) j++;
      if (prompt[j] === '#') {
        let end = j;
        while (end < n && prompt[end] !== '\n' && prompt[end] !== '\r') end++;
        blank(j, end);
        i = end;
        continue;
      }
    }
    if (c === '\n') {
      lineStart = true;
      i++;
      continue;
    }
    if (c === '\\' && i + 1 < n && '()[]{}\\<>:|'.includes(prompt[i + 1]!)) {
      blanked[i] = 1;
      i += 2; // the escaped character stays literal
      continue;
    }
    if (c === '<') {
      const m = extraNetworkEnd(prompt, i);
      if (m) {
        const body = prompt.slice(m.kindEnd + 1, m.end - 1);
        const parts = body.split(':');
        const w = parts[1];
        const weight = w !== undefined && w.trim() !== '' && Number.isFinite(Number(w)) ? Number(w) : 1;
        extraNetworks.push({
          kind: prompt.slice(i + 1, m.kindEnd).toLowerCase(),
          name: parts[0]!.trim(),
          weight,
          start: i,
          end: m.end,
        });
        blank(i, m.end);
        i = m.end;
        continue;
      }
    }
    if (c === 'B') {
      BREAK_WORD.lastIndex = i;
      if (BREAK_WORD.test(prompt) && (i === 0 || !WORD_CHAR.test(prompt[i - 1]!))) {
        breaks.push({ start: i, end: i + 5 });
        blank(i, i + 5);
        i += 5;
        continue;
      }
    }
    if (c === '(' || c === '[') {
      openOf[c].push(open.length);
      open.push({ kind: c, at: i });
      blanked[i] = 1;
    } else if (c === ')' || c === ']') {
      const kind = c === ')' ? '(' : '[';
      const mine = openOf[kind];
      if (mine.length > 0) {
        const k = mine[mine.length - 1]!;
        const { at } = open[k]!;
        while (open.length > k) openOf[open.pop()!.kind].pop();
        blanked[i] = 1;
        const first = colonIndex(at + 1);
        const count = colonIndex(i) - first;
        if (kind === '(') {
          // `(word:1.2)`: the bracket's first colon starts its weight, and nothing but the number follows it.
          const colon = count > 0 ? colons[first]! : -1;
          if (colon >= 0 && tailIs(colon, i, WEIGHT_TAIL)) {
            blank(colon, i);
            addWeight(at + 1, colon, Number(WEIGHT_TAIL.exec(prompt.slice(colon, i))![1]));
          } else addWeight(at + 1, i, 1.1);
        } else if (count === 1 || (count === 2 && tailIs(colons[first + 1]!, i, STEP_TAIL))) {
          // `[from:to:when]` prompt editing: both words stay, the colons and the step number go.
          for (let q = first; q < first + count; q++) blanked[colons[q]!] = 1;
          const last = colons[first + count - 1]!;
          if (tailIs(last, i, STEP_TAIL)) blank(last, i);
        } else addWeight(at + 1, i, 1 / 1.1);
      }
    } else if (c === '{' || c === '}' || c === '|') {
      blanked[i] = 1;
    }
    i++;
  }
  // Brackets left open apply to the end of the prompt, as A1111 does.
  for (const { kind, at } of open) addWeight(at + 1, n, kind === '(' ? 1.1 : 1 / 1.1);

  let weightAt: (offset: number) => number = () => 1;
  if (logDelta) {
    const delta = logDelta;
    const weights = new Float32Array(n);
    let acc = 0;
    for (let p = 0; p < n; p++) {
      acc += delta[p]!;
      weights[p] = Math.exp(Math.max(-MAX_LOG_WEIGHT, Math.min(MAX_LOG_WEIGHT, acc)));
    }
    weightAt = (offset: number) => weights[offset] ?? 1;
  }
  return { masked: maskedText(prompt, blanked), weightAt, extraNetworks, breaks };
}

/** The source with blanked characters replaced by spaces, built from runs (no per-character strings). */
function maskedText(prompt: string, blanked: Uint8Array): string {
  const parts: string[] = [];
  let p = 0;
  const n = prompt.length;
  while (p < n) {
    let q = p;
    const b = blanked[p];
    while (q < n && blanked[q] === b) q++;
    parts.push(b ? ' '.repeat(q - p) : prompt.slice(p, q));
    p = q;
  }
  return parts.join('');
}

/** The prompt as plain text for backends that do not understand the syntax: masked, with whitespace collapsed. */
export function plainPromptText(prompt: string): string {
  return parsePromptSyntax(prompt)
    .masked.replace(/\s+/g, ' ')
    .replace(/\s+([,.;:!?])/g, '$1')
    .trim();
}
