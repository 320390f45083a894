// "Calibrate on My Models": collect (render each prompt on the user's edge and cloud backends, score both with CLIP,
// append a labelled pair; resumable, every cloud call booked in the ledger) → train (on a worker thread) → use (the
// workspace's `routet2i.model.path` points at the new predictor). Long-running, cancellable, with progress.
import { isErrorCode } from '../../shared/errorCodes';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { Ledger } from '../../generation/ledger';
import { collectPairs, type CollectEvent } from '../../generation/collect';
import { CancelledError, RouteT2IError } from '../../router/errors';
import { parsePromptInput } from '../../router/inputs';
import { DEFAULT_METRICS } from '../../router/metrics';
import type { PromptEntry } from '../../router/types';
import type { Config } from '../settings/config';
import type { PolicyState } from '../policy/policyState';
import type { TrainProgress, TrainRequest, TrainResult } from './calibrationTrain';
import { bothBackends } from '../policy/policyState';
import type { Secrets } from '../apiKeys/secrets';
import { fixed, money } from '../../shared/presentation';
import type { WorkerMessage } from './trainWorker';
import { scorerLabels, type WorkLearning } from './learning';
import { modelId } from '../../router/learning/modelPair';

export class Calibration {
  private running = false;

  constructor(
    private readonly config: Config,
    private readonly policy: PolicyState,
    private readonly secrets: Secrets,
    private readonly log: vscode.LogOutputChannel,
    /** The training worker's bundle (dist/trainWorker.js beside dist/core.js). */
    private readonly workerFile: string,
    /** The workspace's pairs log: the pairs a run collects are measurements of the pair in use. */
    private readonly learning?: WorkLearning,
  ) {}

  async run(): Promise<void> {
    if (this.running) {
      void vscode.window.showInformationMessage('RouteT2I: a calibration is already running.');
      return;
    }
    this.running = true;
    // Greys out the command while it runs (its `enablement` in the manifest).
    void vscode.commands.executeCommand('setContext', 'routet2i.calibrating', true);
    try {
      await this.calibrate();
    } catch (error) {
      if (error instanceof CancelledError) {
        this.log.info('Calibration cancelled; the pairs collected so far are kept, and a new run continues from them');
        void vscode.window.showInformationMessage(
          'RouteT2I: calibration cancelled. The pairs collected so far are kept; run it again to continue.',
        );
        return;
      }
      const message =
        error instanceof RouteT2IError
          ? `${error.message}${error.hint ? ` (${error.hint})` : ''}`
          : `calibration failed: ${(error as Error).message}`;
      this.log.error(`Calibration: ${message}`);
      void vscode.window.showErrorMessage(`RouteT2I: ${message}`, 'Show Log').then((c) => c && this.log.show(true));
    } finally {
      this.running = false;
      void vscode.commands.executeCommand('setContext', 'routet2i.calibrating', false);
    }
  }

  private async calibrate(): Promise<void> {
    const config = this.config;
    if (config.restricted)
      throw new RouteT2IError(
        'restricted',
        'RouteT2I does not calibrate in Restricted Mode: this workspace is not trusted',
        'trust the workspace to calibrate',
      );
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder)
      throw new RouteT2IError(
        'no-folder',
        'calibration needs an open folder to keep its pairs and the new predictor in',
      );
    const settings = config.settings;
    const { edge, cloud } = await bothBackends(
      settings,
      this.secrets,
      'calibration renders every prompt on both your edge and your cloud backend',
    );
    const source = await this.pickPrompts();
    if (!source) return;
    const { entries, file } = source;
    const width = settings.generation.width;
    const height = settings.generation.height;
    const perPrompt =
      edge.estimateCost({ prompt: '', width, height }) + cloud.estimateCost({ prompt: '', width, height });
    const ledgerFile = this.policy.ledgerFile;
    const month = await Ledger.peek({ file: ledgerFile, monthlyCap: settings.policy.monthlyCap });
    const stem =
      path
        .basename(file)
        .replace(/\.[^.]+$/, '')
        .replace(/[^\w.-]+/g, '_') || 'prompts';
    const name = `calibrated-${stem}`;
    const pairsFile = path.join(
      folder.uri.fsPath,
      '.routet2i',
      'calibration',
      `${stem}.${edge.name}-${cloud.name}.pairs.jsonl`,
    );
    const modelDir = path.join(folder.uri.fsPath, '.routet2i', 'models', name);
    const left = Number.isFinite(month.left) ? ` (${money(month.left)} left this month)` : '';
    const go = await vscode.window.showInformationMessage(
      `Calibrate on ${entries.length} prompts from ${vscode.workspace.asRelativePath(file)}?`,
      {
        modal: true,
        detail: `Each prompt is rendered on ${edge.name} (${edge.model}) and ${cloud.name} (${cloud.model}) and both images are scored with CLIP; estimated ${money(perPrompt * entries.length)}${left}. Pairs go to ${vscode.workspace.asRelativePath(pairsFile)}, the new predictor to ${vscode.workspace.asRelativePath(modelDir)}, and this workspace then uses it.`,
      },
      'Calibrate',
    );
    if (go !== 'Calibrate') return;

    const pair = { edge: modelId(edge.name, edge.model), cloud: modelId(cloud.name, cloud.model) };
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'RouteT2I: calibrating', cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          progress.report({ message: 'loading CLIP…' });
          const { MetricScorer } = await import('../../runtime/scorer');
          const { defaultCacheDir } = await import('../../runtime/modelStore');
          const metrics = settings.calibration.metrics ?? [...DEFAULT_METRICS];
          const modelsDir = settings.model.modelsDir
            ? path.resolve(folder.uri.fsPath, settings.model.modelsDir)
            : undefined;
          const scorer = await MetricScorer.create({
            ...(modelsDir ? { modelsDir } : { cacheDir: defaultCacheDir() }),
            metrics,
            signal: abort.signal,
          });
          let collected;
          const fresh = new Set<string>();
          const labels = scorerLabels(scorer.model, metrics);
          try {
            const { ledger } = await Ledger.open({ file: ledgerFile, monthlyCap: settings.policy.monthlyCap });
            collected = await collectPairs({
              entries,
              edge,
              cloud,
              ledger,
              note: 'calibration',
              onWarning: (message) => this.log.warn(`Calibration: ${message}`),
              score: (image, prompt, options) => scorer.score(image, prompt, options),
              metrics: metrics.map((m) => m.id),
              scorerModel: scorer.model,
              out: pairsFile,
              width,
              height,
              ...(settings.generation.steps ? { steps: settings.generation.steps } : {}),
              signal: abort.signal,
              onEvent: (e) => {
                if (e.type === 'pair') fresh.add(e.id);
                this.reportCollect(e, progress);
              },
            });
          } finally {
            this.learning?.recordCollected(pairsFile, fresh, labels, pair);
            await scorer.dispose();
          }
          this.log.info(
            `Calibration: ${collected.written} new pairs (${collected.already} already there, ${collected.failed.length} failed), ${money(collected.spent)} spent`,
          );
          for (const f of collected.failed) this.log.warn(`Calibration: ${f.id} failed: ${f.message}`);
          if (collected.stopped) this.log.warn(`Calibration stopped collecting: ${collected.stopped}`);
          // Enough prompts of this pair for the promotion rule's folds: the predictor trained on them is a candidate
          // like any retrain, and takes over only when it beats the one in use by the margin (one rule, one order).
          if (this.learning?.canCompare(pair, labels)) {
            progress.report({ message: 'training a predictor and comparing it with the one in use…' });
            const decided = await this.learning.retrainNow(pair, labels);
            if (!decided)
              throw new RouteT2IError('train-failed', 'the retrain after calibration failed (see the RouteT2I log)');
            return { compared: decided };
          }
          progress.report({ message: 'training the predictor…' });
          const request: TrainRequest = { pairsFile, outDir: modelDir, name, metrics, folds: 5 };
          const trained = await this.train(request, abort.signal, (p) => {
            if (p.phase === 'fold') progress.report({ message: `cross-validating, fold ${p.fold} of ${p.of}…` });
            else if (p.phase === 'epoch' && p.epoch % 10 === 0)
              progress.report({ message: `training, epoch ${p.epoch} (loss ${fixed(p.loss, 4)})…` });
          });
          // Too few prompts to compare on folds: the user asked for it, so it is used, and it counts as the retrain of
          // these measurements (no background retrain then races it with a predictor trained on the same pairs).
          this.learning?.markTrained(pair, labels);
          return { trained };
        } finally {
          sub.dispose();
          void this.policy.refresh();
        }
      },
    );
    if (outcome.compared) {
      // The retrain said so already when it switched; when it kept the predictor in use, say why here.
      if (!outcome.compared.promote) {
        this.log.info(`Calibration: ${outcome.compared.reason}`);
        void vscode.window.showInformationMessage(
          `RouteT2I: calibration measured your prompts; ${outcome.compared.reason}.`,
        );
      }
      return;
    }
    const result = outcome.trained!;
    const relative = path.relative(folder.uri.fsPath, result.outDir).split(path.sep).join('/');
    await config.update('model.path', relative, 'workspace');
    const figures = result.apgr
      ? ` Cross-validated APGR ${fixed(result.apgr.routet2i)} (random ${fixed(result.apgr.random)}, oracle ${fixed(result.apgr.oracle)}).`
      : '';
    this.log.info(
      `Calibration: predictor "${result.name}" trained on ${result.pairs} pairs in ${fixed(result.seconds, 1)} s, now in use (routet2i.model.path = ${relative}).${figures}`,
    );
    void vscode.window.showInformationMessage(
      `RouteT2I: the predictor calibrated on ${result.pairs} of your prompts is now in use.${figures}`,
    );
  }

  /** The prompts to calibrate on: the prompt file in the editor, else one picked from the workspace. */
  private async pickPrompts(): Promise<{ entries: PromptEntry[]; file: string } | undefined> {
    const editor = vscode.window.activeTextEditor;
    let doc =
      editor && editor.document.languageId === 't2i-prompt' && editor.document.uri.scheme === 'file'
        ? editor.document
        : undefined;
    if (!doc) {
      const files = await vscode.workspace.findFiles('**/*.t2i', '**/node_modules/**', 200);
      if (files.length === 0)
        throw new RouteT2IError('no-prompts', 'there is no .t2i prompt file in this workspace to calibrate on');
      const picked = await vscode.window.showQuickPick(
        files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
        { title: 'RouteT2I: Calibrate on My Models', placeHolder: 'Which prompts should your models render?' },
      );
      if (!picked) return undefined;
      doc = await vscode.workspace.openTextDocument(picked.uri);
    }
    const { entries } = parsePromptInput(doc.getText(), doc.uri.fsPath, 't2i');
    if (entries.length < 4)
      throw new RouteT2IError(
        'too-few-prompts',
        `${vscode.workspace.asRelativePath(doc.uri)} holds ${entries.length} prompt${entries.length === 1 ? '' : 's'}; calibration needs at least 4 (dozens are better)`,
      );
    return { entries, file: doc.uri.fsPath };
  }

  private reportCollect(e: CollectEvent, progress: vscode.Progress<{ message?: string; increment?: number }>): void {
    switch (e.type) {
      case 'plan':
        this.log.info(
          `Calibration: ${e.total} prompts, ${e.already} already collected, ${e.todo} to render (estimated ${money(e.estimatedCost)})`,
        );
        progress.report({ message: `${e.todo} prompts to render (${e.already} done before)` });
        break;
      case 'start':
        progress.report({ message: `rendering ${e.index} of ${e.todo} (${e.id})…` });
        break;
      case 'pair':
        progress.report({
          increment: 80 / Math.max(1, e.todo),
          message: `${e.index} of ${e.todo} collected, ~${Math.round(e.secondsLeft)} s left, ${money(e.spent)} spent`,
        });
        break;
      case 'failed':
        this.log.warn(`Calibration: ${e.id} failed: ${e.message}`);
        break;
    }
  }

  /** Trains on a worker thread; cancelling terminates it. */
  private train(
    request: TrainRequest,
    signal: AbortSignal,
    onProgress: (p: TrainProgress) => void,
  ): Promise<TrainResult> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.workerFile, { workerData: request });
      const stop = () => {
        void worker.terminate();
        reject(new CancelledError('calibration cancelled'));
      };
      signal.addEventListener('abort', stop, { once: true });
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') onProgress(m.progress);
        else if (m.type === 'done') resolve(m.result as TrainResult);
        else reject(new RouteT2IError(isErrorCode(m.code) ? m.code : 'train-failed', m.message, m.hint));
      });
      worker.on('error', (error) => reject(new RouteT2IError('train-failed', `training failed: ${error.message}`)));
      worker.on('exit', (code) => {
        signal.removeEventListener('abort', stop);
        if (code !== 0 && !signal.aborted)
          reject(new RouteT2IError('train-failed', `the training worker stopped (exit code ${code})`));
      });
    });
  }
}
