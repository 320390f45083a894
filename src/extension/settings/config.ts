// The typed settings layer over VS Code: every read goes through settings.ts's guards, workspace values of restricted
// keys are ignored in Restricted Mode (read from `inspect()`, never trusting `get()`), and one handler reacts to our
// keys only.
import * as vscode from 'vscode';
import { changedKeys, readSettings, SECTION, type SettingKey, type SettingProblem, type Settings } from './settings';

export interface ConfigChange {
  /** Setting keys (under `routet2i.`) that changed; empty when trust changed. */
  keys: SettingKey[];
  /** The predictor must be reloaded (model folder, encoder models, trust). */
  engine: boolean;
}

export class Config implements vscode.Disposable {
  private current: Settings;
  private restrictedNow: boolean;
  private readonly emitter = new vscode.EventEmitter<ConfigChange>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private shown = new Set<string>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.restrictedNow = !vscode.workspace.isTrusted;
    this.current = this.read();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        const changed = changedKeys((key) => e.affectsConfiguration(key));
        if (!changed.any) return;
        this.current = this.read();
        this.emitter.fire({ keys: changed.keys, engine: changed.engine });
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.restrictedNow = false;
        this.current = this.read();
        // Workspace values of model paths, backends and policy now count: everything reloads.
        this.emitter.fire({ keys: [], engine: true });
      }),
    );
  }

  get settings(): Settings {
    return this.current;
  }

  /** Restricted Mode: the workspace is not trusted. */
  get restricted(): boolean {
    return this.restrictedNow;
  }

  /** Writes a setting (a user action such as "ignore this word"), to the workspace when there is one. */
  async update(
    key: SettingKey,
    value: unknown,
    target: 'workspace' | 'user' = 'workspace',
  ): Promise<'workspace' | 'user'> {
    const where = target === 'workspace' && vscode.workspace.workspaceFolders?.length ? 'workspace' : 'user';
    await vscode.workspace
      .getConfiguration(SECTION)
      .update(
        key,
        value,
        where === 'workspace' ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global,
      );
    return where;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private read(): Settings {
    const config = vscode.workspace.getConfiguration(SECTION);
    const { settings, problems, ignored } = readSettings((key) => config.inspect(key), this.restrictedNow);
    if (ignored.length) {
      this.log.info(
        `Restricted Mode: ignoring this workspace's ${ignored.map((k) => `${SECTION}.${k}`).join(', ')} until it is trusted`,
      );
    }
    this.report(problems);
    return settings;
  }

  /** Each bad value is said once (log and a warning with a way to the setting), not on every re-read. */
  private report(problems: SettingProblem[]): void {
    const now = new Set(problems.map((p) => p.message));
    for (const p of problems) {
      if (this.shown.has(p.message)) continue;
      this.log.warn(p.message);
      void vscode.window.showWarningMessage(`RouteT2I: ${p.message}`, 'Open Setting').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', p.key);
      });
    }
    this.shown = now;
  }
}
