// The predictor in use, reloaded when its settings or workspace trust change; every feature reads it from here and
// redraws on `onDidChange`. Loading is shared: two features asking at once wait for one load.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { builtinEncoders } from '../../router/encoders';
import { RouteT2IError } from '../../router/errors';
import type { Metric } from '../../router/metrics';
import type { EncoderFactory, Prediction, Scores } from '../../router/types';
import type { Config } from '../settings/config';
import { checkModelDir, CachedPredictor, resolveModelDir } from './cachedPredictor';

export type PredictorState =
  | { status: 'loading'; modelDir: string }
  | { status: 'ready'; engine: CachedPredictor; modelDir: string; isDefault: boolean; ms: number }
  | { status: 'error'; message: string; modelDir: string };

/** The folder relative paths in settings are resolved against. */
export function workspaceDir(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** At most one "predictions arrived" event per this many milliseconds. */
const PREDICT_EVENT_MS = 200;

export class PredictorHost implements vscode.Disposable {
  private current: PredictorState = { status: 'loading', modelDir: '' };
  private loading: Promise<CachedPredictor | undefined> | undefined;
  private generation = 0;
  private readonly emitter = new vscode.EventEmitter<PredictorState>();
  readonly onDidChange = this.emitter.event;
  private readonly predicted = new vscode.EventEmitter<string[]>();
  /** Prompts whose (asynchronous) prediction just arrived. */
  readonly onDidPredict = this.predicted.event;
  private predictSub: { dispose(): void } | undefined;
  /** Prompts predicted since the last `onDidPredict`: a long analysis tells at most every PREDICT_EVENT_MS. */
  private arrived: string[] = [];
  private arrivedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get state(): PredictorState {
    return this.current;
  }

  get engine(): CachedPredictor | undefined {
    return this.current.status === 'ready' ? this.current.engine : undefined;
  }

  get metrics(): Metric[] {
    return this.engine?.predictor.metrics ?? [];
  }

  get weights(): Scores {
    return this.engine?.predictor.normalisation.weights ?? {};
  }

  /** The engine, loading it first if needed; undefined when it cannot load (the state says why). */
  ready(): Promise<CachedPredictor | undefined> {
    if (this.current.status === 'ready') return Promise.resolve(this.current.engine);
    // A failed load is not retried on every request (it would repeat its error): a settings change reloads.
    if (this.current.status === 'error') return Promise.resolve(undefined);
    this.loading ??= this.load();
    return this.loading;
  }

  /**
   * Cached, or computed now when this turn has time left; undefined while pending or before the predictor is ready.
   * `signal` (AnalysedDocuments.signal) drops the queued work when the document changes.
   */
  prediction(prompt: string, signal?: AbortSignal): Prediction | undefined {
    return this.engine?.prediction(prompt, signal);
  }

  /** Waits for the predictor and the prediction, whatever the encoder. */
  async predict(prompt: string, signal?: AbortSignal): Promise<Prediction | undefined> {
    return (await this.ready())?.predict(prompt, signal);
  }

  /** Drops the engine and loads it again (new model folder, trust granted). */
  reload(): Promise<CachedPredictor | undefined> {
    this.loading = this.load();
    return this.loading;
  }

  dispose(): void {
    this.generation++;
    if (this.arrivedTimer) clearTimeout(this.arrivedTimer);
    this.predictSub?.dispose();
    this.engine?.dispose();
    this.emitter.dispose();
    this.predicted.dispose();
  }

  private async load(): Promise<CachedPredictor | undefined> {
    const mine = ++this.generation;
    const settings = this.config.settings;
    const { dir, isDefault } = resolveModelDir(settings.model.path, workspaceDir());
    const previous = this.engine;
    this.set({ status: 'loading', modelDir: dir });
    const started = performance.now();
    try {
      if (!isDefault) checkModelDir(dir, 'Setting "routet2i.model.path"');
      const modelsDir = settings.model.modelsDir
        ? path.resolve(workspaceDir() ?? '', settings.model.modelsDir)
        : undefined;
      const engine = await CachedPredictor.load({
        modelDir: dir,
        encoders: await encoderFactories(modelsDir),
        context: modelsDir ? { modelsDir } : {},
      });
      if (mine !== this.generation) {
        engine.dispose();
        return this.engine;
      }
      previous?.dispose();
      this.predictSub?.dispose();
      this.predictSub = engine.onDidPredict((prompts) => this.tell(prompts));
      const ms = performance.now() - started;
      this.log.info(
        `Predictor "${engine.name}" loaded from ${dir} in ${ms.toFixed(0)} ms (${engine.predictor.file.encoder.id} encoder; metrics ${engine.predictor.metrics.map((m) => m.id).join(', ')})`,
      );
      this.set({ status: 'ready', engine, modelDir: dir, isDefault, ms });
      return engine;
    } catch (error) {
      if (mine !== this.generation) return this.engine;
      previous?.dispose();
      const message =
        error instanceof RouteT2IError
          ? `${error.message}${error.hint ? ` (${error.hint})` : ''}`
          : `could not load the predictor from ${dir}: ${(error as Error).message}`;
      this.log.error(message);
      this.set({ status: 'error', message, modelDir: dir });
      void vscode.window.showErrorMessage(`RouteT2I: ${message}`, 'Open Settings', 'Show Log').then((choice) => {
        if (choice === 'Open Settings')
          void vscode.commands.executeCommand('workbench.action.openSettings', 'routet2i.model');
        if (choice === 'Show Log') this.log.show(true);
      });
      return undefined;
    } finally {
      if (mine === this.generation) this.loading = undefined;
    }
  }

  /**
   * Coalesces the engine's per-slice news: every feature redraws on it (lenses, heat, status, diagnostics), so a long
   * analysis that told each slice would keep the renderer busy redrawing instead of answering the user.
   */
  private tell(prompts: string[]): void {
    for (const p of prompts) if (this.arrived.length < 10_000) this.arrived.push(p);
    this.arrivedTimer ??= setTimeout(() => {
      this.arrivedTimer = undefined;
      const batch = this.arrived;
      this.arrived = [];
      this.predicted.fire(batch);
    }, PREDICT_EVENT_MS);
  }

  private set(state: PredictorState): void {
    this.current = state;
    this.emitter.fire(state);
  }
}

/**
 * Encoders by id: the lexical one built in, and CLIP from the runtime for predictors calibrated with it. The runtime
 * module is imported only here, when such a predictor is loaded; transformers.js itself loads on the first encode.
 */
async function encoderFactories(modelsDir: string | undefined): Promise<Record<string, EncoderFactory>> {
  const clip: EncoderFactory = async (spec, context) => {
    const { createClipEncoderFactory } = await import('../../runtime/clipEncoder');
    return createClipEncoderFactory(modelsDir ? { modelsDir } : {})(spec, context);
  };
  return { ...builtinEncoders, clip };
}
