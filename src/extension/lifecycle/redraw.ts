// One signal for "what the features show may have changed": the predictor (re)loaded or answered, the policy moved,
// the heat metric or the settings changed. Heat, diagnostics, lenses, the status bar and the panel redraw on it.
import * as vscode from 'vscode';

export class Redraw implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<string | undefined>();
  /** A document's analysis changed (its URI), or everything did (undefined). */
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  constructor(sources: ReadonlyArray<vscode.Event<unknown>>) {
    for (const source of sources) this.disposables.push(source(() => this.emitter.fire(undefined)));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
