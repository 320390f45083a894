// The features' shared view of documents: which ones RouteT2I analyses, their prompts (cached by version), each
// prompt's prediction and verdict, and the heat metric in use. One `onDidChange` tells every feature to redraw.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Prediction } from '../../router/types';
import { DocumentPrompts, type DocumentSource } from './analysis';
import type { Config } from '../settings/config';
import type { EngineHost } from '../predictor/engineHost';
import { modelHeatFactor, VERDICT } from '../heat/heatScale';
import type { PolicyState } from '../policy/policyState';
import { kindOfLanguage, promptAt, type DocKind, type DocPrompt, type DocPrompts } from './regions';
import { verdictOf, type PolicyView, type Verdict } from '../verdict/verdict';

const METRIC_KEY = 'routet2i.heatMetric';

/** The heat metric: the user's last choice in this workspace, else the `routet2i.heat.metric` setting. */
export class MetricChoice implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<string>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private warned = '';

  constructor(
    private readonly state: vscode.Memento,
    private readonly config: Config,
    private readonly engines: EngineHost,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      config.onDidChange((c) => {
        // Setting the metric in settings overrides an earlier pick.
        if (c.keys.includes('heat.metric')) void this.state.update(METRIC_KEY, undefined).then(() => this.emitter.fire(this.current));
      }),
      engines.onDidChange(() => this.emitter.fire(this.current)),
    );
  }

  /** The metric id in use, or `verdict`; one the predictor does not have falls back to the verdict. */
  get current(): string {
    const wanted = this.state.get<string>(METRIC_KEY) ?? this.config.settings.heat.metric;
    if (wanted === VERDICT) return VERDICT;
    const metrics = this.engines.metrics;
    if (metrics.length === 0 || metrics.some((m) => m.id === wanted)) return wanted;
    if (this.warned !== wanted) {
      this.warned = wanted;
      this.log.warn(`Heat metric "${wanted}" is not one of the predictor's metrics (${metrics.map((m) => m.id).join(', ')}); showing the verdict`);
    }
    return VERDICT;
  }

  async set(id: string): Promise<void> {
    await this.state.update(METRIC_KEY, id);
    this.emitter.fire(this.current);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

export class Analyzer implements vscode.Disposable {
  readonly docs = new DocumentPrompts();
  private readonly emitter = new vscode.EventEmitter<string | undefined>();
  /** A document's analysis changed (its URI), or everything did (undefined). */
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  constructor(
    readonly config: Config,
    readonly engines: EngineHost,
    readonly policy: PolicyState,
    readonly metric: MetricChoice,
  ) {
    this.disposables.push(
      engines.onDidChange(() => this.emitter.fire(undefined)),
      engines.onDidPredict(() => this.emitter.fire(undefined)),
      policy.onDidChange(() => this.emitter.fire(undefined)),
      metric.onDidChange(() => this.emitter.fire(undefined)),
      config.onDidChange(() => this.emitter.fire(undefined)),
      vscode.workspace.onDidCloseTextDocument((d) => this.docs.forget(d.uri.toString())),
    );
  }

  kind(doc: vscode.TextDocument): DocKind | undefined {
    const kind = kindOfLanguage(doc.languageId);
    if (kind === 't2i') return kind;
    if (kind && (this.config.settings.analysis.languages as string[]).includes(kind)) return kind;
    return undefined;
  }

  isAnalysed(doc: vscode.TextDocument): boolean {
    return this.kind(doc) !== undefined;
  }

  source(doc: vscode.TextDocument, kind: DocKind): DocumentSource {
    return { key: doc.uri.toString(), version: doc.version, kind, name: path.basename(doc.uri.path) || doc.uri.toString(), getText: () => doc.getText() };
  }

  /** The prompts of an analysed document (undefined for others). */
  prompts(doc: vscode.TextDocument): DocPrompts | undefined {
    const kind = this.kind(doc);
    return kind ? this.docs.of(this.source(doc, kind)) : undefined;
  }

  promptAt(doc: vscode.TextDocument, position: vscode.Position): DocPrompt | undefined {
    const found = this.prompts(doc);
    return found && promptAt(found.prompts, doc.offsetAt(position));
  }

  /** Cached, or computed now (lexical encoder); undefined while pending or before the predictor is ready. */
  prediction(prompt: string): Prediction | undefined {
    return this.engines.engine?.prediction(prompt);
  }

  /** Waits for the predictor and the prediction, whatever the encoder. */
  async predict(prompt: string): Promise<Prediction | undefined> {
    const engine = await this.engines.ready();
    return engine?.predict(prompt);
  }

  verdict(p: DocPrompt, prediction: Prediction, view: PolicyView = this.policy.view()): Verdict {
    return verdictOf(prediction, this.engines.weights, view, p.override?.side);
  }

  get heat(): { enabled: boolean; metric: string; scale: number } {
    const h = this.config.settings.heat;
    return { enabled: h.enabled, metric: this.metric.current, scale: h.scale * modelHeatFactor(this.engines.engine?.predictor.file.heat) };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
