/**
 * `npm run bench`: every speed and size figure the issues ask for, printed as one JSON object on stdout
 * (progress on stderr). BENCHMARKS.md records a run of it.
 *
 *   npm run bench [-- --only engine,runtime,…]
 *
 * Sections that need ../shared/data (PartiPrompts, AGIQA-3K) say so and skip where it is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readPromptFile } from '../src/router/inputs';
import { defaultModelDir, Predictor } from '../src/router/predictor';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const PARTI = path.resolve(ROOT, '../shared/data/partiprompts/PartiPrompts.tsv');
const AGIQA = path.resolve(ROOT, '../shared/data/agiqa3k/data.csv');

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

function percentile(sorted: number[], p: number): number {
  const x = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(x);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (x - lo);
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** Runs a command under GNU time for its wall time and peak resident memory. */
function timed(args: string[]): { seconds: number; maxRssMb: number; status: number | null; stderr: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const lines = r.stderr.trim().split('\n');
  return { seconds, maxRssMb: Number(lines[lines.length - 1]) / 1024, status: r.status, stderr: r.stderr };
}

async function engineBench(): Promise<Record<string, unknown>> {
  if (!existsSync(PARTI))
    return { skipped: `${PARTI} not found (PartiPrompts live in ../shared/data beside the project)` };
  const { entries } = await readPromptFile(PARTI);
  const predictor = await Predictor.load(defaultModelDir());
  const prompts = entries.map((e) => e.prompt);
  // Warm-up pass (JIT), then timed passes: per-prompt latency of predictSync (tokenise, tag, features, network, impacts).
  for (const p of prompts) predictor.predictSync(p);
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const p of prompts) {
      const t = process.hrtime.bigint();
      predictor.predictSync(p);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  times.sort((a, b) => a - b);
  log(`route latency over ${prompts.length} PartiPrompts: p50 ${times[Math.floor(times.length / 2)]!.toFixed(3)} ms`);
  // End to end: the CLI routing the whole file, start-up included, five runs.
  const runs: Array<{ seconds: number; maxRssMb: number }> = [];
  for (let i = 0; i < 5; i++) {
    const r = timed([CLI, 'route', PARTI, '--json']);
    if (r.status !== 0) throw new Error(`route failed: ${r.stderr}`);
    runs.push(r);
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  const median = runs[2]!;
  log(`route end to end: ${median.seconds.toFixed(3)} s for ${prompts.length} prompts`);
  return {
    prompts: prompts.length,
    latencyMs: {
      p50: round(percentile(times, 50), 4),
      p90: round(percentile(times, 90), 4),
      p99: round(percentile(times, 99), 4),
      max: round(times[times.length - 1]!, 4),
    },
    endToEnd: {
      seconds: round(median.seconds),
      promptsPerSecond: Math.round(prompts.length / median.seconds),
      maxRssMb: round(median.maxRssMb, 1),
      runs: runs.length,
    },
    note: 'latency: Predictor.predictSync per prompt (syntax, words, wink-nlp tagging, features, network, token impacts), one thread; end to end: `routet2i route PartiPrompts.tsv --json` including Node start-up, median of 5',
  };
}

async function trainBench(): Promise<Record<string, unknown>> {
  if (!existsSync(AGIQA))
    return { skipped: `${AGIQA} not found (AGIQA-3K lives in ../shared/data beside the project)` };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'routet2i-bench-'));
  try {
    const pairs = path.join(dir, 'agiqa-pairs.jsonl');
    const { loadAgiqa } = await import('../scripts/agiqa');
    const data = await loadAgiqa(AGIQA);
    writeFileSync(pairs, data.pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const runs: Array<{ seconds: number; maxRssMb: number }> = [];
    for (let i = 0; i < 3; i++) {
      const r = timed([CLI, 'train', '--data', pairs, '--out', path.join(dir, `model${i}`), '--json']);
      if (r.status !== 0) throw new Error(`train failed: ${r.stderr}`);
      runs.push(r);
    }
    runs.sort((a, b) => a.seconds - b.seconds);
    log(`train on ${data.pairs.length} AGIQA-3K pairs: ${runs[1]!.seconds.toFixed(2)} s`);
    return {
      pairs: data.pairs.length,
      wallSeconds: round(runs[1]!.seconds, 2),
      maxRssMb: round(runs[1]!.maxRssMb, 1),
      note: '`routet2i train --data agiqa-pairs.jsonl` (lexical encoder, epochs chosen by a 3-fold validation curve, then a final fit), median of 3, including Node start-up',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Optional sections contributed by other parts of the project, each a module exporting one async function. */
const SECTIONS: Record<string, () => Promise<Record<string, unknown>>> = {
  engine: engineBench,
  train: trainBench,
  runtime: async () => (await import('./runtime')).runtimeBench(),
  hostile: async () => (await import('./hostile')).hostileBench(),
};

async function optional(file: string, fn: string): Promise<(() => Promise<Record<string, unknown>>) | undefined> {
  if (!existsSync(path.join(__dirname, `${file}.ts`))) return undefined;
  const mod = (await import(`./${file}`)) as Record<string, () => Promise<Record<string, unknown>>>;
  return mod[fn];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const e2e = await optional('e2e', 'e2eBench');
  if (e2e) SECTIONS.editor = e2e;
  const heat = await optional('heat', 'heatBench');
  if (heat) SECTIONS.heat = heat;
  const panel = await optional('panel', 'panelBench');
  if (panel) SECTIONS.panel = panel;
  const routing = await optional('routing', 'routingBench');
  if (routing) SECTIONS.routing = routing;
  const gateway = await optional('gateway', 'gatewayBench');
  if (gateway) SECTIONS.gateway = gateway;
  const only = values.only?.split(',').map((s) => s.trim());
  const out: Record<string, unknown> = {
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    date: new Date().toISOString(),
  };
  for (const [name, run] of Object.entries(SECTIONS)) {
    if (only && !only.includes(name)) continue;
    log(`${name}…`);
    try {
      out[name] = await run();
    } catch (e) {
      out[name] = { error: (e as Error).message };
      process.exitCode = 1;
    }
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

void main();
