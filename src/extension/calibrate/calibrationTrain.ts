// Training a predictor on the pairs that calibration collected: the same steps as `routet2i train` (lexical encoder,
// optional cross-validation, model card), as a function the training worker runs off the extension host's thread.
// No `vscode` here.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { builtinEncoders } from '../../router/encoders';
import { RouteT2IError } from '../../router/errors';
import type { Metric } from '../../router/metrics';
import { renderModelCard } from '../../router/model/card';
import { saveModel } from '../../router/model/format';
import { pairMetricIds, parsePairs } from '../../router/pairs';
import { decodeText } from '../../router/text';
import { crossValidate, fitPredictor, metricsFromIds, prepareData } from '../../router/training';

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
  let text: string;
  try {
    text = decodeText(await readFile(request.pairsFile), request.pairsFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new RouteT2IError('no-such-file', `${request.pairsFile}: no pairs were collected`);
    throw error;
  }
  const pairs = parsePairs(text, request.pairsFile);
  if (pairs.length < 4)
    throw new RouteT2IError(
      'too-few-pairs',
      `${path.basename(request.pairsFile)} holds ${pairs.length} pair${pairs.length === 1 ? '' : 's'}; training needs at least 4`,
      'calibrate on a prompt file with more prompts',
    );
  const metrics = metricsFromIds(pairMetricIds(pairs), request.metrics);
  onProgress({ phase: 'encode', pairs: pairs.length });
  const encoder = await builtinEncoders.lexical!({ id: 'lexical' }, {});
  const data = await prepareData(pairs, encoder, { metrics, ...(signal ? { signal } : {}) });
  const seed = request.seed ?? 1;
  const fit = {
    hyperparameters: { seed },
    ...(signal ? { signal } : {}),
    source: path.basename(request.pairsFile),
    name: request.name,
  };
  const folds = request.folds >= 2 && pairs.length >= request.folds * 4 ? request.folds : 0;
  const evaluation = folds
    ? await crossValidate(data, encoder, {
        ...fit,
        folds,
        seed,
        onFold: (fold, of) => onProgress({ phase: 'fold', fold, of }),
      })
    : undefined;
  const { predictor, report } = fitPredictor(data, encoder, {
    ...fit,
    onEpoch: (p) => onProgress({ phase: 'epoch', epoch: p.epoch, loss: p.trainLoss }),
  });
  const draft = {
    ...predictor.file,
    ...(evaluation
      ? {
          evaluation: {
            n: evaluation.n,
            metrics: evaluation.metrics,
            routers: evaluation.routers,
            folds: evaluation.folds,
            curve: evaluation.curve,
          },
        }
      : {}),
  };
  const { format: _f, version: _v, weights: _w, ...rest } = draft;
  const file = await saveModel(request.outDir, rest, predictor.params, (f) => ({ 'README.md': renderModelCard(f) }));
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
