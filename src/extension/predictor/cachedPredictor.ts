// The predictor as the editor uses it: loaded once, predictions cached by prompt text (so typing in one prompt does
// not recompute the others), synchronous for the lexical encoder, batched and asynchronous for encoders that need I/O
// (a clip-trained predictor). No `vscode` here.
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { RouteT2IError } from '../../router/errors';
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

export class CachedPredictor {
  private readonly cache = new Map<string, Prediction>();
  private readonly pending = new Map<
    string,
    Array<{ resolve: (p: Prediction) => void; reject: (e: unknown) => void }>
  >();
  private readonly listeners = new Set<(prompts: string[]) => void>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private readonly abort = new AbortController();

  private constructor(
    readonly predictor: Predictor,
    private readonly cacheSize: number,
  ) {}

  static async load(options: EngineOptions = {}): Promise<CachedPredictor> {
    const dir = options.modelDir || defaultModelDir();
    const predictor = await Predictor.load(dir, { encoders: options.encoders, context: options.context });
    return new CachedPredictor(predictor, options.cacheSize ?? 5000);
  }

  /** An engine over a predictor already loaded (tests, and the calibration that just trained one). */
  static of(predictor: Predictor, cacheSize = 5000): CachedPredictor {
    return new CachedPredictor(predictor, cacheSize);
  }

  /** Predictions come back synchronously (the lexical encoder): the editor's hot path. */
  get sync(): boolean {
    return typeof this.predictor.encoder.encodeSync === 'function';
  }

  get name(): string {
    return this.predictor.name;
  }

  /**
   * The prediction of a prompt: cached, or computed now where the encoder is synchronous. For an asynchronous encoder
   * an uncached prompt returns undefined and is queued; `onDidPredict` says when it is ready.
   */
  prediction(prompt: string): Prediction | undefined {
    const hit = this.cache.get(prompt);
    if (hit) {
      // Least recently used goes first: a hit moves to the end.
      this.cache.delete(prompt);
      this.cache.set(prompt, hit);
      return hit;
    }
    if (this.sync) {
      const p = this.predictor.predictSync(prompt);
      this.remember(prompt, p);
      return p;
    }
    void this.predict(prompt).catch(() => undefined);
    return undefined;
  }

  /** The prediction of a prompt, whatever the encoder; concurrent requests for the same prompt share one. */
  predict(prompt: string): Promise<Prediction> {
    const hit = this.cache.get(prompt);
    if (hit) return Promise.resolve(hit);
    if (this.sync) {
      try {
        return Promise.resolve(this.prediction(prompt)!);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(prompt);
      if (waiting) waiting.push({ resolve, reject });
      else {
        this.pending.set(prompt, [{ resolve, reject }]);
        this.flushTimer ??= setTimeout(() => void this.flush(), 0);
      }
    });
  }

  /** Predicts without caching (what-if: the prompt with a word removed). */
  async predictUncached(prompt: string): Promise<Prediction> {
    if (this.sync) return this.predictor.predictSync(prompt);
    const [p] = await this.predictor.predict([prompt], { signal: this.abort.signal });
    return p!;
  }

  onDidPredict(listener: (prompts: string[]) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  get cached(): number {
    return this.cache.size;
  }

  dispose(): void {
    this.disposed = true;
    this.abort.abort();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const waiting of this.pending.values())
      for (const w of waiting) w.reject(new RouteT2IError('engine-stopped', 'the predictor was reloaded'));
    this.pending.clear();
    this.cache.clear();
    this.listeners.clear();
    void this.predictor.encoder.dispose?.();
  }

  private remember(prompt: string, p: Prediction): void {
    this.cache.set(prompt, p);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** One batch for every prompt queued since the last flush. */
  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const batch = [...this.pending.keys()];
    if (batch.length === 0 || this.disposed) return;
    const waiting = batch.map((p) => this.pending.get(p)!);
    for (const p of batch) this.pending.delete(p);
    try {
      const predictions = await this.predictor.predict(batch, { signal: this.abort.signal });
      if (this.disposed) return;
      batch.forEach((prompt, i) => {
        this.remember(prompt, predictions[i]!);
        for (const w of waiting[i]!) w.resolve(predictions[i]!);
      });
      for (const listener of this.listeners) listener(batch);
    } catch (error) {
      for (const list of waiting) for (const w of list) w.reject(error);
    }
  }
}
