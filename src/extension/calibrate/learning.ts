// Calibration that learns from work (docs/calibration.md): every generation that measured both sides adds a measurement
// to the workspace's pairs log (.routet2i/pairs.jsonl); after `routet2i.learning.retrainEvery` new measurements of the
// model pair in use, a background retrain on the training worker compares a candidate with the predictor in use
// (src/router/learning/promotion.ts) and the workspace switches to it only when it wins by
// `routet2i.learning.switchMargin` — and says so in a notification and the output channel.
import { writeFileAtomicSync } from '../../router/atomicWrite';
import { isErrorCode } from '../../shared/errorCodes';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { RouteT2IError } from '../../router/errors';
import { labelSourceKey, type LabelSource } from '../../router/learning/labelSource';
import { modelId } from '../../router/learning/modelPair';
import {
  checkPromotionRule,
  DEFAULT_PROMOTION,
  MIN_PAIRS_PER_FOLD,
  retrainDue,
  type PromotionRule,
} from '../../router/learning/promotion';
import { modelPairKey, WorkPairsLog, type Measurement, type ModelPair } from '../../router/learning/workPairs';
import type { Metric } from '../../router/metrics';
import { parsePairs } from '../../router/pairs';
import type { Scores } from '../../router/types';
import { fixed } from '../../shared/presentation';
import { resolveModelDir } from '../predictor/cachedPredictor';
import type { Config } from '../settings/config';
import type { RetrainRequest, RetrainResult } from './retrainJob';
import type { WorkerMessage } from './trainWorker';

export const WORK_PAIRS = path.join('.routet2i', 'pairs.jsonl');
const STATE = path.join('.routet2i', 'learning.json');

/** The label source of a CLIP scorer with these metrics (alignment metrics have no texts: the scorer's prompt score). */
export function scorerLabels(model: string, metrics: readonly Metric[]): LabelSource {
  return {
    kind: 'scorer',
    model,
    metrics: metrics.map((m) => ({
      id: m.id,
      positive: m.positive ?? '(the prompt: CLIPScore)',
      negative: m.negative ?? '',
    })),
  };
}

export interface LearningEvents {
  /** A retrain ran: what it decided (the end-to-end suite and the panel read it). */
  decided: { promote: boolean; reason: string; modelDir?: string; measurements: number };
}

export class WorkLearning implements vscode.Disposable {
  private running: Promise<void> | undefined;
  private readonly emitter = new vscode.EventEmitter<LearningEvents['decided']>();
  readonly onDidDecide = this.emitter.event;
  last: LearningEvents['decided'] | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
    private readonly workerFile: string,
  ) {}

  dispose(): void {
    this.emitter.dispose();
  }

  private get folder(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  private rule(): PromotionRule {
    const s = this.config.settings.learning;
    return checkPromotionRule({ ...DEFAULT_PROMOTION, every: s.retrainEvery, margin: s.switchMargin });
  }

  /**
   * Adds measurements (each of one prompt on both sides) and starts a retrain when one is due. Calibration passes
   * `retrain: false`: it decides itself, through the same rule, once its run is over (`retrainNow`), so two predictors
   * trained on the same pairs never race to switch the workspace.
   */
  record(measurements: readonly Measurement[], options: { retrain?: boolean } = {}): void {
    const folder = this.folder;
    if (!folder || measurements.length === 0 || this.config.restricted) return;
    try {
      const log = WorkPairsLog.open(path.join(folder, WORK_PAIRS));
      let again = 0;
      for (const m of measurements) if (log.add(m).again) again++;
      const first = measurements[0]!;
      const total = log.measurements(first.models, first.labels);
      this.log.info(
        `Pairs log: ${measurements.length} measurement${measurements.length === 1 ? '' : 's'} of ${modelPairKey(first.models)} from ${first.via} (${again} of prompts measured before, averaged in); ${total} in all (${WORK_PAIRS})`,
      );
      if (options.retrain !== false) this.maybeRetrain(first.models, first.labels, total);
    } catch (error) {
      this.log.error(`Pairs log: ${(error as Error).message}`);
    }
  }

  /** Records the pairs a calibration run just collected (their ids), from its pairs file. */
  recordCollected(pairsFile: string, ids: ReadonlySet<string>, labels: LabelSource, models: ModelPair): void {
    if (ids.size === 0) return;
    let text: string;
    try {
      text = fs.readFileSync(pairsFile, 'utf8');
    } catch (error) {
      this.log.error(`Pairs log: cannot read ${pairsFile}: ${(error as Error).message}`);
      return;
    }
    const pairs = parsePairs(text, pairsFile).filter((p) => ids.has(p.id));
    this.record(
      pairs.map((p) => ({
        prompt: p.prompt,
        edge: p.edge,
        cloud: p.cloud,
        models,
        labels,
        via: 'calibration' as const,
      })),
      { retrain: false },
    );
  }

  /** Distinct prompts of this pair and label source in the log, and the measurements behind them. */
  counts(models: ModelPair, labels: LabelSource): { prompts: number; measurements: number } {
    const folder = this.folder;
    if (!folder) return { prompts: 0, measurements: 0 };
    const log = WorkPairsLog.open(path.join(folder, WORK_PAIRS));
    return { prompts: log.select(models, labels).length, measurements: log.measurements(models, labels) };
  }

  /** Whether the log holds enough prompts of this pair for the promotion rule's folds. */
  canCompare(models: ModelPair, labels: LabelSource): boolean {
    const rule = this.rule();
    return this.counts(models, labels).prompts >= rule.folds * MIN_PAIRS_PER_FOLD;
  }

  /**
   * Calibration's decision, by the rule every retrain follows: waits for a retrain in flight, then trains a candidate
   * on the log's pairs of this model pair and switches only when it beats the predictor in use by the margin. Counts as
   * the retrain of every measurement so far.
   */
  async retrainNow(models: ModelPair, labels: LabelSource): Promise<LearningEvents['decided'] | undefined> {
    const folder = this.folder;
    if (!folder) return undefined;
    while (this.running) await this.running.catch(() => undefined);
    const { measurements } = this.counts(models, labels);
    const before = this.last;
    const started = this.startRetrain(folder, models, labels, measurements, 'calibration');
    if (!started) return undefined;
    await started;
    // Unchanged when the retrain failed (the log says why).
    return this.last !== before ? this.last : undefined;
  }

  /** A predictor was trained on every measurement of this pair so far (calibration on a few prompts): none is due. */
  markTrained(models: ModelPair, labels: LabelSource): void {
    const folder = this.folder;
    if (!folder) return;
    const state = this.readState(folder);
    state[`${modelPairKey(models)} ${labelSourceKey(labels)}`] = this.counts(models, labels).measurements;
    this.writeState(folder, state);
  }

  /** A measurement of both sides (cascade escalation, Compare on Both). */
  measured(
    prompt: string,
    edge: Scores,
    cloud: Scores,
    sides: { edge: { backend: string; model: string }; cloud: { backend: string; model: string } },
    labels: LabelSource,
    via: Measurement['via'],
    seed?: number,
  ): void {
    const models = {
      edge: modelId(sides.edge.backend, sides.edge.model),
      cloud: modelId(sides.cloud.backend, sides.cloud.model),
    };
    this.record([{ prompt, edge, cloud, models, labels, via, ...(seed !== undefined ? { seed } : {}) }]);
  }

  private readState(folder: string): Record<string, number> {
    try {
      const v = JSON.parse(fs.readFileSync(path.join(folder, STATE), 'utf8')) as unknown;
      return typeof v === 'object' && v !== null ? (v as Record<string, number>) : {};
    } catch {
      return {};
    }
  }

  private writeState(folder: string, state: Record<string, number>): void {
    const file = path.join(folder, STATE);
    writeFileAtomicSync(file, JSON.stringify(state, null, 2) + '\n', { mkdir: true });
  }

  private maybeRetrain(models: ModelPair, labels: LabelSource, total: number): void {
    const folder = this.folder;
    if (!folder || this.running) return;
    const rule = this.rule();
    const state = this.readState(folder);
    if (!retrainDue(total, state[`${modelPairKey(models)} ${labelSourceKey(labels)}`] ?? 0, rule)) return;
    // The retrain logs its own failures: nothing to catch here.
    void this.startRetrain(folder, models, labels, total, 'due');
  }

  /** Starts a retrain and compare (undefined when the pair has too few prompts for the folds). */
  private startRetrain(
    folder: string,
    models: ModelPair,
    labels: LabelSource,
    total: number,
    why: 'due' | 'calibration',
  ): Promise<void> | undefined {
    const rule = this.rule();
    const key = `${modelPairKey(models)} ${labelSourceKey(labels)}`;
    const state = this.readState(folder);
    const log = WorkPairsLog.open(path.join(folder, WORK_PAIRS));
    const prompts = log.select(models, labels).length;
    if (prompts < rule.folds * MIN_PAIRS_PER_FOLD) {
      this.log.info(
        `Learning: ${total} measurements of ${modelPairKey(models)}, but only ${prompts} distinct prompts; a retrain waits for ${rule.folds * MIN_PAIRS_PER_FOLD}`,
      );
      return undefined;
    }
    state[key] = total;
    this.writeState(folder, state);
    const current = resolveModelDir(this.config.settings.model.path, folder).dir;
    const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');
    const outDir = path.join(
      folder,
      '.routet2i',
      'models',
      `learned-${safe(models.edge)}--${safe(models.cloud)}-${total}`,
    );
    const request: RetrainRequest = {
      kind: 'retrain',
      workPairsFile: path.join(folder, WORK_PAIRS),
      models,
      labels,
      currentDir: current,
      outDir,
      name: `learned-${total}`,
      rule,
    };
    this.log.info(
      `Learning: ${total} measurements of ${modelPairKey(models)} (${why === 'due' ? `${rule.every} new since the last retrain` : 'a calibration run'}): retraining in the background and comparing with the predictor in use on ${rule.folds} folds (seed ${rule.seed})`,
    );
    const running = this.retrain(request, folder, total).finally(() => {
      this.running = undefined;
      // Measurements that came in while it ran may have made the next one due.
      try {
        const now = this.counts(models, labels).measurements;
        if (now > total) this.maybeRetrain(models, labels, now);
      } catch (error) {
        this.log.error(`Pairs log: ${(error as Error).message}`);
      }
    });
    this.running = running;
    return running;
  }

  private async retrain(request: RetrainRequest, folder: string, total: number): Promise<void> {
    let result: RetrainResult;
    try {
      result = await runWorker(this.workerFile, request);
    } catch (error) {
      if (error instanceof RouteT2IError && error.code === 'no-gap') {
        // Nothing to route on this pair's labels yet: a decision (keep), not a failure.
        const reason = `the predictor in use stays: ${error.message}`;
        this.log.info(`Learning: ${reason}`);
        this.last = { promote: false, reason, measurements: total };
        this.emitter.fire(this.last);
        return;
      }
      this.log.error(`Learning: the retrain failed: ${(error as Error).message}`);
      return;
    }
    const d = result.decision;
    const figures = `APGR ${fixed(d.candidate.apgr)} against ${fixed(d.current.apgr)} on ${d.n} prompts`;
    if (!d.promote || !result.outDir) {
      this.log.info(`Learning: kept "${d.current.name}": ${d.reason}`);
      this.last = { promote: false, reason: d.reason, measurements: result.measurements };
      this.emitter.fire(this.last);
      return;
    }
    const relative = path.relative(folder, result.outDir).split(path.sep).join('/');
    await this.config.update('model.path', relative, 'workspace');
    this.log.info(
      `Learning: switched to the predictor retrained on ${result.pairs} of your prompts (${result.measurements} measurements): ${d.reason}; routet2i.model.path = ${relative}`,
    );
    this.last = { promote: true, reason: d.reason, modelDir: relative, measurements: result.measurements };
    this.emitter.fire(this.last);
    void vscode.window
      .showInformationMessage(
        `RouteT2I: a predictor retrained on ${result.pairs} of your prompts now routes this workspace (${figures}, was "${d.current.name}").`,
        'Show Log',
      )
      .then((c) => c && this.log.show(true));
  }
}

function runWorker(workerFile: string, request: RetrainRequest): Promise<RetrainResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: request });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'done') resolve(m.result as RetrainResult);
      else if (m.type === 'error')
        reject(new RouteT2IError(isErrorCode(m.code) ? m.code : 'train-failed', m.message, m.hint));
    });
    worker.on('error', (error) => reject(new RouteT2IError('train-failed', `retraining failed: ${error.message}`)));
    worker.on('exit', (code) => {
      if (code !== 0) reject(new RouteT2IError('train-failed', `the training worker stopped (exit code ${code})`));
    });
  });
}
