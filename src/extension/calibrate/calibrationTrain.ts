// Training a predictor on the pairs that calibration collected: `routet2i train`'s own steps (the engine's
// trainAndSave: lexical encoder, optional cross-validation, model card), as a function the training worker runs off
// the extension host's thread.
// No `vscode` here.
import * as path from 'node:path';
import { builtinEncoders } from '../../router/encoders';
import { RouteT2IError } from '../../router/errors';
import type { Metric } from '../../router/metrics';
import { pairMetricIds } from '../../router/pairs';
import { readPairsFile, trainAndSave } from '../../router/trainAndSave';
import { metricsFromIds } from '../../router/training';

export interface TrainRequest {
  pairsFile: string;
  outDir: string;
  name: string;
  /** Metric definitions that label the pair metrics (ids the pairs do not score are left out). */
  metrics?: Metric[];
  /** Cross-validation folds; 0 for none. Skipped where there are fewer than 4 pairs per fold. */
  folds: number;
  seed?: number;
}

export type TrainProgress =
  | { phase: 'encode'; pairs: number }
  | { phase: 'fold'; fold: number; of: number }
  | { phase: 'epoch'; epoch: number; loss: number };

export interface TrainResult {
  outDir: string;
  name: string;
  pairs: number;
  metrics: string[];
  epochs: number;
  seconds: number;
  /** Cross-validated figures of the learned router and the random baseline, where computed. */
  apgr?: { routet2i: number; random: number; oracle: number };
}

export async function trainFromPairs(
  request: TrainRequest,
  onProgress: (p: TrainProgress) => void = () => undefined,
  signal?: AbortSignal,
): Promise<TrainResult> {
  let pairs;
  try {
    pairs = await readPairsFile(request.pairsFile);
  } catch (error) {
    if ((error as RouteT2IError).code === 'no-such-file')
      throw new RouteT2IError('no-such-file', `${request.pairsFile}: no pairs were collected`);
    throw error;
  }
  if (pairs.length < 4)
    throw new RouteT2IError(
      'too-few-pairs',
      `${path.basename(request.pairsFile)} holds ${pairs.length} pair${pairs.length === 1 ? '' : 's'}; training needs at least 4`,
      'calibrate on a prompt file with more prompts',
    );
  const metrics = metricsFromIds(pairMetricIds(pairs), request.metrics);
  onProgress({ phase: 'encode', pairs: pairs.length });
  const encoder = await builtinEncoders.lexical!({ id: 'lexical' }, {});
  const seed = request.seed ?? 1;
  const folds = request.folds >= 2 && pairs.length >= request.folds * 4 ? request.folds : 0;
  const { file, report, evaluation } = await trainAndSave({
    pairs,
    encoder,
    metrics,
    outDir: request.outDir,
    folds,
    seed,
    hyperparameters: { seed },
    ...(signal ? { signal } : {}),
    source: path.basename(request.pairsFile),
    name: request.name,
    onFold: (fold, of) => onProgress({ phase: 'fold', fold, of }),
    onEpoch: (p) => onProgress({ phase: 'epoch', epoch: p.epoch, loss: p.trainLoss }),
  });
  const r = evaluation?.routers;
  return {
    outDir: request.outDir,
    name: file.name,
    pairs: pairs.length,
    metrics: file.metrics.map((m) => m.id),
    epochs: report.epochs,
    seconds: report.seconds,
    ...(r?.routet2i && r.random && r.oracle
      ? { apgr: { routet2i: r.routet2i.apgr, random: r.random.apgr, oracle: r.oracle.apgr } }
      : {}),
  };
}
