// The one owner of the extension's disposables, with two lifetimes (rust-analyzer's habit): the extension's, and the
// core's (the predictor and every feature built on it), which a reload empties and rebuilds. The core — engine,
// providers, backends — is a separate bundle (dist/core.js) loaded on the first document or command that needs it, so
// activation stays light.
import * as vscode from 'vscode';
import type { Config } from '../settings/config';
import type { Core, CoreDeps } from './coreApi';

export class Ctx implements CoreDeps, vscode.Disposable {
  private coreLoad: Promise<Core> | undefined;
  private loaded: Core | undefined;
  private disposed = false;
  private readonly startHooks: Array<(core: Core) => void> = [];

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly config: Config,
  ) {}

  /** Disposed with the extension. */
  push(...disposables: vscode.Disposable[]): void {
    this.extension.subscriptions.push(...disposables);
  }

  /** The core, loaded once; concurrent callers share the load. */
  core(): Promise<Core> {
    if (this.disposed) return Promise.reject(new Error('RouteT2I is shutting down'));
    this.coreLoad ??= (async () => {
      const started = performance.now();
      // A separate bundle (see esbuild.mjs): the engine, its word tagger and the backends load only now. A plain
      // require, so that VS Code's own module loading (which provides `vscode`) applies to it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { startCore } = require('./core') as typeof import('./core');
      const core = await startCore(this);
      this.loaded = core;
      for (const hook of this.startHooks) hook(core);
      this.log.info(`RouteT2I features ready in ${(performance.now() - started).toFixed(0)} ms`);
      return core;
    })();
    this.coreLoad.catch((error: Error) => {
      this.log.error(`RouteT2I could not start its features: ${error.message}`);
      this.coreLoad = undefined;
    });
    return this.coreLoad;
  }

  /** Runs `hook` once the core has started (at once if it has). */
  whenCore(hook: (core: Core) => void): void {
    if (this.loaded) hook(this.loaded);
    else this.startHooks.push(hook);
  }

  /** The core if it has loaded; never starts it. */
  get coreIfLoaded(): Core | undefined {
    return this.loaded;
  }

  dispose(): void {
    this.disposed = true;
    this.loaded?.dispose();
    this.loaded = undefined;
  }
}
