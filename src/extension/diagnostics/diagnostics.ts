// Weak words in the Problems view: per prompt, the words the edge model is predicted to handle worst (the engine's
// `weakTokens`), minus the workspace's ignored words, at the configured severity; plus the problems that stop a
// prompt file from being read (bad front matter). Whole documents, computed in slices so a long file never blocks.
import * as vscode from 'vscode';
import { weakWords } from '../prompts/promptCache';
import type { Config } from '../settings/config';
import type { AnalysedDocuments } from '../prompts/analysedDocuments';
import type { PredictorHost } from '../predictor/predictorHost';
import type { Redraw } from '../lifecycle/redraw';
import { KeyedDebouncer } from '../lifecycle/debounce';
import type { Severity } from '../settings/settings';
import { truncatedMessage, weakTokenMessage } from '../language/texts';
import { boundPrompt } from '../../router/prompt';

export const WEAK_WORD = 'weak-word';
export const PROMPT_FILE = 'prompt-file';
/** A prompt longer than the engine analyses (MAX_PROMPT_CHARS): the part after the cut is marked. */
export const PROMPT_TRUNCATED = 'prompt-truncated';
export const SOURCE = 'RouteT2I';

const SEVERITY: Record<Exclude<Severity, 'off'>, vscode.DiagnosticSeverity> = {
  hint: vscode.DiagnosticSeverity.Hint,
  information: vscode.DiagnosticSeverity.Information,
  warning: vscode.DiagnosticSeverity.Warning,
  error: vscode.DiagnosticSeverity.Error,
};

/** Prompts predicted between two yields to the event loop. */
const SLICE = 40;

export class DiagnosticsController implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('routet2i');
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private readonly debouncer = new KeyedDebouncer<vscode.TextDocument>(300, (doc) => void this.update(doc));
  private readonly runs = new Map<string, number>();

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly config: Config,
    redraw: Redraw,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((doc) => void this.update(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.debouncer.schedule(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        this.debouncer.cancel(doc);
        this.collection.delete(doc.uri);
      }),
      redraw.onDidChange((uri) => {
        for (const doc of vscode.workspace.textDocuments)
          if (uri === undefined || doc.uri.toString() === uri) this.debouncer.schedule(doc, 50);
      }),
    );
    for (const doc of vscode.workspace.textDocuments) void this.update(doc);
  }

  async update(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    const run = (this.runs.get(key) ?? 0) + 1;
    this.runs.set(key, run);
    const stale = () => this.runs.get(key) !== run || doc.isClosed;
    const settings = this.config.settings.diagnostics;
    const found = this.documents.prompts(doc);
    if (!found) {
      this.collection.delete(doc.uri);
      return;
    }
    const version = doc.version;
    const signal = this.documents.signal(doc);
    const out: vscode.Diagnostic[] = found.errors.map((e) => {
      const line = doc.lineAt(doc.positionAt(e.offset).line);
      const d = new vscode.Diagnostic(line.range, e.message, vscode.DiagnosticSeverity.Error);
      d.source = SOURCE;
      d.code = PROMPT_FILE;
      return d;
    });
    // The engine's own bound (boundPrompt, what Prediction.truncated reports), known before any prediction is made.
    for (const p of found.prompts) {
      const { truncated } = boundPrompt(p.entry.prompt);
      if (!truncated) continue;
      const range = new vscode.Range(doc.positionAt(p.start + truncated.at), doc.positionAt(p.end));
      const d = new vscode.Diagnostic(range, truncatedMessage(truncated), vscode.DiagnosticSeverity.Information);
      d.source = SOURCE;
      d.code = PROMPT_TRUNCATED;
      out.push(d);
    }
    // A document seen for the first time shows what is known at once; a re-analysis keeps the last set meanwhile.
    if (!this.collection.has(doc.uri)) this.collection.set(doc.uri, [...out]);
    const engine = await this.predictors.ready();
    if (stale()) return;
    if (engine && settings.severity !== 'off') {
      const metrics = engine.predictor.metrics;
      const weights = engine.predictor.normalisation.weights;
      const severity = SEVERITY[settings.severity];
      const started = performance.now();
      for (let i = 0; i < found.prompts.length; i += SLICE) {
        const slice = found.prompts.slice(i, i + SLICE);
        let predictions;
        try {
          predictions = await Promise.all(slice.map((p) => engine.predict(p.entry.prompt, signal)));
        } catch (error) {
          if (signal.aborted) return;
          this.log.warn(`Weak words of ${doc.uri.path}: ${(error as Error).message}`);
          return;
        }
        if (stale() || doc.version !== version) return;
        slice.forEach((p, j) => {
          for (const w of weakWords(p, predictions[j]!, metrics, weights, {
            limit: settings.maxPerPrompt,
            threshold: settings.threshold,
            ignored: settings.ignoredWords,
          })) {
            const range = new vscode.Range(doc.positionAt(w.start), doc.positionAt(w.end));
            const d = new vscode.Diagnostic(range, weakTokenMessage(w.token, metrics, weights), severity);
            d.source = SOURCE;
            d.code = WEAK_WORD;
            out.push(d);
          }
        });
        // Let typing and drawing in between.
        if (i + SLICE < found.prompts.length) await new Promise((r) => setImmediate(r));
      }
      this.log.trace(
        `weak words of ${doc.uri.path.split('/').pop()}: ${out.length} in ${found.prompts.length} prompts, ${(performance.now() - started).toFixed(1)} ms`,
      );
    }
    if (stale() || doc.version !== version) return;
    this.collection.set(doc.uri, out);
  }

  dispose(): void {
    this.debouncer.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
