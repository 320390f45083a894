// The language features over prompts: hovers (a word's impact table), CodeLens verdicts (resolved only for the lenses
// on screen), and quick fixes that show the predicted change before they act.
import * as vscode from 'vscode';
import { tokenAt } from '../prompts/promptCache';
import type { MetricChoice } from '../heat/metricChoice';
import type { Redraw } from '../lifecycle/redraw';
import type { PolicyState } from '../policy/policyState';
import type { PredictorHost } from '../predictor/predictorHost';
import type { AnalysedDocuments } from '../prompts/analysedDocuments';
import type { Config } from '../settings/config';
import { SOURCE, WEAK_WORD } from '../diagnostics/diagnostics';
import { removalRange, removeWord, routeOverrideEdit } from './edits';
import type { DocPrompt } from '../prompts/regions';
import { hoverMarkdown, ignoreTitle, lensTitle, lensTooltip, removeTitle, routeTitle } from './texts';
import { COMMANDS } from '../../shared/commands';

/** The languages a provider serves: prompt files always, Markdown and plain text where the setting asks (checked per call). */
export const SELECTOR: vscode.DocumentSelector = [
  { language: 't2i-prompt' },
  { language: 'markdown' },
  { language: 'plaintext' },
];

export class PromptHovers implements vscode.HoverProvider {
  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly policy: PolicyState,
    private readonly metric: MetricChoice,
  ) {}

  async provideHover(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const p = this.documents.promptAt(doc, position);
    if (!p) return undefined;
    const prediction = await this.predictors.predict(p.entry.prompt, this.documents.signal(doc)).catch(() => undefined);
    if (!prediction) return undefined;
    const token = tokenAt(prediction, doc.offsetAt(position) - p.start);
    if (!token) return undefined;
    const predictors = this.predictors;
    const md = new vscode.MarkdownString(
      hoverMarkdown(
        token,
        prediction,
        this.policy.verdict(p, prediction),
        predictors.metrics,
        predictors.weights,
        this.metric.heat,
      ),
    );
    return new vscode.Hover(
      md,
      new vscode.Range(doc.positionAt(p.start + token.start), doc.positionAt(p.start + token.end)),
    );
  }
}

class VerdictLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly uri: vscode.Uri,
    readonly prompt: DocPrompt,
    readonly signal: AbortSignal,
  ) {
    super(range);
  }
}

export class VerdictLenses implements vscode.CodeLensProvider<vscode.CodeLens>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly policy: PolicyState,
    private readonly config: Config,
    redraw: Redraw,
  ) {
    this.sub = redraw.onDidChange(() => this.emitter.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.config.settings.codeLens.enabled) return [];
    const found = this.documents.prompts(doc);
    if (!found) return [];
    const lenses: vscode.CodeLens[] = [];
    const signal = this.documents.signal(doc);
    for (const p of found.prompts) {
      const line = doc.positionAt(p.start).line;
      const range = new vscode.Range(line, 0, line, 0);
      lenses.push(new VerdictLens(range, doc.uri, p, signal));
      lenses.push(
        new vscode.CodeLens(range, {
          title: 'Generate',
          tooltip: `Generate this prompt where the cost policy (or its "# route:" line) sends it`,
          command: COMMANDS.generatePrompt,
          arguments: [doc.uri, p.start],
        }),
      );
    }
    return lenses;
  }

  /** Called for the lenses on screen only: the prediction is computed (or awaited) here. */
  async resolveCodeLens(lens: vscode.CodeLens): Promise<vscode.CodeLens> {
    if (!(lens instanceof VerdictLens)) return lens;
    let prediction;
    try {
      prediction = await this.predictors.predict(lens.prompt.entry.prompt, lens.signal);
    } catch (error) {
      // The document changed first (VS Code asks again for the new version), or the predictor failed (logged).
      const title = lens.signal.aborted ? 'RouteT2I: analysing…' : `RouteT2I: ${(error as Error).message}`;
      lens.command = { title, command: COMMANDS.showLog };
      return lens;
    }
    if (!prediction) {
      lens.command = { title: 'RouteT2I: no predictor (see the log)', command: COMMANDS.showLog };
      return lens;
    }
    const v = this.policy.verdict(lens.prompt, prediction);
    lens.command = {
      title: lensTitle(v, prediction.truncated),
      tooltip: lensTooltip(v, prediction.truncated),
      command: COMMANDS.openPanel,
    };
    return lens;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}

export class PromptQuickFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly policy: PolicyState,
  ) {}

  async provideCodeActions(
    doc: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): Promise<vscode.CodeAction[]> {
    const found = this.documents.prompts(doc);
    if (!found) return [];
    const engine = await this.predictors.ready();
    if (!engine) return [];
    const view = this.policy.view();
    const actions: vscode.CodeAction[] = [];
    const text = doc.getText();
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== SOURCE || diagnostic.code !== WEAK_WORD) continue;
      const p = this.documents.promptAt(doc, diagnostic.range.start);
      if (!p) continue;
      const start = doc.offsetAt(diagnostic.range.start) - p.start;
      const end = doc.offsetAt(diagnostic.range.end) - p.start;
      const word = p.entry.prompt.slice(start, end);
      const before = await engine.predict(p.entry.prompt);
      const after = await engine.predictUncached(removeWord(p.entry.prompt, start, end));
      const remove = new vscode.CodeAction(
        removeTitle(word, this.policy.verdict(p, before, view), this.policy.verdict(p, after, view)),
        vscode.CodeActionKind.QuickFix,
      );
      const cut = removalRange(p.entry.prompt, start, end);
      remove.edit = new vscode.WorkspaceEdit();
      remove.edit.delete(
        doc.uri,
        new vscode.Range(doc.positionAt(p.start + cut.start), doc.positionAt(p.start + cut.end)),
      );
      remove.diagnostics = [diagnostic];
      remove.isPreferred = true;
      actions.push(remove);
      const ignore = new vscode.CodeAction(ignoreTitle(word), vscode.CodeActionKind.QuickFix);
      ignore.command = { title: ignoreTitle(word), command: COMMANDS.ignoreWord, arguments: [word] };
      ignore.diagnostics = [diagnostic];
      actions.push(ignore);
    }
    // Routing the prompt under the cursor, with or without a diagnostic.
    const p = this.documents.promptAt(doc, range.start);
    if (p) {
      const prediction = await engine.predict(p.entry.prompt);
      const v = this.policy.verdict(p, prediction, view);
      for (const side of ['cloud', 'edge'] as const) {
        // Offer the side the policy would not take, and never the override already there.
        if (p.override?.side === side || (!p.override && v.decision.route === side)) continue;
        const action = new vscode.CodeAction(routeTitle(side, v), vscode.CodeActionKind.QuickFix);
        const e = routeOverrideEdit(text, p, side);
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.newText);
        actions.push(action);
      }
      if (p.override) {
        const action = new vscode.CodeAction(
          `Let the cost policy route this prompt (remove "# route: ${p.override.side}"; policy says ${v.decision.route})`,
          vscode.CodeActionKind.QuickFix,
        );
        action.edit = new vscode.WorkspaceEdit();
        const line = doc.positionAt(p.override.start).line;
        action.edit.delete(doc.uri, new vscode.Range(line, 0, line + 1, 0));
        actions.push(action);
      }
    }
    return actions;
  }
}
