/**
 * Collecting labelled pairs: render each prompt on the edge and the cloud backend (both at once,
 * same seed and size), score both images with the same metrics, append one pair per prompt.
 * Resumable: ids already in the pairs file are skipped, and a pair is written only when both of
 * its images are scored, so a crash or Ctrl-C loses at most the prompt in flight.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackendError } from '../backends/errors';
import type { Backend, GenerationRequest, GenerationResult } from '../backends/types';
import { CancelledError, RouteT2IError, throwIfAborted } from '../router/errors';
import type { LabelledPair, PromptEntry, Scores, Side } from '../router/types';
import { PairsLog } from '../router/pairsLog';

export type ImageScorer = (image: Uint8Array, prompt: string, options: { name: string; signal?: AbortSignal }) => Promise<Scores>;

export interface CollectOptions {
  entries: readonly PromptEntry[];
  edge: Backend;
  cloud: Backend;
  score: ImageScorer;
  /** Metric ids the scorer yields (a resumed file must have the same). */
  metrics: readonly string[];
  /** Recorded with each pair: which CLIP model measured it. */
  scorerModel: string;
  out: string;
  width: number;
  height: number;
  steps?: number;
  /** Fixed seed for every prompt; default a stable seed per prompt id. */
  seed?: number;
  /** Keep the rendered images here as `<id>.<side>.<ext>`. */
  imagesDir?: string;
  /** Stop before a prompt whose estimated cost would take the spending past this (USD). */
  maxCost?: number;
  signal?: AbortSignal;
  onEvent?: (event: CollectEvent) => void;
  clock?: () => number;
}

export type CollectEvent =
  | { type: 'plan'; total: number; already: number; todo: number; estimatedCost: number; repaired: number }
  | { type: 'start'; index: number; todo: number; id: string }
  | { type: 'pair'; index: number; todo: number; id: string; secondsLeft: number; costLeft: number; spent: number }
  | { type: 'failed'; index: number; todo: number; id: string; message: string };

export interface CollectSummary {
  total: number;
  already: number;
  written: number;
  failed: Array<{ id: string; message: string }>;
  spent: number;
  seconds: number;
  /** Set when the run stopped early: for the money cap, or after repeated failures. */
  stopped?: string;
}

/** Failures that will hit every prompt the same way: stop instead of burning through the list. */
const FATAL = new Set(['auth', 'config', 'unreachable']);
const MAX_FAILURES_IN_A_ROW = 3;

export async function collectPairs(o: CollectOptions): Promise<CollectSummary> {
  const clock = o.clock ?? Date.now;
  const t0 = clock();
  const seen = new Set<string>();
  for (const e of o.entries) {
    if (seen.has(e.id)) throw new RouteT2IError('duplicate-id', `prompt id "${e.id}" appears twice in the prompts file; ids must be unique`);
    seen.add(e.id);
  }
  const { log, existing } = PairsLog.open(o.out);
  try {
    const outName = path.basename(o.out);
    if (existing.metrics && existing.metrics.join(',') !== o.metrics.join(',')) {
      throw new RouteT2IError(
        'pairs-file',
        `${outName} holds pairs scored on metrics ${existing.metrics.join(', ')}, not ${o.metrics.join(', ')}`,
        'use the same --metrics as before, or write to a new --out file',
      );
    }
    for (const e of o.entries) {
      const prompt = existing.done.get(e.id);
      if (prompt !== undefined && prompt !== e.prompt) {
        throw new RouteT2IError('pairs-file', `${outName} has id "${e.id}" for another prompt ("${ellipsis(prompt)}")`, 'the prompts file changed: write to a new --out file');
      }
    }
    const todo = o.entries.filter((e) => !existing.done.has(e.id));
    const requests = new Map(todo.map((e) => [e.id, request(e, o)]));
    const estimate = (e: PromptEntry) => o.edge.estimateCost(requests.get(e.id)!) + o.cloud.estimateCost(requests.get(e.id)!);
    let costLeft = todo.reduce((s, e) => s + estimate(e), 0);
    o.onEvent?.({ type: 'plan', total: o.entries.length, already: o.entries.length - todo.length, todo: todo.length, estimatedCost: costLeft, repaired: existing.repaired });

    const summary: CollectSummary = { total: o.entries.length, already: o.entries.length - todo.length, written: 0, failed: [], spent: 0, seconds: 0 };
    let inARow = 0;
    let busy = 0;
    for (const [i, entry] of todo.entries()) {
      throwIfAborted(o.signal);
      const req = requests.get(entry.id)!;
      const cost = estimate(entry);
      if (o.maxCost !== undefined && summary.spent + cost > o.maxCost + 1e-9) {
        summary.stopped = `the next prompt would take spending past --max-cost $${o.maxCost.toFixed(2)} ($${summary.spent.toFixed(2)} spent)`;
        break;
      }
      o.onEvent?.({ type: 'start', index: i + 1, todo: todo.length, id: entry.id });
      const started = clock();
      try {
        const pair = await renderAndScore(entry, req, o, (spent) => (summary.spent += spent));
        log.append(pair);
        summary.written += 1;
        inARow = 0;
      } catch (e) {
        if (e instanceof CancelledError || o.signal?.aborted) throw e instanceof CancelledError ? e : new CancelledError();
        if (e instanceof BackendError && FATAL.has(e.code)) throw e;
        if (!(e instanceof RouteT2IError)) throw e;
        summary.failed.push({ id: entry.id, message: e.message });
        o.onEvent?.({ type: 'failed', index: i + 1, todo: todo.length, id: entry.id, message: e.message });
        if (++inARow >= MAX_FAILURES_IN_A_ROW) {
          summary.stopped = `${MAX_FAILURES_IN_A_ROW} prompts in a row failed (last: ${e.message})`;
          break;
        }
      } finally {
        busy += clock() - started;
        costLeft -= cost;
      }
      const finished = i + 1;
      const secondsLeft = ((busy / finished) * (todo.length - finished)) / 1000;
      if (inARow === 0) {
        o.onEvent?.({ type: 'pair', index: finished, todo: todo.length, id: entry.id, secondsLeft, costLeft: Math.max(0, costLeft), spent: summary.spent });
      }
    }
    summary.seconds = (clock() - t0) / 1000;
    return summary;
  } finally {
    log.close();
  }
}

function request(e: PromptEntry, o: CollectOptions): GenerationRequest {
  const s = e.settings ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    prompt: e.prompt,
    negative: e.negative,
    width: num(s.width) ?? o.width,
    height: num(s.height) ?? o.height,
    steps: num(s.steps) ?? o.steps,
    seed: num(s.seed) ?? o.seed ?? stableSeed(e.id),
  };
}

/** FNV-1a of the id: the same prompt gets the same seed on both sides and on every run. */
export function stableSeed(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}

async function renderAndScore(entry: PromptEntry, req: GenerationRequest, o: CollectOptions, spend: (usd: number) => void): Promise<LabelledPair> {
  // Both sides at once: they are different machines. Money a side spent counts even if the other failed.
  const settled = await Promise.allSettled([o.edge.generate(req, { signal: o.signal }), o.cloud.generate(req, { signal: o.signal })]);
  for (const s of settled) if (s.status === 'fulfilled') spend(s.value.cost);
  const [edge, cloud] = settled.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  }) as [GenerationResult, GenerationResult];
  throwIfAborted(o.signal);
  if (o.imagesDir) for (const [side, r] of [['edge', edge], ['cloud', cloud]] as const) saveImage(o.imagesDir, entry.id, side, r);
  const edgeScores = await o.score(edge.image, entry.prompt, { name: `${entry.id} (edge image from ${edge.backend})`, signal: o.signal });
  const cloudScores = await o.score(cloud.image, entry.prompt, { name: `${entry.id} (cloud image from ${cloud.backend})`, signal: o.signal });
  const about = (r: GenerationResult) => ({ backend: r.backend, model: r.model, seed: r.seed, cost: r.cost, ms: r.timings.totalMs });
  const pair: LabelledPair = { id: entry.id, prompt: entry.prompt, edge: edgeScores, cloud: cloudScores };
  if (entry.negative) pair.negative = entry.negative;
  pair.generated = { edge: about(edge), cloud: about(cloud), size: `${req.width}x${req.height}`, steps: req.steps };
  pair.scoredWith = o.scorerModel;
  pair.at = new Date().toISOString();
  return pair;
}

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

function saveImage(dir: string, id: string, side: Side, r: GenerationResult): void {
  fs.mkdirSync(dir, { recursive: true });
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_');
  const file = path.join(dir, `${safe}.${side}.${EXT[r.mime] ?? 'img'}`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, r.image);
  fs.renameSync(tmp, file);
}

function ellipsis(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '…' : s;
}
