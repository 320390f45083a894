/**
 * "Train and save a predictor", once: read labelled pairs (size-bounded), encode them, cross-validate where asked, fit,
 * and write the predictor folder with its model card (evaluation included). `routet2i train` and the editor's
 * calibration (its training worker) both call this; each keeps only its own options and its own way of reporting.
 */
import { READ_LIMITS, readFileBounded } from './boundedRead';
import type { Metric } from './metrics';
import { renderModelCard } from './model/card';
import { saveModel, type ModelFile } from './model/format';
import { parsePairs } from './pairs';
import type { Predictor } from './predictor';
import { decodeText } from './text';
import {
  crossValidate,
  fitPredictor,
  prepareData,
  type EvaluationResult,
  type FitOptions,
  type FitReport,
} from './training';
import type { LabelledPair, TokenEncoder } from './types';

/** A pairs file (JSON Lines), read with its size limit enforced while reading. `name` is how messages call it. */
export async function readPairsFile(file: string, name = file): Promise<LabelledPair[]> {
  const bytes = await readFileBounded(file, { limit: READ_LIMITS.pairs, what: 'pairs file', name });
  return parsePairs(decodeText(bytes, name, READ_LIMITS.pairs), name);
}

export interface TrainAndSaveOptions extends FitOptions {
  pairs: LabelledPair[];
  encoder: TokenEncoder;
  metrics: Metric[];
  outDir: string;
  /** Cross-validation folds before the final fit; 0 for none. */
  folds: number;
  /** The folds' shuffle. */
  seed: number;
  onFold?: (fold: number, of: number) => void;
}

export interface TrainAndSaveResult {
  file: ModelFile;
  predictor: Predictor;
  report: FitReport;
  evaluation?: EvaluationResult;
}

export async function trainAndSave(options: TrainAndSaveOptions): Promise<TrainAndSaveResult> {
  const { pairs, encoder, metrics, outDir, folds, seed, onFold, ...fit } = options;
  const data = await prepareData(pairs, encoder, { metrics, ...(fit.signal ? { signal: fit.signal } : {}) });
  // The folds report themselves through onFold; epochs are reported for the final fit only.
  const { onEpoch: _epochs, ...foldFit } = fit;
  const evaluation = folds
    ? await crossValidate(data, encoder, { ...foldFit, folds, seed, ...(onFold ? { onFold } : {}) })
    : undefined;
  const { predictor, report } = fitPredictor(data, encoder, fit);
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
  // saveModel writes the format, version and weights file itself.
  const { format: _f, version: _v, weights: _w, ...rest } = draft;
  const file = await saveModel(outDir, rest, predictor.params, (f) => ({ 'README.md': renderModelCard(f) }));
  return { file, predictor, report, ...(evaluation ? { evaluation } : {}) };
}
