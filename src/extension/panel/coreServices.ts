// The core's side of the contract with the panel (services.ts): the prompt at the cursor with its prediction and
// route, the heat metric, money, the gallery and the predictor in use, with events when any of them change.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Config } from '../settings/config';
import type { AnalysedDocuments } from '../prompts/analysedDocuments';
import type { MetricChoice } from '../heat/metricChoice';
import type { PolicyState } from '../policy/policyState';
import type { PredictorHost } from '../predictor/predictorHost';
import type { Redraw } from '../lifecycle/redraw';
import { KeyedDebouncer } from '../lifecycle/debounce';
import type { Generator } from '../generate/generation';
import { readGallery } from './records';
import type { ActivePromptState, BudgetState, CalibrationState, GalleryItem, PanelServices } from './services';
import { pairInUse } from '../calibrate/uncalibrated';
import { pairState } from './pairState';

export class CoreServices implements PanelServices, vscode.Disposable {
  private readonly activeEmitter = new vscode.EventEmitter<ActivePromptState | undefined>();
  private readonly metricEmitter = new vscode.EventEmitter<string>();
  private readonly budgetEmitter = new vscode.EventEmitter<void>();
  private readonly galleryEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeActivePrompt = this.activeEmitter.event;
  readonly onDidChangeMetric = this.metricEmitter.event;
  readonly onDidChangeBudget = this.budgetEmitter.event;
  readonly onDidChangeGallery = this.galleryEmitter.event;
  private readonly disposables: vscode.Disposable[] = [
    this.activeEmitter,
    this.metricEmitter,
    this.budgetEmitter,
    this.galleryEmitter,
  ];
  private readonly later = new KeyedDebouncer<'active'>(80, () => this.checkActive());
  private lastKey = '';

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly metric: MetricChoice,
    private readonly policy: PolicyState,
    private readonly config: Config,
    redraw: Redraw,
    generator: Generator,
    private readonly openImageCommand: (image: string, sidecar?: string) => Promise<void>,
    private readonly calibrate: () => Promise<void>,
    private readonly cascadeMode: () => Promise<void>,
  ) {
    const schedule = () => this.later.schedule('active');
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(schedule),
      vscode.window.onDidChangeTextEditorSelection(schedule),
      vscode.workspace.onDidChangeTextDocument(schedule),
      redraw.onDidChange(schedule),
      metric.onDidChange((m) => this.metricEmitter.fire(m)),
      policy.onDidChange(() => this.budgetEmitter.fire()),
      generator.onDidGenerate(() => {
        this.galleryEmitter.fire();
        this.budgetEmitter.fire();
      }),
    );
  }

  getActivePrompt(): ActivePromptState | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return undefined;
    const doc = editor.document;
    const p = this.documents.promptAt(doc, editor.selection.active);
    const prediction = p && this.predictors.prediction(p.entry.prompt);
    if (!p || !prediction) return undefined;
    const v = this.policy.verdict(p, prediction);
    return {
      uri: doc.uri.toString(),
      range: { start: p.start, end: p.end, line: doc.positionAt(p.start).line },
      promptId: p.entry.id,
      prompt: p.entry.prompt,
      prediction,
      // The side Generate goes to first: a `# route:` line, or the edge of a cascade, before the prediction's route.
      decision: v.route === v.decision.route ? v.decision : { ...v.decision, route: v.route },
      why: v.why,
      metrics: this.predictors.metrics,
      weights: this.predictors.weights,
      heatScale: this.metric.heat.scale,
    };
  }

  getMetric(): string {
    return this.metric.current;
  }

  setMetric(id: string): void {
    void this.metric.set(id);
  }

  async getBudget(): Promise<BudgetState> {
    const policy = this.policy;
    await policy.refresh();
    const status = policy.status;
    const month = status?.month ?? new Date().toISOString().slice(0, 7);
    const gallery = await this.getGallery(10_000);
    const thisMonth = gallery.filter((g) => g.created.startsWith(month));
    const cloud = thisMonth.filter((g) => g.route === 'cloud').length;
    const edge = thisMonth.length - cloud;
    const settings = this.config.settings;
    return {
      month,
      cloudShare: {
        used: thisMonth.length ? cloud / thisMonth.length : 0,
        budget: policy.view().config.cloudShare,
        images: { edge, cloud },
        ...(status ? { cascade: status.cascade } : {}),
      },
      money: {
        spent: status?.spent ?? 0,
        reserved: status?.reserved ?? 0,
        // Through a gateway, the team's cap; else this workspace's (the ledger read with it).
        cap: status ? status.cap : settings.policy.monthlyCap,
        left:
          status && Number.isFinite(status.left)
            ? status.left
            : settings.policy.monthlyCap === null
              ? Number.POSITIVE_INFINITY
              : settings.policy.monthlyCap,
        currency: 'USD',
      },
      latest: (await policy.latestEntries(month)).slice(0, 20),
    };
  }

  async getGallery(limit: number): Promise<GalleryItem[]> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!folder) return [];
    return readGallery(path.resolve(folder, this.config.settings.generation.outputFolder), limit);
  }

  async getCalibration(): Promise<CalibrationState> {
    const engine = await this.predictors.ready();
    const state = this.predictors.state;
    if (!engine) throw new Error(state.status === 'error' ? state.message : 'the predictor is not loaded');
    const file = engine.predictor.file;
    const evaluation = file.evaluation as
      | {
          n?: number;
          routers?: Record<string, { apgr: number; cpt50: number; pgr50: number }>;
          curve?: Array<{ share: number; pgr: number }>;
        }
      | undefined;
    return {
      modelName: file.name,
      modelDir: state.modelDir,
      encoder: file.encoder.id,
      metrics: file.metrics,
      data: { source: String(file.training.data.source), pairs: Number(file.training.data.pairs) },
      ...(evaluation?.routers && typeof evaluation.n === 'number'
        ? { evaluation: { n: evaluation.n, routers: evaluation.routers } }
        : {}),
      ...(Array.isArray(evaluation?.curve) ? { curve: evaluation.curve } : {}),
      pair: pairState(file, engine.name, pairInUse(this.config)),
      mode: this.config.settings.policy.mode,
    };
  }

  startCalibration(): Promise<void> {
    return this.calibrate();
  }

  useCascadeMode(): Promise<void> {
    return this.cascadeMode();
  }

  openImage(image: string, sidecar?: string): Promise<void> {
    return this.openImageCommand(image, sidecar);
  }

  dispose(): void {
    this.later.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** Fires only when the prompt at the cursor or its prediction changed, not on every cursor move inside it. */
  private checkActive(): void {
    const state = this.getActivePrompt();
    const key = state
      ? `${state.uri}#${state.promptId}#${state.prompt}#${state.decision.route}#${state.decision.alpha}`
      : '';
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.activeEmitter.fire(state);
  }
}
