// The status bar: the verdict of the prompt at the cursor with this month's money (click: the panel), and a language
// status item for the predictor and the heat metric (vscode-eslint's habit: per-language state, updated only when it
// changes).
import * as vscode from 'vscode';
import type { Config } from '../settings/config';
import type { AnalysedDocuments } from '../prompts/analysedDocuments';
import type { MetricChoice } from '../heat/metricChoice';
import type { PolicyState } from '../policy/policyState';
import type { PredictorHost } from '../predictor/predictorHost';
import type { Redraw } from '../lifecycle/redraw';
import { KeyedDebouncer } from '../lifecycle/debounce';
import { PARETO_WORDS } from '../../router/prs';
import { fixed, metricLabel, money } from '../../shared/presentation';
import { budgetText, statusText } from '../language/texts';
import type { Verdict } from '../verdict/verdict';
import { COMMANDS } from '../../shared/commands';

export interface StatusSnapshot {
  visible: boolean;
  text: string;
  tooltip: string;
  engine: { text: string; detail: string; busy: boolean; severity: 'information' | 'warning' | 'error' };
}

export class StatusController implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('routet2i.verdict', vscode.StatusBarAlignment.Right, 100);
  private readonly language = vscode.languages.createLanguageStatusItem('routet2i.engine', { language: 't2i-prompt' });
  private readonly disposables: vscode.Disposable[] = [this.item, this.language];
  private readonly later = new KeyedDebouncer<'status'>(60, () => this.update());
  private shown = '';
  private lastVerdict: Verdict | undefined;
  /** The side each prompt (by document and text) was last shown going to. */
  private readonly sides = new Map<string, string>();

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly metric: MetricChoice,
    private readonly policy: PolicyState,
    private readonly config: Config,
    redraw: Redraw,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item.name = 'RouteT2I verdict';
    this.item.command = COMMANDS.openPanel;
    this.language.name = 'RouteT2I predictor';
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.window.onDidChangeTextEditorSelection(() => this.later.schedule('status')),
      vscode.workspace.onDidChangeTextDocument(() => this.later.schedule('status')),
      redraw.onDidChange(() => this.later.schedule('status')),
      predictors.onDidChange(() => this.updateLanguage()),
      metric.onDidChange(() => this.updateLanguage()),
      config.onDidChange(() => this.updateLanguage()),
    );
    this.updateLanguage();
    this.update();
  }

  /** The verdict shown now (for the panel services). */
  get verdict(): Verdict | undefined {
    return this.lastVerdict;
  }

  /**
   * Says in the log why the prompt at the cursor changed sides when nothing in it changed (the month's cap reached,
   * the cloud share used up, α moved with the history): otherwise the status bar would flip without a word.
   */
  private noteSideChange(key: string, id: string, v: Verdict): void {
    const side = v.cascade ? 'cascade' : v.route;
    const before = this.sides.get(key);
    this.sides.set(key, side);
    if (this.sides.size > 500) this.sides.delete(this.sides.keys().next().value!);
    if (before !== undefined && before !== side)
      this.log.info(
        `Prompt ${id} now goes to ${side === 'cascade' ? 'the edge first (cascade)' : `the ${side}`} instead of ${before === 'cascade' ? 'a cascade' : `the ${before}`}: ${v.why}`,
      );
  }

  snapshot(): StatusSnapshot {
    return {
      visible: this.shown !== '',
      text: this.item.text,
      tooltip: typeof this.item.tooltip === 'string' ? this.item.tooltip : (this.item.tooltip?.value ?? ''),
      engine: {
        text: this.language.text,
        detail: this.language.detail ?? '',
        busy: this.language.busy,
        severity:
          this.language.severity === vscode.LanguageStatusSeverity.Error
            ? 'error'
            : this.language.severity === vscode.LanguageStatusSeverity.Warning
              ? 'warning'
              : 'information',
      },
    };
  }

  update(): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !this.documents.isAnalysed(editor.document)) return this.hide();
    const month = this.policy.status;
    // Through a gateway the money is the team's, and says so.
    const team = this.policy.gatewayUrl !== undefined;
    const budget = month
      ? `${team ? 'team ' : ''}${budgetText(month)}`
      : team
        ? "team's month unreadable"
        : 'ledger unreadable';
    const p = this.documents.promptAt(editor.document, editor.selection.active);
    const prediction = p && this.predictors.prediction(p.entry.prompt);
    let text: string;
    let tooltip: vscode.MarkdownString;
    if (p && prediction) {
      const v = this.policy.verdict(p, prediction);
      this.lastVerdict = v;
      this.noteSideChange(`${editor.document.uri.toString()}#${p.entry.prompt}`, p.entry.id, v);
      text = `${statusText(v)} · ${budget}`;
      tooltip = new vscode.MarkdownString(
        [
          `**RouteT2I** — prompt ${p.entry.id}`,
          '',
          `Edge ${fixed(v.edge)} · cloud ${fixed(v.cloud)} · PRS ${fixed(v.prs)} (${PARETO_WORDS[v.pareto]})`,
          '',
          `Route: **${v.route}** — ${v.why}`,
          '',
          this.budgetLine(),
          '',
          'Click to open the RouteT2I panel.',
        ].join('\n'),
      );
    } else {
      this.lastVerdict = undefined;
      text = `$(graph) RouteT2I · ${budget}`;
      tooltip = new vscode.MarkdownString(
        [
          `**RouteT2I** — ${p ? 'predicting…' : 'no prompt at the cursor'}`,
          '',
          this.budgetLine(),
          '',
          'Click to open the RouteT2I panel.',
        ].join('\n'),
      );
    }
    const key = `${text}\n${tooltip.value}`;
    if (key === this.shown) return;
    this.shown = key;
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: text.replace(/\$\([\w-]+\)\s*/g, ''), role: 'button' };
    this.item.show();
  }

  private budgetLine(): string {
    const policy = this.policy;
    const month = policy.status;
    const gateway = policy.gatewayUrl;
    if (!month)
      return `Money: ${gateway ? `the gateway's month cannot be read` : 'the ledger cannot be read'} (${policy.ledgerProblem ?? 'unknown'}).`;
    const cap = month.cap === null ? 'no monthly cap' : `cap ${money(month.cap)}, ${money(month.left)} left`;
    const whose = gateway
      ? `The team's month through the gateway ${gateway} (${month.month})`
      : `This month (${month.month})`;
    return `${whose}: ${money(month.spent)} spent${month.reserved ? `, ${money(month.reserved)} reserved` : ''}; ${cap}; cloud share budget ${Math.round(policy.view().config.cloudShare * 100)}%.`;
  }

  private hide(): void {
    if (this.shown === '') return;
    this.shown = '';
    this.lastVerdict = undefined;
    this.item.hide();
  }

  private updateLanguage(): void {
    const state = this.predictors.state;
    const languages = ['t2i-prompt', ...this.config.settings.analysis.languages];
    this.language.selector = languages.map((language) => ({ language }));
    const metric = metricLabel(this.predictors.metrics, this.metric.current);
    if (state.status === 'loading') {
      this.language.text = 'RouteT2I: loading predictor';
      this.language.busy = true;
      this.language.severity = vscode.LanguageStatusSeverity.Information;
      this.language.detail = state.modelDir;
      this.language.command = { title: 'Show Log', command: COMMANDS.showLog };
    } else if (state.status === 'error') {
      this.language.text = 'RouteT2I: no predictor';
      this.language.busy = false;
      this.language.severity = vscode.LanguageStatusSeverity.Error;
      this.language.detail = state.message;
      this.language.command = { title: 'Show Log', command: COMMANDS.showLog };
    } else {
      this.language.text = `RouteT2I: ${state.engine.name}${this.config.settings.heat.enabled ? ` · heat: ${metric}` : ' · heat off'}`;
      this.language.busy = false;
      this.language.severity = this.config.restricted
        ? vscode.LanguageStatusSeverity.Warning
        : vscode.LanguageStatusSeverity.Information;
      this.language.detail = this.config.restricted
        ? "Restricted Mode: the workspace's model, backend and policy settings are ignored; no generation"
        : `predictor ${state.isDefault ? '(shipped)' : state.modelDir}`;
      this.language.command = { title: 'Choose Metric', command: COMMANDS.chooseMetric };
    }
  }

  dispose(): void {
    this.later.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
