// The editor features, built when the first prompt document (or a command) needs them; bundled apart from the
// activation code as dist/core.js (see esbuild.mjs), so the engine, its word tagger and the backends load only then.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MetricChoice } from '../heat/metricChoice';
import { AnalysedDocuments } from '../prompts/analysedDocuments';
import { Redraw } from './redraw';
import { Calibration } from '../calibrate/calibration';
import { WorkLearning } from '../calibrate/learning';
import { CompareOnBoth } from '../compare/compareOnBoth';
import { UncalibratedPair } from '../calibrate/uncalibrated';
import type { Core, CoreDeps } from './coreApi';
import type { FeatureState } from '../api';
import { DiagnosticsController } from '../diagnostics/diagnostics';
import { PredictorHost } from '../predictor/predictorHost';
import { Generator, type Generated } from '../generate/generation';
import { HeatController } from '../heat/heat';
import { VERDICT } from '../../shared/presentation';
import { CoreServices } from '../panel/coreServices';
import { PolicyState } from '../policy/policyState';
import { PromptHovers, PromptQuickFixes, SELECTOR, VerdictLenses } from '../language/providers';
import { Secrets } from '../apiKeys/secrets';
import { StatusController } from '../status/status';
import { metricLabel } from '../../shared/presentation';

export async function startCore(ctx: CoreDeps): Promise<Core> {
  const { log, config } = ctx;
  const disposables: vscode.Disposable[] = [];
  const own = <T extends vscode.Disposable>(d: T): T => {
    disposables.push(d);
    return d;
  };
  const predictors = own(new PredictorHost(config, log));
  const secrets = own(new Secrets(ctx.extension.secrets, log));
  const metric = own(new MetricChoice(ctx.extension.workspaceState, config, predictors, log));
  const policy = own(new PolicyState(ctx.extension, config, predictors, secrets, log));
  const documents = own(new AnalysedDocuments(config));
  const redraw = own(
    new Redraw([
      predictors.onDidChange,
      predictors.onDidPredict,
      policy.onDidChange,
      metric.onDidChange,
      config.onDidChange,
    ]),
  );
  const generator = own(new Generator(documents, predictors, config, policy, secrets, log));
  const learning = own(new WorkLearning(config, log, path.join(__dirname, 'trainWorker.js')));
  const calibration = new Calibration(config, policy, secrets, log, path.join(__dirname, 'trainWorker.js'), learning);
  own(
    generator.onDidMeasureBoth((m) =>
      learning.measured(m.prompt, m.edge, m.cloud, m.sides, m.labels, 'cascade', m.seed),
    ),
  );
  const compare = own(new CompareOnBoth(documents, predictors, config, policy, secrets, learning, log));
  own(config.onDidChange((c) => (c.engine ? void predictors.reload() : undefined)));
  await predictors.ready();

  const heat = own(new HeatController(documents, predictors, metric, config, redraw, log));
  const diagnostics = own(new DiagnosticsController(documents, predictors, config, redraw, log));
  const uncalibrated = own(new UncalibratedPair(documents, predictors, config));
  const status = own(new StatusController(documents, predictors, metric, policy, config, redraw, log));
  const lenses = own(new VerdictLenses(documents, predictors, policy, config, redraw));
  own(vscode.languages.registerHoverProvider(SELECTOR, new PromptHovers(documents, predictors, policy, metric)));
  own(vscode.languages.registerCodeLensProvider(SELECTOR, lenses));
  own(
    vscode.languages.registerCodeActionsProvider(SELECTOR, new PromptQuickFixes(documents, predictors, policy), {
      providedCodeActionKinds: PromptQuickFixes.kinds,
    }),
  );

  // "The editor holds prompts" for menus and key bindings.
  const setContext = () => {
    const editor = vscode.window.activeTextEditor;
    void vscode.commands.executeCommand(
      'setContext',
      'routet2i.promptEditor',
      !!editor && documents.isAnalysed(editor.document),
    );
  };
  own(vscode.window.onDidChangeActiveTextEditor(setContext));
  own(config.onDidChange(setContext));
  setContext();

  const openImage = async (image: string, sidecar?: string): Promise<void> => {
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(image), {
      viewColumn: vscode.ViewColumn.Beside,
      preview: true,
    });
    // The sidecar joins the image's column: a second "Beside" would open yet another column.
    const column = vscode.window.tabGroups.activeTabGroup.viewColumn;
    if (sidecar)
      await vscode.window.showTextDocument(vscode.Uri.file(sidecar), {
        viewColumn: column,
        preview: true,
        preserveFocus: true,
      });
  };
  const services = own(
    new CoreServices(
      documents,
      predictors,
      metric,
      policy,
      config,
      redraw,
      generator,
      openImage,
      () => calibration.run(),
      () => uncalibrated.useCascadeMode(),
    ),
  );
  let lastGenerated: Generated[] = [];
  own(generator.onDidGenerate((g) => (lastGenerated = g)));

  // What the exported API reads (src/extension/api.ts): getters over the features' own state, computed on demand.
  const state: FeatureState = {
    heat: () => vscode.window.visibleTextEditors.map((e) => heat.statsOf(e)).filter((s) => s !== undefined),
    status: () => status.snapshot(),
    verdict: () => status.verdict ?? null,
    engine: () => {
      const s = predictors.state;
      return {
        status: s.status,
        modelDir: s.modelDir,
        name: predictors.engine?.name ?? null,
        metrics: predictors.metrics.map((m) => m.id),
        metric: metric.current,
        message: s.status === 'error' ? s.message : null,
        cached: predictors.engine?.cached ?? 0,
        // The analysis in progress: prompts waiting for their time slice, and predictions made so far.
        queued: predictors.engine?.queued ?? 0,
        computed: predictors.engine?.computed ?? 0,
      };
    },
    generated: () => lastGenerated,
    learning: () => ({
      last: learning.last ?? null,
      compared: compare.last ?? null,
      calibration: uncalibrated.state ?? null,
    }),
    diagnosticsCount: () =>
      [...vscode.workspace.textDocuments].map((d) => ({
        uri: d.uri.toString(),
        count: diagnostics.collection.get(d.uri)?.length ?? 0,
      })),
  };
  const changed = own(new vscode.EventEmitter<void>());
  for (const event of [redraw.onDidChange, predictors.onDidChange, generator.onDidGenerate, learning.onDidDecide])
    own((event as vscode.Event<unknown>)(() => changed.fire()));

  return {
    services,
    state,
    onDidChangeState: changed.event,
    generate: (target, force) => generator.generate(target, force),
    async chooseMetric() {
      const engine = await predictors.ready();
      const metrics = engine?.predictor.metrics ?? [];
      const current = metric.current;
      const items = [
        {
          label: metricLabel(metrics, VERDICT),
          description: VERDICT,
          detail: 'Each word by how much it favours the edge (+) or the cloud (−): the PRS-weighted cloud advantage',
          id: VERDICT,
        },
        ...metrics.map((m) => ({
          label: m.label,
          description: m.id,
          detail: `Each word by its impact on the edge model's predicted ${m.label.toLowerCase()}`,
          id: m.id,
        })),
      ].map((i) => ({ ...i, picked: i.id === current, label: i.id === current ? `$(check) ${i.label}` : i.label }));
      const picked = await vscode.window.showQuickPick(items, {
        title: 'RouteT2I: Heat Metric',
        placeHolder: 'Colour words by their predicted impact on…',
      });
      if (!picked) return;
      await metric.set(picked.id);
      log.info(`Heat metric: ${picked.id}`);
    },
    async toggleHeat() {
      const inspected = vscode.workspace.getConfiguration('routet2i').inspect<boolean>('heat.enabled');
      const target = inspected?.workspaceValue !== undefined ? 'workspace' : 'user';
      const next = !config.settings.heat.enabled;
      await config.update('heat.enabled', next, target);
      log.info(`Token heat ${next ? 'on' : 'off'}`);
    },
    setApiKey: (backend) => secrets.setApiKey(backend),
    setGatewayKey: () => secrets.setGatewayKey(),
    calibrate: () => calibration.run(),
    compareOnBoth: () => compare.run(),
    uncalibratedHelp: () => uncalibrated.help(),
    useCascadeMode: () => uncalibrated.useCascadeMode(),
    async ignoreWord(word: string) {
      const words = [...new Set([...config.settings.diagnostics.ignoredWords, word.toLowerCase()])];
      const where = await config.update('diagnostics.ignoredWords', words, 'workspace');
      log.info(`Ignoring "${word}" in weak-word diagnostics (${where} settings)`);
    },
    openImage,
    dispose() {
      for (const d of disposables.reverse()) d.dispose();
    },
  };
}
