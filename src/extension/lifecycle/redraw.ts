// One signal for "what the features show may have changed": the predictor (re)loaded or answered, the policy moved,
// the heat metric or the settings changed. Heat, diagnostics, lenses, the status bar and the panel redraw on it.
import * as vscode from 'vscode';

export class Redraw implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<string | undefined>();
  /** A document's analysis changed (its URI), or everything did (undefined). */
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private pending = false;
  private disposed = false;

  constructor(sources: ReadonlyArray<vscode.Event<unknown>>) {
    for (const source of sources) this.disposables.push(source(() => this.schedule()));
  }

  /**
   * One redraw for the sources that fire together: a settings change fires the settings and the policy (which follows
   * them) in one go, and each redraw repaints the heat, the diagnostics, the status bar and the panel and makes VS Code
   * ask for every lens again (replacing the lens commands on screen), so two would do all of it twice.
   */
  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      if (!this.disposed) this.emitter.fire(undefined);
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const d of this.disposables) d.dispose();
  }
}
