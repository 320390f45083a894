// The background retrain that the workspace's pairs log triggers (docs/calibration.md "Calibration that learns from
// work"): train a candidate on the pairs of the model pair in use, compare it with the predictor in use on the same
// folds (the promotion rule, src/router/learning/promotion.ts) and, only when it wins, save it for the editor to switch
// to. Runs on the training worker's thread. No `vscode` here.
import * as path from 'node:path';
import { builtinEncoders } from '../../router/encoders';
import { RouteT2IError } from '../../router/errors';
import { describeLabelSource, type LabelSource } from '../../router/learning/labelSource';
import { decidePromotion, type PromotionDecision, type PromotionRule } from '../../router/learning/promotion';
import { modelPairKey, WorkPairsLog, type ModelPair } from '../../router/learning/workPairs';
import type { Metric } from '../../router/metrics';
import { renderModelCard } from '../../router/model/card';
import { saveModel } from '../../router/model/format';
import { Predictor } from '../../router/predictor';
import { fitPredictor, metricsFromIds, prepareData } from '../../router/training';
import { pairMetricIds } from '../../router/pairs';
import type { TrainProgress } from './calibrationTrain';

export interface RetrainRequest {
  kind: 'retrain';
  workPairsFile: string;
  models: ModelPair;
  labels: LabelSource;
  /** The predictor in use (its folder). */
  currentDir: string;
  /** Where the candidate goes if it wins. */
  outDir: string;
  name: string;
  metrics?: Metric[];
  rule: PromotionRule;
}

export interface RetrainResult {
  decision: PromotionDecision;
  /** Labelled prompts and measurements the candidate saw. */
  pairs: number;
  measurements: number;
  /** Set when the candidate won and was saved. */
  outDir?: string;
}

export async function retrainAndCompare(
  request: RetrainRequest,
  onProgress: (p: TrainProgress) => void = () => undefined,
  signal?: AbortSignal,
): Promise<RetrainResult> {
  const log = WorkPairsLog.open(request.workPairsFile);
  const pairs = log.select(request.models, request.labels);
  const measurements = pairs.reduce((a, p) => a + p.count, 0);
  if (pairs.length === 0)
    throw new RouteT2IError(
      'too-few-pairs',
      `${path.basename(request.workPairsFile)} holds no pairs of ${modelPairKey(request.models)} labelled by ${describeLabelSource(request.labels)}`,
    );
  const metrics = metricsFromIds(pairMetricIds(pairs), request.metrics);
  onProgress({ phase: 'encode', pairs: pairs.length });
  const encoder = await builtinEncoders.lexical!({ id: 'lexical' }, {});
  const data = await prepareData(pairs, encoder, { metrics, ...(signal ? { signal } : {}) });
  const current = await Predictor.load(request.currentDir);
  const fit = {
    hyperparameters: { seed: request.rule.seed },
    source: path.basename(request.workPairsFile),
    name: request.name,
    ...(signal ? { signal } : {}),
  };
  const decision = await decidePromotion(data, encoder, current, request.rule, {
    ...fit,
    onFold: (fold, of) => onProgress({ phase: 'fold', fold, of }),
  });
  if (!decision.promote) return { decision, pairs: pairs.length, measurements };
  const { predictor } = fitPredictor(data, encoder, {
    ...fit,
    description: `Retrained on ${pairs.length} prompts (${measurements} measurements) of ${modelPairKey(request.models)} from this workspace's work; ${decision.reason}.`,
    onEpoch: (p) => onProgress({ phase: 'epoch', epoch: p.epoch, loss: p.trainLoss }),
  });
  const evaluation = {
    n: decision.n,
    // The model card names the metrics the figures were computed on.
    metrics: data.metrics.map((m) => m.id),
    promotion: { rule: decision.rule, candidate: decision.candidate, current: decision.current, gain: decision.gain },
  };
  const { format: _f, version: _v, weights: _w, ...rest } = { ...predictor.file, evaluation };
  const training = { ...rest.training, data: { ...rest.training.data, measurements } };
  await saveModel(request.outDir, { ...rest, training }, predictor.params, (f) => ({
    'README.md': renderModelCard(f),
  }));
  return { decision, pairs: pairs.length, measurements, outDir: request.outDir };
}
