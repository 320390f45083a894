// Honest about unknown pairs (docs/calibration.md): when the predictor in use was not calibrated on the configured edge
// and cloud models, routing still runs, but the CodeLens, the hover and a language status item say "uncalibrated" and
// offer the two things that work there — cascade mode and calibration — as commands. Nothing changes the mode but the
// user. Its own providers, so the verdict's lens, hover and status item stay as they are.
import * as vscode from 'vscode';
import type { SecretSource } from '../../backends/types';
import { calibrationFor, modelId, type Calibration } from '../../router/learning/modelPair';
import { UNCALIBRATED, UNCALIBRATED_REMEDY, uncalibratedNote, uncalibratedReason } from '../../shared/calibration';
import { COMMANDS } from '../../shared/commands';
import { buildBackend } from '../policy/policyState';
import type { PredictorHost } from '../predictor/predictorHost';
import type { AnalysedDocuments } from '../prompts/analysedDocuments';
import type { Config } from '../settings/config';
import { SELECTOR } from '../language/providers';

// Only the configured model names are read here; nothing is sent, so no key is needed.
const NO_SECRETS: SecretSource = { get: () => undefined };

/** The pair in use ("backend:model" per side, as configured), where both sides are configured and build. */
export function pairInUse(config: Config): { edge?: string; cloud?: string } {
  const side = (s: 'edge' | 'cloud'): string | undefined => {
    try {
      const b = buildBackend(config.settings, s, NO_SECRETS);
      return b ? modelId(b.name, b.model) : undefined;
    } catch {
      return undefined;
    }
  };
  return { edge: side('edge'), cloud: side('cloud') };
}

export class UncalibratedPair implements vscode.Disposable, vscode.CodeLensProvider, vscode.HoverProvider {
  private readonly item = vscode.languages.createLanguageStatusItem('routet2i.calibration', SELECTOR);
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.item, this.emitter];
  private current: Calibration | undefined;

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly config: Config,
  ) {
    this.item.name = 'RouteT2I calibration';
    this.disposables.push(
      predictors.onDidChange(() => this.update()),
      config.onDidChange(() => this.update()),
      vscode.languages.registerCodeLensProvider(SELECTOR, this),
      vscode.languages.registerHoverProvider(SELECTOR, this),
    );
    this.update();
  }

  /** The calibration of the predictor in use on the configured pair; undefined while no predictor is loaded. */
  get state(): Calibration | undefined {
    return this.current;
  }

  private update(): void {
    const engine = this.predictors.engine;
    this.current = engine ? calibrationFor(engine.predictor.file, pairInUse(this.config)) : undefined;
    const c = this.current;
    if (!c || c.calibrated) {
      this.item.text = c ? `calibrated on ${c.pair.edge} → ${c.pair.cloud}` : '';
      this.item.severity = vscode.LanguageStatusSeverity.Information;
      this.item.detail = '';
      this.item.command = undefined;
    } else {
      this.item.text = `RouteT2I: ${UNCALIBRATED}`;
      this.item.severity = vscode.LanguageStatusSeverity.Warning;
      this.item.detail = uncalibratedNote(engine!.name, c.why);
      this.item.command = { title: 'What works', command: COMMANDS.uncalibratedHelp };
    }
    this.emitter.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const c = this.current;
    if (!c || c.calibrated || !this.config.settings.codeLens.enabled) return [];
    const found = this.documents.prompts(doc);
    if (!found) return [];
    return found.prompts.map((p) => {
      const line = doc.positionAt(p.start).line;
      return new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
        title: `$(warning) ${UNCALIBRATED}`,
        tooltip: uncalibratedNote(this.predictors.engine?.name ?? 'the predictor', c.why),
        command: COMMANDS.uncalibratedHelp,
      });
    });
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const c = this.current;
    if (!c || c.calibrated || !this.documents.promptAt(doc, position)) return undefined;
    const md = new vscode.MarkdownString(
      `**${UNCALIBRATED}** — ${uncalibratedReason(this.predictors.engine?.name ?? 'the predictor', c.why)}\n\n[Use cascade mode](command:${COMMANDS.useCascadeMode}) · [Calibrate on my models](command:${COMMANDS.calibrate})`,
    );
    md.isTrusted = { enabledCommands: [COMMANDS.useCascadeMode, COMMANDS.calibrate] };
    return new vscode.Hover(md);
  }

  /** Offers cascade mode and calibration; only the user's choice changes anything. */
  async help(): Promise<void> {
    const c = this.current;
    const why =
      c && !c.calibrated
        ? uncalibratedNote(this.predictors.engine?.name ?? 'the predictor', c.why)
        : 'The predictor in use was calibrated on the models in use.';
    const picked = await vscode.window.showInformationMessage(
      why,
      { modal: false, detail: UNCALIBRATED_REMEDY },
      'Use Cascade Mode',
      'Calibrate on My Models',
    );
    if (picked === 'Use Cascade Mode') await this.useCascadeMode();
    else if (picked === 'Calibrate on My Models') await vscode.commands.executeCommand(COMMANDS.calibrate);
  }

  async useCascadeMode(): Promise<void> {
    const where = await this.config.update('policy.mode', 'cascade', 'workspace');
    void vscode.window.showInformationMessage(
      `RouteT2I: cascade mode is on (${where} settings): each prompt renders on the edge, is measured, and goes to the cloud only when it falls short.`,
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
