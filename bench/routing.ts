// The routing section of `npm run bench`: nested cross-validated APGR on the useful GeckoNum and GenAI-Bench pairs,
// APGR when trained on 150 labelled prompts of a pair, and the time and memory of `eval --folds 5` and of training on
// ~5,000 pooled pairs. Reads ../shared/data (skipped when it is absent).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LexicalEncoder } from '../src/router/encoders';
import { routerFigures } from '../src/router/evaluate';
import { Rng } from '../src/router/model/rng';
import { pairMetricIds, pairQuality, parsePairs } from '../src/router/pairs';
import { fitPredictor, prepareData } from '../src/router/training';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATA = path.resolve(ROOT, '..', 'shared', 'data');
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function timed(args: string[]): { seconds: number; maxRssMb: number; stdout: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${args.slice(1, 2).join(' ')} failed: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  return { seconds, maxRssMb: Number(lines[lines.length - 1]) / 1024, stdout: r.stdout };
}

export const usefulFiles = (dir: string, skip: string) =>
  existsSync(path.join(DATA, dir))
    ? readdirSync(path.join(DATA, dir))
        .filter((f) => f.endsWith('.jsonl') && !f.includes(skip))
        .map((f) => path.join(DATA, dir, f))
    : [];

/** 5-fold nested cross-validated APGR per file, by the CLI as a user runs it, with its wall time and memory. */
function crossValidated(files: string[]): Record<string, unknown> {
  const per: Record<string, { apgr: number; length: number; oracle: number; seconds: number; maxRssMb: number }> = {};
  for (const f of files) {
    const r = timed([CLI, 'eval', '--data', f, '--folds', '5', '--json']);
    const j = JSON.parse(r.stdout) as { routers: Record<string, { apgr: number }> };
    per[path.basename(f)] = {
      apgr: round(j.routers.routet2i!.apgr),
      length: round(j.routers.length!.apgr),
      oracle: round(j.routers.oracle!.apgr),
      seconds: round(r.seconds, 1),
      maxRssMb: round(r.maxRssMb, 1),
    };
    log(`${path.basename(f)}: APGR ${per[path.basename(f)]!.apgr} in ${r.seconds.toFixed(1)} s`);
  }
  const values = Object.values(per);
  const mean = (k: 'apgr' | 'length' | 'seconds') =>
    round(values.reduce((s, v) => s + v[k], 0) / Math.max(1, values.length));
  return { meanApgr: mean('apgr'), meanLengthApgr: mean('length'), meanSeconds: mean('seconds'), files: per };
}

/** Trained on 150 random labelled prompts of a pair, routing its other prompts: mean APGR over 3 draws. */
export async function with150(files: string[]): Promise<Record<string, unknown>> {
  const encoder = new LexicalEncoder();
  const per: Record<string, number> = {};
  for (const f of files) {
    const pairs = parsePairs(readFileSync(f, 'utf8'), f);
    const data = await prepareData(pairs, encoder);
    const ids = pairMetricIds(pairs);
    let sum = 0;
    for (let draw = 0; draw < 3; draw++) {
      const order = new Rng(1000 + draw).shuffle(pairs.map((_, i) => i));
      const train = order.slice(0, 150);
      const test = order.slice(150);
      const { predictor } = fitPredictor(data, encoder, { hyperparameters: { seed: 1 + draw } }, train);
      const q = test.map((i) => pairQuality(pairs[i]!, ids)!);
      sum += routerFigures(
        test.map((i) => -predictor.predictEncoded(data.encoded[i]!).prs),
        q.map((x) => x.edge),
        q.map((x) => x.cloud),
      ).apgr;
    }
    per[path.basename(f)] = round(sum / 3);
    log(`${path.basename(f)} with 150 labelled prompts: APGR ${per[path.basename(f)]}`);
  }
  const v = Object.values(per);
  return { meanApgr: round(v.reduce((a, b) => a + b, 0) / Math.max(1, v.length)), files: per };
}

export async function routingBench(): Promise<Record<string, unknown>> {
  const gecko = usefulFiles('geckonum', 'muse_a--muse_b');
  const genai = usefulFiles('genai-bench', 'sdxl-turbo--sdxl.');
  if (gecko.length === 0) return { skipped: `${DATA}/geckonum not found` };
  const out: Record<string, unknown> = {};
  out.geckonum = crossValidated(gecko);
  out.genaiBench = crossValidated(genai);
  out.geckonum150 = await with150(gecko);
  out.train5000 = train5000(gecko);
  out.note =
    'eval: `routet2i eval --data F --folds 5 --json` (ridge head; λ and feature groups chosen inside each fold), wall time and peak RSS including Node start-up; geckonum150: trained on 150 random prompts, routing the rest, mean of 3 draws; train5000: `routet2i train` on the six GeckoNum files pooled';
  return out;
}

/** Training on ~5,000 pairs: the six GeckoNum files pooled (one label source: GeckoNum's human ratings). */
export function train5000(gecko: string[]): Record<string, number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'routet2i-bench-'));
  try {
    const pooled = path.join(dir, 'pooled.jsonl');
    // Ids repeat across the files (each names its prompt): prefix the pair, since a pairs file labels an id once.
    const lines = gecko.flatMap((f) => {
      const pair = path.basename(f).replace(/^pairs-|\.jsonl$/g, '');
      return readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((line) => {
          const o = JSON.parse(line) as { id: string };
          return JSON.stringify({ ...o, id: `${pair}:${o.id}` });
        });
    });
    writeFileSync(pooled, lines.join('\n') + '\n');
    const n = readFileSync(pooled, 'utf8').trim().split('\n').length;
    const r = timed([CLI, 'train', '--data', pooled, '--out', path.join(dir, 'model'), '--json']);
    log(`train on ${n} pooled pairs: ${r.seconds.toFixed(1)} s, ${r.maxRssMb.toFixed(0)} MB`);
    return { pairs: n, seconds: round(r.seconds, 1), maxRssMb: round(r.maxRssMb, 1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
