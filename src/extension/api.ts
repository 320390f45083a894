// What RouteT2I's `activate()` returns, so `vscode.extensions.getExtension('routet2i.routet2i')?.exports` in a test or in
// another extension (rust-analyzer exports its own the same way): the state a reader may want, as getters. Read-only
// by construction: each getter returns a fresh copy of plain data, and nothing here changes a setting, runs a command
// or starts any work. The end-to-end suite reads it through its companion extension (test/e2e/companion).
import type * as vscode from 'vscode';
import type { Compared } from './compare/compareOnBoth';
import type { LearningEvents } from './calibrate/learning';
import type { Generated } from './generate/generation';
import type { HeatStats } from './heat/heat';
import type { Settings } from './settings/settings';
import type { StatusSnapshot } from './status/status';
import type { Verdict } from './verdict/verdict';
import type { Calibration } from '../router/learning/modelPair';

export type { Compared, Generated, HeatStats, Settings, StatusSnapshot, Verdict, Calibration };

/** Raised when a field is added (never when one is removed or changes meaning: that would be a new major version). */
export const API_VERSION = 1;

export interface ExtensionInfo {
  version: string;
  /** Milliseconds: evaluating the bundle (`loadMs`) plus `activate()` (`activateMs`); `hostMs` is VS Code's, between. */
  activation: { totalMs: number; loadMs: number; activateMs: number; hostMs: number };
  /** Restricted Mode: the workspace is not trusted. */
  restricted: boolean;
  /** Whether the features (predictor, heat, diagnostics…) have started; they start on the first prompt document. */
  coreLoaded: boolean;
}

/** The predictor in use and the heat metric. */
export interface EngineInfo {
  status: 'loading' | 'ready' | 'error';
  modelDir: string;
  name: string | null;
  metrics: string[];
  metric: string;
  message: string | null;
  /** Predictions cached (by prompt text). */
  cached: number;
  /** Prompts waiting for their time slice in the analysis under way. */
  queued: number;
  /** Predictions made so far (a test sees the analysis progress without timing it). */
  computed: number;
}

/** The settings in effect (workspace values of restricted settings dropped in Restricted Mode). */
export interface EffectiveSettings {
  restricted: boolean;
  settings: Settings;
}

export interface LearningInfo {
  /** The last retrain's decision. */
  last: LearningEvents['decided'] | null;
  /** The last "Compare on Both". */
  compared: Compared | null;
  /** Whether the predictor in use was calibrated on the configured pair; null while none is loaded. */
  calibration: Calibration | null;
}

export interface DiagnosticsCount {
  uri: string;
  count: number;
}

/** What the features answer once they have started (the core, dist/core.js). */
export interface FeatureState {
  /** Per visible editor, the last heat redraw: its figures and the ranges drawn per bucket (capped). */
  heat(): HeatStats[];
  /** The status bar item and the language status item, as shown. */
  status(): StatusSnapshot;
  /** The verdict of the prompt at the cursor, as the status bar shows it; null when there is none. */
  verdict(): Verdict | null;
  engine(): EngineInfo;
  /** The images of the last Generate. */
  generated(): Generated[];
  learning(): LearningInfo;
  /** Our diagnostics per open document. */
  diagnosticsCount(): DiagnosticsCount[];
}

type Later<T> = { [K in keyof T]: T[K] extends () => infer R ? () => R | undefined : never };

export interface RouteT2IApi extends Later<FeatureState> {
  readonly apiVersion: typeof API_VERSION;
  /** Something read here may have changed (the features started, a redraw, a setting, a generation): read again. */
  readonly onDidChangeState: vscode.Event<void>;
  extension(): ExtensionInfo;
  settings(): EffectiveSettings;
  // The getters of FeatureState answer undefined until the features have started.
}
