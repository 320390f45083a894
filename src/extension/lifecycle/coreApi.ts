// What the core (dist/core.js) offers the activation code, and what it is started with. A file of its own so that
// ctx.ts, which loads the core, and core.ts, which builds it, depend on this contract instead of on each other.
import type * as vscode from 'vscode';
import type { Side } from '../../router/types';
import type { Generated, GenerateTarget } from '../generate/generation';
import type { PanelServices } from '../panel/services';
import type { TestProbe } from '../probe/testProbe';
import type { Config } from '../settings/config';

export interface Core extends vscode.Disposable {
  readonly services: PanelServices;
  generate(target: GenerateTarget, force?: Side): Promise<Generated[]>;
  chooseMetric(): Promise<void>;
  toggleHeat(): Promise<void>;
  setApiKey(backend?: string): Promise<boolean>;
  /** Stores or removes the key of the gateway in `routet2i.gateway.url`. */
  setGatewayKey(): Promise<boolean>;
  calibrate(): Promise<void>;
  /** Renders the prompt at the cursor on both sides with one seed, measured, shown side by side, learned from. */
  compareOnBoth(): Promise<unknown>;
  /** Says why the pair in use is uncalibrated and offers cascade mode and calibration. */
  uncalibratedHelp(): Promise<void>;
  useCascadeMode(): Promise<void>;
  ignoreWord(word: string): Promise<void>;
  openImage(image: string, sidecar?: string): Promise<void>;
}

/** What the core is built from: the extension's context, its log and its settings. */
export interface CoreDeps {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly probe: TestProbe;
  readonly config: Config;
}
