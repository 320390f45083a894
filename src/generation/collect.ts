/**
 * Collecting labelled pairs: render each prompt on the edge and the cloud backend (both at once,
 * same seed and size), score both images with the same metrics, append one pair per prompt.
 * Resumable: ids already in the pairs file are skipped, and a pair is written only when both of
 * its images are scored, so a crash or Ctrl-C loses at most the prompt in flight. Every call goes
 * through the metered call (the ledger and its monthly cap), and one run at a time writes a pairs
 * file (its lock), so no prompt is paid for twice.
 */
import { writeFileAtomicSync } from '../router/atomicWrite';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackendError } from '../backends/errors';
import type { Backend, GenerationRequest, GenerationResult } from '../backends/types';
import { CancelledError, RouteT2IError, throwIfAborted } from '../router/errors';
import type { LabelledPair, PromptEntry, Scores, Side } from '../router/types';
import { modelId } from '../router/learning/modelPair';
import { PairsLog } from '../router/pairsLog';
import { FileLock } from './fileLock';
import type { Ledger } from './ledger';
import { MoneyCapError, isMetered, meteredGenerate, type MeteredOutcome } from './metered';
import { fileStem } from './output';

export type ImageScorer = (
  image: Uint8Array,
  prompt: string,
  options: { name: string; signal?: AbortSignal },
) => Promise<Scores>;

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
  /** Stop before a prompt whose estimated cost would take this run's booked money past this (USD). */
  maxCost?: number;
  /** The money ledger: required when a side may cost money; its monthly cap stops the run. */
  ledger?: Ledger;
  /** Written with each ledger entry (default "collect"). */
  note?: string;
  /** Things to tell the user that do not stop the run (a booked failure, a settle that failed). */
  onWarning?: (message: string) => void;
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
  /** Money this run booked: every call the providers may have charged, failed ones included. */
  spent: number;
  /** Where each prompt's images went (with --images): the file names are unique per id. */
  images?: Record<string, { edge: string; cloud: string }>;
  seconds: number;
  /** Set when the run stopped early: for the money cap, or after repeated failures. */
  stopped?: string;
}

/** Failures that will hit every prompt the same way: stop instead of burning through the list. */
const FATAL = new Set(['auth', 'billing', 'config', 'unreachable']);
/** Ledger failures: nothing was sent, and every later prompt would meet them too. */
const LEDGER_FATAL = new Set(['ledger-damaged', 'ledger-busy', 'disk-full', 'no-write', 'no-ledger', 'bad-estimate']);
const MAX_FAILURES_IN_A_ROW = 3;

export async function collectPairs(o: CollectOptions): Promise<CollectSummary> {
  const clock = o.clock ?? Date.now;
  const t0 = clock();
  const seen = new Set<string>();
  for (const e of o.entries) {
    if (seen.has(e.id))
      throw new RouteT2IError(
        'duplicate-id',
        `prompt id "${e.id}" appears twice in the prompts file; ids must be unique`,
      );
    seen.add(e.id);
  }
  const first = o.entries[0];
  for (const b of [o.edge, o.cloud]) {
    if (!o.ledger && first && isMetered(b, request(first, o)))
      throw new RouteT2IError('no-ledger', `${b.name}: a paid backend needs the money ledger`);
  }
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  const lock = new FileLock(`${o.out}.lock`);
  let token = await lock.tryTake();
  if (!token && (await lock.breakIfStale(undefined))) token = await lock.tryTake();
  if (!token) {
    const h = await lock.holder();
    const who = h?.owner ? `process ${h.owner.pid} on ${h.owner.host}` : 'another run';
    throw new RouteT2IError(
      'pairs-busy',
      `${path.basename(o.out)} is being written by ${who}; two collect runs on one pairs file would pay for the same prompts twice`,
      `wait for it to finish (if none runs, delete ${lock.file})`,
    );
  }
  let log: PairsLog | undefined;
  try {
    const opened = PairsLog.open(o.out);
    log = opened.log;
    const { existing } = opened;
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
        throw new RouteT2IError(
          'pairs-file',
          `${outName} has id "${e.id}" for another prompt ("${ellipsis(prompt)}")`,
          'the prompts file changed: write to a new --out file',
        );
      }
    }
    const todo = o.entries.filter((e) => !existing.done.has(e.id));
    const requests = new Map(todo.map((e) => [e.id, request(e, o)]));
    const estimate = (e: PromptEntry) =>
      o.edge.estimateCost(requests.get(e.id)!) + o.cloud.estimateCost(requests.get(e.id)!);
    let costLeft = todo.reduce((s, e) => s + estimate(e), 0);
    o.onEvent?.({
      type: 'plan',
      total: o.entries.length,
      already: o.entries.length - todo.length,
      todo: todo.length,
      estimatedCost: costLeft,
      repaired: existing.repaired,
    });

    const summary: CollectSummary = {
      total: o.entries.length,
      already: o.entries.length - todo.length,
      written: 0,
      failed: [],
      spent: 0,
      seconds: 0,
    };
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
        const pair = await renderAndScore(
          entry,
          req,
          o,
          (spent) => (summary.spent = Math.round((summary.spent + spent) * 1e9) / 1e9),
        );
        log.append(pair);
        if (pair.generated && typeof pair.generated === 'object' && 'images' in pair.generated)
          (summary.images ??= {})[entry.id] = (pair.generated as { images: { edge: string; cloud: string } }).images;
        summary.written += 1;
        inARow = 0;
      } catch (e) {
        if (e instanceof MoneyCapError) {
          summary.stopped = `the monthly money cap is reached (${e.message})`;
          break;
        }
        if (e instanceof CancelledError || o.signal?.aborted)
          throw e instanceof CancelledError ? e : new CancelledError();
        if (e instanceof BackendError && FATAL.has(e.code)) throw e;
        if (e instanceof RouteT2IError && LEDGER_FATAL.has(e.code)) throw e;
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
        o.onEvent?.({
          type: 'pair',
          index: finished,
          todo: todo.length,
          id: entry.id,
          secondsLeft,
          costLeft: Math.max(0, costLeft),
          spent: summary.spent,
        });
      }
    }
    summary.seconds = (clock() - t0) / 1000;
    return summary;
  } finally {
    log?.close();
    await lock.release(token);
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

async function renderAndScore(
  entry: PromptEntry,
  req: GenerationRequest,
  o: CollectOptions,
  spend: (usd: number) => void,
): Promise<LabelledPair> {
  const call = (backend: Backend, onStart?: () => void) =>
    meteredGenerate(backend, req, {
      ledger: o.ledger,
      note: `${o.note ?? 'collect'} ${entry.id}`,
      signal: o.signal,
      onStart,
      onWarning: o.onWarning,
    }).then((m) => {
      spend(m.cost);
      if (!m.ok && m.booked && m.cost > 0)
        o.onWarning?.(
          `${entry.id}: ${backend.name} may have charged for the failed call (${m.error.message}); it stays booked at $${m.cost.toFixed(3)}`,
        );
      return m;
    });
  // The cloud is booked first (the cap may refuse it); only then does the edge start, so a refused prompt costs nothing.
  let booked!: () => void;
  const bookedNow = new Promise<void>((r) => (booked = r));
  const cloudCall = call(o.cloud, booked);
  const early = await Promise.race([
    bookedNow.then(() => undefined),
    cloudCall.then(
      () => undefined,
      (e: unknown) => e,
    ),
  ]);
  // The cloud call's own rejection (an Error from the backend or the ledger), rethrown as it is.
  if (early !== undefined) throw early instanceof Error ? early : new Error('the cloud call failed', { cause: early });
  // Both sides at once: they are different machines. Money a side booked counts even if the other failed.
  const settled = await Promise.allSettled([call(o.edge), cloudCall]);
  const [edge, cloud] = settled.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    const m: MeteredOutcome = s.value;
    if (!m.ok) throw m.error;
    return m.result;
  }) as [GenerationResult, GenerationResult];
  throwIfAborted(o.signal);
  const images = o.imagesDir
    ? { edge: saveImage(o.imagesDir, entry.id, 'edge', edge), cloud: saveImage(o.imagesDir, entry.id, 'cloud', cloud) }
    : undefined;
  const edgeScores = await o.score(edge.image, entry.prompt, {
    name: `${entry.id} (edge image from ${edge.backend})`,
    signal: o.signal,
  });
  const cloudScores = await o.score(cloud.image, entry.prompt, {
    name: `${entry.id} (cloud image from ${cloud.backend})`,
    signal: o.signal,
  });
  const about = (r: GenerationResult) => ({
    backend: r.backend,
    model: r.model,
    seed: r.seed,
    cost: r.cost,
    ms: r.timings.totalMs,
  });
  const pair: LabelledPair = { id: entry.id, prompt: entry.prompt, edge: edgeScores, cloud: cloudScores };
  if (entry.negative) pair.negative = entry.negative;
  pair.generated = {
    edge: about(edge),
    cloud: about(cloud),
    size: `${req.width}x${req.height}`,
    steps: req.steps,
    ...(images ? { images } : {}),
  };
  // The pair as configured ("backend:model", as the editor and `route --pair` name the models in use): what a predictor
  // trained on these pairs records as its pair. `generated` keeps what each server reported, which may name the same
  // model otherwise (a checkpoint file name, a dated snapshot) and so must not decide "calibrated".
  pair.models = { edge: modelId(o.edge.name, o.edge.model), cloud: modelId(o.cloud.name, o.cloud.model) };
  pair.scoredWith = o.scorerModel;
  pair.at = new Date().toISOString();
  return pair;
}

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

/** Saves one side's image as `<stem>.<side>.<ext>` (the stem is unique per id, see fileStem); returns its file name. */
function saveImage(dir: string, id: string, side: Side, r: GenerationResult): string {
  fs.mkdirSync(dir, { recursive: true });
  const name = `${fileStem(id)}.${side}.${EXT[r.mime] ?? 'img'}`;
  const file = path.join(dir, name);
  writeFileAtomicSync(file, r.image);
  return name;
}

function ellipsis(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '…' : s;
}
