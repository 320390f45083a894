// "Generate": the prompts a command covers go through the backends' dispatcher under the cost policy (or the side a
// `# route:` line or "Generate on edge/cloud" forces), with a cancellable progress notification; each image is saved
// with its sidecar under the output folder, opened, and its cost is in the ledger.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Dispatcher, type DispatchEvent, type DispatchItem, type DispatchOutcome } from '../../generation/dispatcher';
import { Ledger } from '../../generation/ledger';
import { GatewayError, gatewayOutcome, type GatewayClient } from '../../generation/gatewayClient';
import { saveOutcome, type SidecarContext } from '../../generation/output';
import { fileBackend, REQUIRED_SECRETS } from '../../backends/registry';
import type { Backend, BackendName, QualityScorer } from '../../backends/types';
import { CancelledError, RouteT2IError } from '../../router/errors';
import type { Metric } from '../../router/metrics';
import type { Scores, Side } from '../../router/types';
import type { LabelSource } from '../../router/learning/labelSource';
import { scorerLabels } from '../calibrate/learning';
import type { Config } from '../settings/config';
import type { AnalysedDocuments } from '../prompts/analysedDocuments';
import type { PredictorHost } from '../predictor/predictorHost';
import { groupByRoute, outputStem, promptsFor, requestFor, type GenerateScope } from './generationPlan';
import { buildBackend, buildNamedBackend, policyConfig, type PolicyState } from '../policy/policyState';
import type { DocPrompt } from '../prompts/regions';
import type { Secrets } from '../apiKeys/secrets';
import { money } from '../../shared/presentation';
import { COMMANDS } from '../../shared/commands';

export interface MeasuredBoth {
  prompt: string;
  edge: Scores;
  cloud: Scores;
  sides: { edge: { backend: string; model: string }; cloud: { backend: string; model: string } };
  labels: LabelSource;
  seed?: number;
}

export interface Generated {
  image: string;
  sidecar: string;
  route: Side;
  cost: number;
}

/** Where "Generate" was asked for: the active editor, or a prompt named by its document and offset (CodeLens). */
export type GenerateTarget = { scope: GenerateScope } | { uri: vscode.Uri; offset: number };

export class Generator implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Generated[]>();
  /** Images were saved (the gallery and the budget change). */
  readonly onDidGenerate = this.emitter.event;
  private readonly measuredBoth = new vscode.EventEmitter<MeasuredBoth>();
  /** A cascade escalated and both images were measured: a labelled pair for the workspace's pairs log. */
  readonly onDidMeasureBoth = this.measuredBoth.event;

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly config: Config,
    private readonly policy: PolicyState,
    private readonly secrets: Secrets,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  dispose(): void {
    this.emitter.dispose();
    this.measuredBoth.dispose();
  }

  async generate(target: GenerateTarget, force?: Side): Promise<Generated[]> {
    try {
      return await this.run(target, force);
    } catch (error) {
      if (error instanceof CancelledError || (error as RouteT2IError).code === 'cancelled') {
        this.log.info('Generation cancelled');
        void vscode.window.showInformationMessage('RouteT2I: generation cancelled.');
        return [];
      }
      const message =
        error instanceof RouteT2IError
          ? `${error.message}${error.hint ? ` (${error.hint})` : ''}`
          : `generation failed: ${(error as Error).message}`;
      this.log.error(message);
      const code = (error as RouteT2IError).code;
      const gateway = error instanceof GatewayError;
      const actions =
        code === 'no-key'
          ? ['Set API Key']
          : code === 'gateway-auth'
            ? ['Set Gateway Key']
            : code === 'no-backend' || code === 'config' || code === 'gateway-config' || code === 'gateway-unavailable'
              ? ['Open Settings']
              : [];
      void vscode.window.showErrorMessage(`RouteT2I: ${message}`, ...actions).then((choice) => {
        if (choice === 'Set API Key') void vscode.commands.executeCommand(COMMANDS.setApiKey);
        if (choice === 'Set Gateway Key') void vscode.commands.executeCommand(COMMANDS.setGatewayKey);
        if (choice === 'Open Settings')
          void vscode.commands.executeCommand(
            'workbench.action.openSettings',
            gateway ? 'routet2i.gateway' : 'routet2i.backends',
          );
      });
      return [];
    }
  }

  private async run(target: GenerateTarget, force?: Side): Promise<Generated[]> {
    const config = this.config;
    if (config.restricted) {
      throw new RouteT2IError(
        'restricted',
        'RouteT2I does not generate in Restricted Mode: this workspace is not trusted',
        'trust the workspace (Manage Workspace Trust) to generate',
      );
    }
    const { doc, prompts } = await this.promptsOf(target);
    const gateway = await this.policy.gatewayClient();
    if (gateway) return this.runOnGateway(gateway, doc, prompts, force);
    const settings = config.settings;
    const edge = force === 'cloud' ? undefined : this.backend('edge');
    const cloud = force === 'edge' ? undefined : this.backend('cloud');
    const where = vscode.workspace.asRelativePath(doc.uri);
    // A file's `backend:` front matter replaces the configured backend on that side for its prompts.
    const named = new Map<string, Backend>();
    const backendsOf = (p: DocPrompt): DispatchItem['backends'] => {
      const wanted = fileBackend(p.settings.backend, where);
      if (!wanted || (force && wanted.side !== force) || (wanted.side === 'edge' ? edge : cloud)?.name === wanted.name)
        return undefined;
      let backend = named.get(wanted.name);
      if (!backend)
        named.set(wanted.name, (backend = buildNamedBackend(settings, wanted.name, wanted.side, this.secrets)));
      return { [wanted.side]: backend };
    };
    const fileBackends = prompts.map(backendsOf);
    // Every prompt needs a backend on the side it is sent to (or on either side), from the settings or its file.
    const covered = (side: Side) => (side === 'edge' ? edge : cloud) || fileBackends.every((b) => b?.[side]);
    if (force && !covered(force)) {
      throw new RouteT2IError(
        'no-backend',
        `no ${force} backend is configured`,
        `set "routet2i.backends.${force}" and its "routet2i.backends.settings"`,
      );
    }
    if (!edge && !cloud && !fileBackends.every((b) => b)) {
      throw new RouteT2IError(
        'no-backend',
        'no backend is configured',
        'set "routet2i.backends.edge" and/or "routet2i.backends.cloud" in the settings',
      );
    }
    for (const b of [edge, cloud, ...named.values()]) {
      if (b && REQUIRED_SECRETS[b.name as BackendName] && !(await this.secrets.get(b.secretName!))) {
        throw new RouteT2IError('no-key', `${b.name}: no API key is stored`, 'run "RouteT2I: Set API Key"');
      }
    }
    const engine = await this.predictors.ready();
    if (!engine) throw new RouteT2IError('no-model', 'the predictor is not loaded (see the RouteT2I log)');
    const outDir = this.outputFolder(doc);
    const docName = path.basename(doc.uri.path);
    const now = new Date();
    const items = await Promise.all(
      prompts.map(async (p, i) => {
        const prediction = await engine.predict(p.entry.prompt);
        const backends = fileBackends[i];
        const item: DispatchItem = {
          id: outputStem(docName, p.entry.id, now),
          request: requestFor(p, settings.generation, where),
          prediction,
          ...(backends ? { backends } : {}),
        };
        return { prompt: p, item };
      }),
    );
    const byId = new Map(items.map((i) => [i.item.id, i]));
    // What each prompt's verdict shows (the plan of that prompt alone): a batch is planned together, so may differ.
    const shown = new Map(
      items.map((i) => {
        const v = this.policy.verdict(i.prompt, i.item.prediction!);
        return [i.item.id, v.cascade ? 'cascade' : v.route] as const;
      }),
    );
    let differ = 0;
    const { ledger, reconciled } = await Ledger.open({
      file: this.policy.ledgerFile,
      monthlyCap: settings.policy.monthlyCap,
    });
    if (reconciled.length)
      this.log.warn(`Ledger: ${reconciled.length} reservation(s) left by an interrupted run counted as spent`);
    const policy = policyConfig(settings);
    const groups = groupByRoute(items, force);
    const done: Generated[] = [];
    const total = items.length;
    const label = total === 1 ? `prompt ${items[0]!.prompt.entry.id}` : `${total} prompts`;

    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `RouteT2I: generating ${label}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        let scorer: { scorer: QualityScorer; labels: LabelSource; dispose(): Promise<void> } | undefined;
        try {
          for (const [side, group] of groups) {
            const mode = side ? 'predict' : settings.policy.mode;
            const forcedWhy = (p: DocPrompt): string =>
              side === p.override?.side && !force
                ? `"# route: ${side}" in the file`
                : `generated on the ${side} on request`;
            if (mode !== 'predict' && !scorer) scorer = await this.scorer(abort.signal);
            const dispatcher = new Dispatcher({
              mode,
              policy,
              // Both sides, so a forced prompt's plan says what the policy alone would do with the backends that are
              // set (as its verdict does); the dispatcher renders a forced prompt on its side or nowhere.
              edge,
              cloud,
              ledger,
              scorer: scorer?.scorer,
              normalisation: engine.predictor.normalisation,
              history: this.policy.historyValues(),
              cascadeThreshold: settings.policy.cascadeThreshold,
              hybridBand: settings.policy.hybridBand,
              fallback: side ? 'none' : settings.policy.fallback,
            });
            let alpha = 0;
            await dispatcher.run(
              // A prompt sent to one side goes there or nowhere: forced (the dispatcher's rule), with only that side's
              // file backend.
              group.map((g) =>
                side
                  ? {
                      ...g.item,
                      force: { side, why: forcedWhy(g.prompt) },
                      ...(g.item.backends ? { backends: { [side]: g.item.backends[side] } } : {}),
                    }
                  : g.item,
              ),
              {
                signal: abort.signal,
                onPlan: (plan) => {
                  alpha = plan.alpha;
                },
                onEvent: (e) => this.report(e, progress, total, (id) => byId.get(id)?.prompt.entry.id ?? id),
                onOutcome: async (o) => {
                  const g = byId.get(o.id)!;
                  const both =
                    scorer && measuredOnBoth(o, g.item.backends?.edge ?? edge, g.item.backends?.cloud ?? cloud);
                  if (both)
                    this.measuredBoth.fire({
                      prompt: g.item.request.prompt,
                      ...both,
                      labels: scorer!.labels,
                      ...(g.item.request.seed !== undefined ? { seed: g.item.request.seed } : {}),
                    });
                  // A side asked for (Generate on Edge/Cloud) is expected to differ from the verdict: not counted.
                  if (!force && shown.get(o.id) !== o.plan.action) differ++;
                  const p = g.item.prediction;
                  const saved = await this.save(o, g.prompt, outDir, {
                    mode,
                    budget: policy.cloudShare,
                    alpha,
                    where,
                    ...(p ? { predicted: { edge: p.edge, cloud: p.cloud, prs: p.prs, pareto: p.pareto } } : {}),
                  });
                  if (saved) {
                    done.push(saved);
                    progress.report({ increment: 100 / total });
                  }
                },
              },
            );
          }
        } finally {
          sub.dispose();
          await scorer?.dispose().catch(() => undefined);
        }
      },
    );
    await this.policy.record(items.map((i) => i.item.prediction!.prs));
    await this.policy.refresh();
    if (done.length) this.emitter.fire(done);
    const failed = total - done.length;
    const spent = done.reduce((a, d) => a + d.cost, 0);
    const edgeCount = done.filter((d) => d.route === 'edge').length;
    const batchNote = differ
      ? `; ${differ} prompt${differ === 1 ? '' : 's'} planned otherwise than ${differ === 1 ? 'its' : 'their'} verdict (${
          total > 1
            ? 'a batch is planned together: α over the batch, money across it'
            : 'the plan reads the ledger and the month at generation time'
        })`
      : '';
    const summary = `${done.length} image${done.length === 1 ? '' : 's'} (${edgeCount} edge, ${done.length - edgeCount} cloud), ${money(spent)}${failed ? `; ${failed} failed (see the log)` : ''}${batchNote} → ${vscode.workspace.asRelativePath(outDir)}`;
    this.log.info(`Generation finished: ${summary}`);
    if (failed)
      void vscode.window.showWarningMessage(`RouteT2I: ${summary}`, 'Show Log').then((c) => c && this.log.show(true));
    else void vscode.window.showInformationMessage(`RouteT2I: ${summary}`);
    return done;
  }

  /**
   * Generate through a gateway: each prompt is sent to its /v1/images/generations (model auto, the forced side, a
   * `# route:` side, or the file's `backend:`), and the gateway's image, route, why and cost are saved like a local
   * generation's. The gateway books the money and records α's history; nothing is booked here.
   */
  private async runOnGateway(
    gateway: GatewayClient,
    doc: vscode.TextDocument,
    prompts: DocPrompt[],
    force?: Side,
  ): Promise<Generated[]> {
    const settings = this.config.settings;
    const where = vscode.workspace.asRelativePath(doc.uri);
    const outDir = this.outputFolder(doc);
    const docName = path.basename(doc.uri.path);
    const now = new Date();
    const jobs = prompts.map((p) => {
      const wanted = fileBackend(p.settings.backend, where);
      const model = wanted && (!force || wanted.side === force) ? wanted.name : (force ?? p.override?.side ?? 'auto');
      return { p, model, id: outputStem(docName, p.entry.id, now), request: requestFor(p, settings.generation, where) };
    });
    const done: Generated[] = [];
    const said: string[] = [];
    let failed = 0;
    let stop: unknown;
    const total = jobs.length;
    const label = total === 1 ? `prompt ${jobs[0]!.p.entry.id}` : `${total} prompts`;
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `RouteT2I: generating ${label} through the gateway`,
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          for (const job of jobs) {
            progress.report({ message: `${job.p.entry.id}: ${job.model}…` });
            this.log.info(`${job.p.entry.id}: asking the gateway ${gateway.where} (model ${job.model})`);
            const started = Date.now();
            let reply;
            try {
              reply = await gateway.generate(job.request, job.model, abort.signal);
            } catch (error) {
              if (error instanceof CancelledError) throw error;
              // A refused prompt is that prompt's; anything else (key, cap, the gateway gone) stops the batch.
              if (total > 1 && error instanceof GatewayError && error.code === 'gateway-refused') {
                this.log.error(`${job.p.entry.id}: ${error.message}`);
                failed++;
                continue;
              }
              stop = error;
              break;
            }
            const r = reply.routet2i;
            const saved = await this.save(
              gatewayOutcome(job.id, job.request, reply, Date.now() - started),
              job.p,
              outDir,
              {
                mode: r.mode,
                budget: this.policy.view().config.cloudShare,
                alpha: r.alpha,
                where,
                predicted: { edge: r.predicted.edge, cloud: r.predicted.cloud, prs: r.prs, pareto: r.pareto },
                gateway: { url: gateway.where, id: r.id, ...(r.key ? { key: r.key } : {}) },
              },
            );
            if (saved) {
              done.push(saved);
              said.push(`${r.route}: ${r.why}`);
            }
            progress.report({ increment: 100 / total });
          }
        } finally {
          sub.dispose();
        }
      },
    );
    await this.policy.refresh();
    if (done.length) this.emitter.fire(done);
    if (stop && !done.length) throw stop as Error;
    if (stop) {
      failed += total - done.length - failed;
      this.log.error(`Gateway: ${(stop as Error).message}`);
    }
    const spent = done.reduce((a, d) => a + d.cost, 0);
    const edgeCount = done.filter((d) => d.route === 'edge').length;
    const why = done.length === 1 ? ` — ${said[0]}` : '';
    const summary = `${done.length} image${done.length === 1 ? '' : 's'} through the gateway (${edgeCount} edge, ${done.length - edgeCount} cloud), ${money(spent)}${failed ? `; ${failed} failed (see the log)` : ''} → ${vscode.workspace.asRelativePath(outDir)}${why}`;
    this.log.info(`Generation finished: ${summary}`);
    if (failed)
      void vscode.window.showWarningMessage(`RouteT2I: ${summary}`, 'Show Log').then((c) => c && this.log.show(true));
    else void vscode.window.showInformationMessage(`RouteT2I: ${summary}`);
    return done;
  }

  /** The folder images are saved in: the output folder of the prompt's workspace folder (or beside a loose file). */
  private outputFolder(doc: vscode.TextDocument): string {
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri) ?? vscode.workspace.workspaceFolders?.[0];
    const base = folder?.uri.fsPath ?? (doc.uri.scheme === 'file' ? path.dirname(doc.uri.fsPath) : undefined);
    if (!base)
      throw new RouteT2IError(
        'no-folder',
        'there is no folder to save images in',
        'open a folder, or save the prompt file first',
      );
    return path.resolve(base, this.config.settings.generation.outputFolder);
  }

  private backend(side: 'edge' | 'cloud'): Backend | undefined {
    return buildBackend(this.config.settings, side, this.secrets);
  }

  private async promptsOf(target: GenerateTarget): Promise<{ doc: vscode.TextDocument; prompts: DocPrompt[] }> {
    if ('uri' in target) {
      const doc = await vscode.workspace.openTextDocument(target.uri);
      const found = this.documents.prompts(doc);
      const p =
        found?.prompts.find((x) => x.start === target.offset) ??
        found?.prompts.find((x) => target.offset >= x.start && target.offset <= x.end);
      if (!p)
        throw new RouteT2IError(
          'no-prompt',
          `${vscode.workspace.asRelativePath(doc.uri)}: the prompt has moved or gone; try again`,
        );
      return { doc, prompts: [p] };
    }
    const editor = vscode.window.activeTextEditor;
    const found = editor && this.documents.prompts(editor.document);
    if (!editor || !found)
      throw new RouteT2IError(
        'no-prompt-file',
        'open a .t2i prompt file (or a file in a language enabled by "routet2i.analysis.languages") to generate',
      );
    if (found.errors.length)
      throw new RouteT2IError(
        'bad-prompt-file',
        `${vscode.workspace.asRelativePath(editor.document.uri)}: ${found.errors[0]!.message}`,
      );
    const doc = editor.document;
    const prompts = promptsFor(
      target.scope,
      found.prompts,
      doc.offsetAt(editor.selection.active),
      editor.selections.map((s) => ({ start: doc.offsetAt(s.start), end: doc.offsetAt(s.end) })),
    );
    if (prompts.length === 0) {
      throw new RouteT2IError(
        'no-prompt',
        target.scope === 'file' ? 'this file holds no prompts' : 'there is no prompt at the cursor',
        target.scope === 'file' ? undefined : 'put the cursor in a prompt, or use "Generate All Prompts in File"',
      );
    }
    return { doc, prompts };
  }

  private report(
    e: DispatchEvent,
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    total: number,
    promptId: (id: string) => string,
  ): void {
    const id = 'id' in e ? promptId(e.id) : e.type === 'done' ? promptId(e.outcome.id) : '';
    switch (e.type) {
      case 'start':
        progress.report({ message: `${id}: ${e.role === 'planned' ? '' : `${e.role}, `}${e.side} (${e.backend})…` });
        this.log.info(`${id}: ${e.role} on the ${e.side} (${e.backend})`);
        break;
      case 'progress':
        if (e.progress.status === 'running' && e.progress.fraction !== undefined)
          progress.report({ message: `${id}: ${e.side} ${Math.round(e.progress.fraction * 100)}%` });
        else if (e.progress.status === 'queued')
          progress.report({
            message: `${id}: queued${e.progress.position !== undefined ? ` (${e.progress.position} ahead)` : ''}`,
          });
        break;
      case 'escalate':
        this.log.info(`${id}: ${e.why}: escalating to the cloud`);
        break;
      case 'fallback':
        this.log.warn(`${id}: the ${e.from} failed (${e.error}); trying the ${e.to}`);
        break;
      case 'warning':
        this.log.warn(e.message);
        break;
      case 'done':
        if (total > 1) progress.report({ message: `${id}: ${e.outcome.route ?? 'failed'}` });
        break;
      case 'scored':
        break;
    }
  }

  private async save(
    o: DispatchOutcome,
    p: DocPrompt,
    outDir: string,
    ctx: {
      mode: string;
      budget: number;
      alpha: number;
      where: string;
      predicted?: SidecarContext['predicted'];
      gateway?: SidecarContext['gateway'];
    },
  ): Promise<Generated | undefined> {
    if (!o.result || !o.route) {
      this.log.error(`${p.entry.id}: no image — ${o.why.replace(/^no image: /, '')}`);
      return undefined;
    }
    const files = await saveOutcome(outDir, o, {
      mode: ctx.mode,
      budget: ctx.budget,
      alpha: ctx.alpha,
      ...(p.entry.negative ? { negative: p.entry.negative } : {}),
      source: { file: ctx.where, start: p.start, end: p.end, line: p.entry.source.line, prompt: p.entry.id },
      ...(ctx.predicted ? { predicted: ctx.predicted } : {}),
      ...(ctx.gateway ? { gateway: ctx.gateway } : {}),
    });
    const seconds = ((o.result.timings.totalMs ?? 0) / 1000).toFixed(1);
    this.log.info(
      `${p.entry.id}: ${o.route} (${o.result.backend}, ${o.result.model})${ctx.gateway ? ` via the gateway` : ''} in ${seconds} s, ${money(o.cost)} → ${vscode.workspace.asRelativePath(files.image)}; ${o.why}`,
    );
    if (this.config.settings.generation.openImage) {
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(files.image), {
        viewColumn: vscode.ViewColumn.Beside,
        preview: true,
        preserveFocus: true,
      });
    }
    return { image: files.image, sidecar: files.sidecar, route: o.route, cost: o.cost };
  }

  /** The CLIP metric scorer for cascade and hybrid modes: the runtime loads only now. Without it, edge images stay unmeasured. */
  private async scorer(
    signal: AbortSignal,
  ): Promise<{ scorer: QualityScorer; labels: LabelSource; dispose(): Promise<void> } | undefined> {
    try {
      const { MetricScorer, isAlignment } = await import('../../runtime/scorer');
      const { defaultCacheDir } = await import('../../runtime/modelStore');
      const modelsDir = this.config.settings.model.modelsDir;
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
      const scorer = await MetricScorer.create({
        ...(modelsDir ? { modelsDir: path.resolve(folder, modelsDir) } : { cacheDir: defaultCacheDir() }),
        signal,
        // The predictor's metrics that CLIP can measure (an alignment metric, or one with its two texts).
        ...measurable(this.predictors.metrics, isAlignment),
      });
      return {
        scorer: scorer.asQualityScorer,
        labels: scorerLabels(scorer.model, scorer.metrics),
        dispose: () => scorer.dispose(),
      };
    } catch (error) {
      if (signal.aborted) throw error;
      this.log.warn(
        `Cascade cannot measure edge images: the CLIP scorer did not load (${(error as Error).message}); set "routet2i.model.modelsDir" to a local CLIP copy`,
      );
      return undefined;
    }
  }
}

function measurable(metrics: readonly Metric[], isAlignment: (m: Metric) => boolean): { metrics?: Metric[] } {
  const usable = metrics.filter((m) => isAlignment(m) || (m.positive && m.negative));
  return usable.length ? { metrics: usable } : {};
}

/** The edge and the cloud image of one prompt, both measured (a cascade that escalated). */
// The sides are named by the configured backends (what "uncalibrated" compares with), not by what a server reports.
function measuredOnBoth(
  o: DispatchOutcome,
  edge: Backend | undefined,
  cloud: Backend | undefined,
): Omit<MeasuredBoth, 'prompt' | 'labels' | 'seed'> | undefined {
  const e = o.attempts.find((a) => a.side === 'edge' && a.ok && a.measured);
  const c = o.attempts.find((a) => a.side === 'cloud' && a.ok && a.measured);
  if (!e || !c || !edge || !cloud || e.backend !== edge.name || c.backend !== cloud.name) return undefined;
  return {
    edge: e.measured!,
    cloud: c.measured!,
    sides: { edge: { backend: edge.name, model: edge.model }, cloud: { backend: cloud.name, model: cloud.model } },
  };
}
