// Token heat in the editor (Error Lens's habits): six decoration types (the neutral bucket is not drawn) created once
// per configuration, coloured by contributed theme colours; only visible editors and their visible ranges are drawn;
// typing redraws after a pause, scrolling at most every 50 ms, and switching heat off or changing the metric clears at
// once.
import * as vscode from 'vscode';
import { heatRanges } from '../prompts/promptCache';
import type { Config } from '../settings/config';
import type { AnalysedDocuments } from '../prompts/analysedDocuments';
import type { MetricChoice } from './metricChoice';
import type { PredictorHost } from '../predictor/predictorHost';
import type { Redraw } from '../lifecycle/redraw';
import { KeyedDebouncer, KeyedThrottle } from '../lifecycle/debounce';
import { BUCKETS, NEUTRAL, type Bucket } from '../../shared/presentation';

/** Lines drawn beyond the visible ones, so a small scroll shows heat at once. */
const MARGIN_LINES = 20;

export interface HeatStats {
  uri: string;
  metric: string;
  ms: number;
  prompts: number;
  tokens: number;
  pending: number;
  /** Ranges per bucket name, as drawn (capped; read through the exported API, src/extension/api.ts). */
  buckets: Partial<Record<Bucket, Array<{ line: number; character: number; text: string }>>>;
  at: number;
}

export function bucketColor(bucket: Bucket, part: 'background' | 'border'): string {
  return `routet2i.heat.${bucket}.${part}`;
}

export class HeatController implements vscode.Disposable {
  private types: Array<vscode.TextEditorDecorationType | undefined> = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly typing: KeyedDebouncer<vscode.TextEditor>;
  private readonly scrolling: KeyedThrottle<vscode.TextEditor>;
  /** Per editor, the last redraw: its figures and the ranges drawn (read by the exported API through `statsOf`). */
  private readonly last = new Map<
    vscode.TextEditor,
    { stats: Omit<HeatStats, 'buckets'>; ranges: Partial<Record<Bucket, vscode.Range[]>> }
  >();
  private drawn = new Set<vscode.TextEditor>();

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly metric: MetricChoice,
    config: Config,
    redraw: Redraw,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.typing = new KeyedDebouncer(config.settings.heat.debounceMs, (editor) => this.draw(editor));
    this.scrolling = new KeyedThrottle(50, (editor) => this.draw(editor));
    this.createTypes();
    this.disposables.push(
      vscode.window.onDidChangeVisibleTextEditors(() => this.drawAll()),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.scrolling.run(e.textEditor)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        for (const editor of vscode.window.visibleTextEditors)
          if (editor.document === e.document) this.typing.schedule(editor);
      }),
      config.onDidChange((c) => {
        if (c.keys.some((k) => k.startsWith('heat.'))) {
          // Rebuild the decoration types only when the heat settings change (Error Lens: dispose, then recreate).
          this.typing.setDelay(config.settings.heat.debounceMs);
          this.createTypes();
        }
      }),
      redraw.onDidChange((uri) => {
        for (const editor of vscode.window.visibleTextEditors) {
          if (uri === undefined || editor.document.uri.toString() === uri) this.draw(editor);
        }
      }),
    );
    this.drawAll();
  }

  drawAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.draw(editor);
    // Editors no longer visible lose their stats.
    for (const editor of [...this.last.keys()])
      if (!vscode.window.visibleTextEditors.includes(editor)) this.last.delete(editor);
  }

  /** The last redraw of an editor with a sample of the words drawn per bucket: built on request, off the typing path. */
  statsOf(editor: vscode.TextEditor): HeatStats | undefined {
    const last = this.last.get(editor);
    if (!last) return undefined;
    const buckets: HeatStats['buckets'] = {};
    for (const [bucket, ranges] of Object.entries(last.ranges) as Array<[Bucket, vscode.Range[]]>) {
      buckets[bucket] = ranges
        .slice(0, 200)
        .map((r) => ({ line: r.start.line, character: r.start.character, text: editor.document.getText(r) }));
    }
    return { ...last.stats, buckets };
  }

  /** Redraws one editor now. */
  draw(editor: vscode.TextEditor): void {
    const started = performance.now();
    const heat = this.metric.heat;
    const found = heat.enabled ? this.documents.prompts(editor.document) : undefined;
    if (!found) {
      this.clear(editor);
      return;
    }
    const doc = editor.document;
    const visible = editor.visibleRanges.map((r) => ({
      start: doc.offsetAt(new vscode.Position(Math.max(0, r.start.line - MARGIN_LINES), 0)),
      end: doc.offsetAt(new vscode.Position(r.end.line + MARGIN_LINES, Number.MAX_SAFE_INTEGER)),
    }));
    const engine = this.predictors.engine;
    if (!engine) {
      this.clear(editor);
      return;
    }
    const signal = this.documents.signal(doc);
    const source = { prediction: (prompt: string) => engine.prediction(prompt, signal) };
    const ranges = heatRanges(found.prompts, visible, source, heat, this.predictors.weights);
    const drawn: Partial<Record<Bucket, vscode.Range[]>> = {};
    ranges.buckets.forEach((list, b) => {
      const type = this.types[b];
      if (!type) return;
      const vsRanges = list.map((r) => new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end)));
      editor.setDecorations(type, vsRanges);
      if (vsRanges.length) drawn[BUCKETS[b]!] = vsRanges;
    });
    this.drawn.add(editor);
    const ms = performance.now() - started;
    this.last.set(editor, {
      stats: {
        uri: doc.uri.toString(),
        metric: heat.metric,
        ms,
        prompts: ranges.prompts,
        tokens: ranges.tokens,
        pending: ranges.pending,
        at: Date.now(),
      },
      ranges: drawn,
    });
    this.log.trace(
      `heat (${heat.metric}) ${doc.uri.path.split('/').pop()}: ${ranges.tokens} words in ${ranges.prompts} visible prompts in ${ms.toFixed(1)} ms${ranges.pending ? `, ${ranges.pending} pending` : ''}`,
    );
  }

  private clear(editor: vscode.TextEditor): void {
    if (!this.drawn.has(editor)) return;
    for (const type of this.types) if (type) editor.setDecorations(type, []);
    this.drawn.delete(editor);
    this.last.delete(editor);
  }

  private createTypes(): void {
    for (const type of this.types) type?.dispose();
    this.drawn.clear();
    this.types = BUCKETS.map((bucket, i) =>
      i === NEUTRAL
        ? undefined
        : vscode.window.createTextEditorDecorationType({
            backgroundColor: new vscode.ThemeColor(bucketColor(bucket, 'background')),
            // High-contrast themes draw an underline instead of a fill (their background colours are transparent).
            borderColor: new vscode.ThemeColor(bucketColor(bucket, 'border')),
            borderStyle: 'solid',
            borderWidth: '0 0 2px 0',
            borderRadius: '2px',
            rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
          }),
    );
    this.drawAll();
  }

  dispose(): void {
    this.typing.dispose();
    this.scrolling.dispose();
    for (const type of this.types) type?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
