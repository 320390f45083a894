import type * as vscode from 'vscode';
import type { LedgerEntry } from '../../generation/ledger';
import type { Metric } from '../../router/metrics';
import type { CascadeTally, RouteDecision } from '../../router/policy';
import type { Prediction, Scores } from '../../router/types';

/**
 * What the extension's core (editor features, engine, ledger) offers the RouteT2I panel host. The core
 * implements it; the panel (src/extension/panel, webview/) only consumes it, so the two evolve apart.
 */

/** The prompt under the cursor, with everything the engine knows about it. */
export interface ActivePromptState {
  uri: string;
  /** The prompt's own range in the document. */
  range: { start: number; end: number; line: number };
  promptId: string;
  prompt: string;
  prediction: Prediction;
  decision: RouteDecision;
  /** Words a user reads: why this route. */
  why: string;
  metrics: Metric[];
  /** Metric weights of PRS. */
  weights: Scores;
  /** The multiplier of the heat's bucket edges the editor uses: `routet2i.heat.scale` × the predictor's own scale. */
  heatScale?: number;
}

export interface BudgetState {
  month: string;
  /** Cloud share of this month's generations against the budget ρ, and cascade's tally from the ledger. */
  cloudShare: { used: number; budget: number; images: { edge: number; cloud: number }; cascade?: CascadeTally };
  money: { spent: number; reserved: number; cap: number | null; left: number; currency: 'USD' };
  /** Newest first. */
  latest: LedgerEntry[];
}

export interface GalleryItem {
  /** Absolute paths. */
  image: string;
  sidecar: string;
  id: string;
  prompt: string;
  route: 'edge' | 'cloud';
  why: string;
  backend: string;
  model: string;
  cost: number;
  created: string;
  predicted?: { edge: Scores; cloud: Scores; prs: number };
  measured?: Scores;
}

export interface CalibrationState {
  modelName: string;
  modelDir: string;
  encoder: string;
  metrics: Metric[];
  data: { source: string; pairs: number };
  /** As in model.json: routers → {apgr, cpt50, pgr50}; absent when the model was not evaluated. */
  evaluation?: { n: number; routers: Record<string, { apgr: number; cpt50: number; pgr50: number }> };
  /** PGR against cloud share (21 points) for the learned router, when known. */
  curve?: Array<{ share: number; pgr: number }>;
  /** Whether the predictor was calibrated on the configured pair (`backend:model` per side), and the mode in use. */
  pair: {
    calibrated: boolean;
    /** The product's note where uncalibrated (src/shared/calibration.ts), empty where calibrated. */
    note: string;
    trainedOn: { edge: string; cloud: string } | null;
    inUse: { edge: string | null; cloud: string | null };
  };
  mode: 'predict' | 'cascade' | 'hybrid';
}

export interface PanelServices {
  readonly onDidChangeActivePrompt: vscode.Event<ActivePromptState | undefined>;
  getActivePrompt(): ActivePromptState | undefined;
  /** The metric the heat shows: a metric id, or `verdict` for the overall edge-vs-cloud heat. */
  readonly onDidChangeMetric: vscode.Event<string>;
  getMetric(): string;
  setMetric(id: string): void;
  readonly onDidChangeBudget: vscode.Event<void>;
  getBudget(): Promise<BudgetState>;
  readonly onDidChangeGallery: vscode.Event<void>;
  getGallery(limit: number): Promise<GalleryItem[]>;
  getCalibration(): Promise<CalibrationState>;
  /** Runs "Calibrate on my models" (the command shows its own progress). */
  startCalibration(): Promise<void>;
  /** Turns cascade mode on for the workspace (the user chose it on an uncalibrated pair). */
  useCascadeMode(): Promise<void>;
  /** Opens an image (and, with `sidecar`, its sidecar beside it). */
  openImage(image: string, sidecar?: string): Promise<void>;
}
