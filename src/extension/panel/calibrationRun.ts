// "Calibrate on my models" started from the panel: one run at a time, shared by the panel and the view.
import * as vscode from 'vscode';
import { isUserError } from '../../router/errors';
import type { PanelServices } from './services';

/**
 * "Calibrate on my models" as the panels see it: one run at a time, shared by every panel and view, so a run started
 * in one shows as running in the other.
 */
export class CalibrationRun implements vscode.Disposable {
  private current: Promise<void> | undefined;
  private readonly finished = new vscode.EventEmitter<{ error?: string }>();
  readonly onDidFinish = this.finished.event;

  constructor(
    private readonly services: PanelServices,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  /** Starts a run unless one is going; resolves once it has started (not when it ends). */
  start(): void {
    if (this.current) return;
    this.log.info('Panel: starting "Calibrate on my models"');
    this.current = Promise.resolve()
      .then(() => this.services.startCalibration())
      .then(
        () => this.finish({}),
        (error: unknown) => {
          const message = describeError(error);
          this.log.error(`Panel: calibration failed: ${message}`);
          this.finish({ error: message });
        },
      );
  }

  private finish(result: { error?: string }): void {
    this.current = undefined;
    this.finished.fire(result);
  }

  dispose(): void {
    this.finished.dispose();
  }
}

/** An error as one line a user reads: a user error's message and hint; otherwise the message alone. */
export function describeError(error: unknown): string {
  if (isUserError(error)) {
    const hint = (error as { hint?: string }).hint;
    return hint ? `${error.message} ${hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
