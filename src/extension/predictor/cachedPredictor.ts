// The predictor as the editor uses it: loaded once, predictions cached by prompt text (so typing in one prompt does
// not recompute the others), computed in time slices on the extension host's thread for the lexical encoder (never
// more than about SLICE_MS per turn of the event loop, so a hostile file cannot freeze the editor), batched and
// asynchronous for encoders that need I/O (a clip-trained predictor). No `vscode` here.
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CancelledError, RouteT2IError } from '../../router/errors';
import { MODEL_JSON } from '../../router/model/format';
import { defaultModelDir, Predictor } from '../../router/predictor';
import type { EncoderContext, EncoderFactory, Prediction } from '../../router/types';

export interface EngineOptions {
  /** The predictor folder; empty for the shipped default. */
  modelDir?: string;
  encoders?: Record<string, EncoderFactory>;
  context?: EncoderContext;
  /** How many prompts' predictions to keep (least recently used go first). */
  cacheSize?: number;
  /** Main-thread milliseconds per turn of the event loop (SLICE_MS). */
  sliceMs?: number;
}

/** Resolves the configured model folder (relative to the workspace folder) or the shipped default. */
export function resolveModelDir(
  configured: string,
  workspaceDir: string | undefined,
): { dir: string; isDefault: boolean } {
  if (!configured) return { dir: defaultModelDir(), isDefault: true };
  const dir = path.isAbsolute(configured) ? configured : path.resolve(workspaceDir ?? process.cwd(), configured);
  return { dir, isDefault: false };
}

/** Checks a configured model folder before loading it, so the message names the setting and the folder. */
export function checkModelDir(dir: string, setting: string): void {
  if (!existsSync(dir))
    throw new RouteT2IError(
      'no-model',
      `${setting}: the folder ${dir} does not exist`,
      'point it at a folder made by "routet2i train" or "RouteT2I: Calibrate on My Models", or clear it to use the shipped model',
    );
  if (!statSync(dir).isDirectory())
    throw new RouteT2IError('no-model', `${setting}: ${dir} is a file, not a predictor folder`);
  if (!existsSync(path.join(dir, MODEL_JSON)))
    throw new RouteT2IError('no-model', `${setting}: ${dir} holds no ${MODEL_JSON}, so it is not a predictor folder`);
}

/** A prompt waiting for its prediction, and who still wants it. */
interface Queued {
  waiters: Array<{ resolve: (p: Prediction) => void; reject: (e: unknown) => void; signal?: AbortSignal }>;
  /** Asked by `prediction()` (the heat, the status bar): no one awaits it; kept while one of these is not aborted. */
  background: Set<AbortSignal | undefined>;
}

/** Main-thread time one turn of the event loop may spend predicting before the rest waits for the next turn. */
export const SLICE_MS = 20;

export class CachedPredictor {
  private readonly cache = new Map<string, Prediction>();
  /** Prompts waiting, oldest first. */
  private readonly queue = new Map<string, Queued>();
  private readonly listeners = new Set<(prompts: string[]) => void>();
  private drainScheduled = false;
  /** When the current turn of the event loop started predicting (undefined: it has not). */
  private turnStarted: number | undefined;
  private disposed = false;
  private readonly abort = new AbortController();
  private made = 0;

  private constructor(
    readonly predictor: Predictor,
    private readonly cacheSize: number,
    private readonly sliceMs: number,
    private readonly now: () => number,
  ) {}

  static async load(options: EngineOptions = {}): Promise<CachedPredictor> {
    const dir = options.modelDir || defaultModelDir();
    const predictor = await Predictor.load(dir, { encoders: options.encoders, context: options.context });
    return CachedPredictor.of(predictor, options);
  }

  /** An engine over a predictor already loaded (tests, and the calibration that just trained one). */
  static of(
    predictor: Predictor,
    options: { cacheSize?: number; sliceMs?: number; now?: () => number } = {},
  ): CachedPredictor {
    return new CachedPredictor(
      predictor,
      options.cacheSize ?? 5000,
      options.sliceMs ?? SLICE_MS,
      options.now ?? performance.now.bind(performance),
    );
  }

  /** Predictions can be computed on the spot (the lexical encoder): the editor's hot path. */
  get sync(): boolean {
    return typeof this.predictor.encoder.encodeSync === 'function';
  }

  get name(): string {
    return this.predictor.name;
  }

  /** Prompts waiting for a prediction: the analysis still in progress. */
  get queued(): number {
    return this.queue.size;
  }

  /**
   * The prediction of a prompt: cached, or computed now where the encoder is synchronous and this turn of the event
   * loop has time left. Otherwise it returns undefined and queues the prompt; `onDidPredict` says when it is ready.
   * `signal` (the document's version) drops the queued work when it is aborted, so an edit cancels what it superseded.
   */
  prediction(prompt: string, signal?: AbortSignal): Prediction | undefined {
    const hit = this.hit(prompt);
    if (hit) return hit;
    if (this.canComputeNow()) return this.computeNow(prompt);
    if (signal?.aborted) return undefined;
    this.enqueue(prompt).background.add(signal);
    return undefined;
  }

  /** The prediction of a prompt, whatever the encoder; concurrent requests for the same prompt share one. */
  predict(prompt: string, signal?: AbortSignal): Promise<Prediction> {
    const hit = this.hit(prompt);
    if (hit) return Promise.resolve(hit);
    if (this.canComputeNow()) {
      try {
        return Promise.resolve(this.computeNow(prompt));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise((resolve, reject) => {
      const entry = this.enqueue(prompt);
      const waiter = { resolve, reject, ...(signal ? { signal } : {}) };
      entry.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const at = entry.waiters.indexOf(waiter);
          if (at < 0) return;
          entry.waiters.splice(at, 1);
          reject(cancelled());
        },
        { once: true },
      );
    });
  }

  /** Predicts without caching (what-if: the prompt with a word removed). One prompt, bounded by the engine. */
  async predictUncached(prompt: string): Promise<Prediction> {
    if (this.sync) return this.predictor.predictSync(prompt);
    const [p] = await this.predictor.predict([prompt], { signal: this.abort.signal });
    return p!;
  }

  onDidPredict(listener: (prompts: string[]) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Predictions computed since load. */
  get computed(): number {
    return this.made;
  }

  get cached(): number {
    return this.cache.size;
  }

  dispose(): void {
    this.disposed = true;
    this.abort.abort();
    for (const entry of this.queue.values())
      for (const w of entry.waiters) w.reject(new RouteT2IError('engine-stopped', 'the predictor was reloaded'));
    this.queue.clear();
    this.cache.clear();
    this.listeners.clear();
    void this.predictor.encoder.dispose?.();
  }

  private hit(prompt: string): Prediction | undefined {
    const hit = this.cache.get(prompt);
    if (!hit) return undefined;
    // Least recently used goes first: a hit moves to the end.
    this.cache.delete(prompt);
    this.cache.set(prompt, hit);
    return hit;
  }

  /**
   * Whether a synchronous prediction fits in this turn of the event loop. The first prediction of a turn starts its
   * clock (reset on the next turn); one prompt's work is bounded by the engine (MAX_PROMPT_CHARS), so a turn never
   * runs much past the slice. A prompt asked now may overtake queued ones: it is what the user is looking at.
   */
  private canComputeNow(): boolean {
    if (!this.sync || this.disposed) return false;
    const now = this.now();
    if (this.turnStarted === undefined) {
      this.turnStarted = now;
      setImmediate(() => (this.turnStarted = undefined));
      return true;
    }
    return now - this.turnStarted < this.sliceMs;
  }

  private computeNow(prompt: string): Prediction {
    const p = this.predictor.predictSync(prompt);
    this.made++;
    this.remember(prompt, p);
    return p;
  }

  private enqueue(prompt: string): Queued {
    // Asked again: it moves to the newest end, which is drained first.
    const entry = this.queue.get(prompt) ?? { waiters: [], background: new Set() };
    this.queue.delete(prompt);
    this.queue.set(prompt, entry);
    this.scheduleDrain();
    return entry;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.disposed) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  /** True while someone still wants the prompt's prediction. */
  private wanted(entry: Queued): boolean {
    return entry.waiters.length > 0 || [...entry.background].some((s) => !s?.aborted);
  }

  /**
   * One turn's worth of the queue, newest first (the prompts asked last are the ones in view): synchronously up to the
   * slice, or everything in one batch for an asynchronous encoder. Prompts no one wants any more are dropped.
   */
  private async drain(): Promise<void> {
    if (this.disposed) return;
    const newestFirst = [...this.queue].reverse();
    if (this.sync) {
      const done: string[] = [];
      for (const [prompt, entry] of newestFirst) {
        if (this.wanted(entry) && !this.canComputeNow()) break;
        this.queue.delete(prompt);
        if (!this.wanted(entry)) continue;
        try {
          const p = this.computeNow(prompt);
          for (const w of entry.waiters) w.resolve(p);
          done.push(prompt);
        } catch (error) {
          for (const w of entry.waiters) w.reject(error);
        }
      }
      if (this.queue.size > 0) this.scheduleDrain();
      // The last slice always tells, even when it only dropped superseded prompts: "busy" marks end on it.
      if (done.length || this.queue.size === 0) for (const listener of this.listeners) listener(done);
      return;
    }
    const batch = newestFirst.filter(([prompt, entry]) => {
      this.queue.delete(prompt);
      return this.wanted(entry);
    });
    if (batch.length === 0) return;
    const prompts = batch.map(([p]) => p);
    try {
      const predictions = await this.predictor.predict(prompts, { signal: this.abort.signal });
      if (this.disposed) return;
      batch.forEach(([prompt, entry], i) => {
        this.remember(prompt, predictions[i]!);
        for (const w of entry.waiters) w.resolve(predictions[i]!);
      });
      this.made += prompts.length;
      for (const listener of this.listeners) listener(prompts);
    } catch (error) {
      for (const [, entry] of batch) for (const w of entry.waiters) w.reject(error);
    }
  }

  private remember(prompt: string, p: Prediction): void {
    this.cache.set(prompt, p);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}

function cancelled(): CancelledError {
  return new CancelledError('the document changed before this prediction was made');
}
