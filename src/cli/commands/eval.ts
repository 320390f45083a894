import * as path from 'node:path';
import { UsageError } from '../../router/errors';
import { DEFAULT_HYPERPARAMETERS } from '../../router/model/train';
import {
  crossValidate,
  evaluatePredictor,
  learningCurve,
  metricsFromIds,
  prepareData,
  type CurvePoint,
  type EvaluationResult,
} from '../../router/training';
import { pairMetricIds } from '../../router/pairs';
import { integerOption, parseCommandArgs } from '../args';
import { parseWeights, readPairsFile } from '../data';
import { encoderContext, encoderFactories } from '../encoders';
import { fixed, table } from '../format';
import { writeLine, type CliIO, type Command } from '../io';
import { loadPredictorFor } from './route';

const usage = `Usage: routet2i eval --data PAIRS [--model NAME|DIR | --folds K | --curve] [--seed S] [--weights m=w,…] [--json]

Measures how well routing recovers the edge–cloud quality gap, for the learned router and for the
baselines random (expected), length (longer prompts to the cloud first) and oracle (true gaps):
APGR (area under the gap-recovered curve, 0.5 = random), CPT(50%) (cloud share needed to recover half
the gap) and PGR(50%) (gap recovered with half the prompts on the cloud).

  --model NAME|DIR evaluate a trained predictor on the pairs (ranked by its PRS, scored by the data)
  --folds K       K-fold cross-validation: train on K−1 folds, rank the held-out one (default 5); every choice
                  made in training (λ, feature groups) is made inside each fold (nested)
  --curve         learning curve: APGR with 25, 50, 100, 150, 200, 400 labelled prompts (as the data allows),
                  drawn at random or picked by collect --select's rule (diverse), over K folds
  --head H        ridge (default) or network (the token-level network)
  --encoder NAME  encoder for cross-validation (default lexical)
  --seed S        seed for the folds and training (default 1)
  --weights m=w,… weights of the metrics in quality (default: their mean)
  --json          machine-readable output`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      data: { type: 'string' },
      model: { type: 'string' },
      folds: { type: 'string' },
      curve: { type: 'boolean' },
      head: { type: 'string' },
      encoder: { type: 'string' },
      'models-dir': { type: 'string' },
      seed: { type: 'string' },
      weights: { type: 'string' },
      json: { type: 'boolean' },
    },
    false,
  );
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.data) throw new UsageError('--data PAIRS is required');
  if (values.model && (values.folds || values.curve))
    throw new UsageError('use either --model or --folds/--curve, not both');
  const head = values.head ?? 'ridge';
  if (head !== 'ridge' && head !== 'network') throw new UsageError('--head must be ridge or network');
  const seed = integerOption(values.seed, '--seed', 0, 2 ** 31 - 1, 1);
  const weights = parseWeights(values.weights);
  const pairs = await readPairsFile(values.data, io.cwd);
  let result: EvaluationResult;
  let mode: string;
  if (values.curve) {
    const folds = integerOption(values.folds, '--folds', 2, 100, 5);
    const factory = encoderFactories[values.encoder ?? 'lexical'];
    if (!factory) throw new UsageError(`--encoder must be one of ${Object.keys(encoderFactories).join(', ')}`);
    const encoder = await factory({ id: values.encoder ?? 'lexical' }, encoderContext(io, values['models-dir']));
    let curve: CurvePoint[];
    try {
      const data = await prepareData(pairs, encoder, {
        metrics: metricsFromIds(pairMetricIds(pairs)),
        signal: io.signal,
      });
      curve = learningCurve(data, encoder, {
        folds,
        seed,
        head,
        hyperparameters: { ...DEFAULT_HYPERPARAMETERS, seed },
        ...(weights ? { weights } : {}),
        signal: io.signal,
        onStep: (k, of) => {
          if (io.interactive && !values.json) io.stderr.write(`\r\x1b[Kstep ${k} of ${of}…`);
        },
      });
      if (io.interactive && !values.json) io.stderr.write('\r\x1b[K');
    } finally {
      await encoder.dispose?.();
    }
    if (values.json) writeLine(io.stdout, JSON.stringify({ n: pairs.length, folds, seed, curve }));
    else {
      writeLine(
        io.stdout,
        `${pairs.length} pairs · learning curve, ${folds} folds (seed ${seed}) · pooled held-out APGR`,
      );
      writeLine(
        io.stdout,
        table([
          ['labelled prompts', 'random', 'chosen'],
          ...curve.map((c) => [String(c.size), fixed(c.random, 3), fixed(c.chosen, 3)]),
        ]),
      );
    }
    return 0;
  }
  if (values.model) {
    const predictor = await loadPredictorFor(values.model, io, values['models-dir']);
    result = await evaluatePredictor(predictor, pairs, { ...(weights ? { weights } : {}), signal: io.signal });
    mode = `predictor ${predictor.name} (${path.relative(io.cwd, predictor.dir ?? '') || predictor.dir})`;
  } else {
    const folds = integerOption(values.folds, '--folds', 2, 100, 5);
    const encoderId = values.encoder ?? 'lexical';
    const factory = encoderFactories[encoderId];
    if (!factory) throw new UsageError(`--encoder must be one of ${Object.keys(encoderFactories).join(', ')}`);
    const encoder = await factory({ id: encoderId }, encoderContext(io, values['models-dir']));
    try {
      const data = await prepareData(pairs, encoder, {
        metrics: metricsFromIds(pairMetricIds(pairs)),
        signal: io.signal,
      });
      const cv = await crossValidate(data, encoder, {
        folds,
        seed,
        head,
        hyperparameters: { ...DEFAULT_HYPERPARAMETERS, seed },
        ...(weights ? { weights } : {}),
        signal: io.signal,
        onFold: (k, of) => {
          if (io.interactive && !values.json) io.stderr.write(`\r\x1b[Kfold ${k} of ${of}…`);
        },
      });
      if (io.interactive && !values.json) io.stderr.write('\r\x1b[K');
      const { outOfFoldPrs: _prs, ...rest } = cv;
      result = rest;
    } finally {
      await encoder.dispose?.();
    }
    mode = `${folds}-fold cross-validation (seed ${seed})`;
  }
  if (values.json) {
    writeLine(io.stdout, JSON.stringify(result));
    return 0;
  }
  const quality = weights
    ? `weighted sum of ${result.metrics.map((m) => `${m} ${fixed(weights[m] ?? 0)}`).join(', ')}`
    : `mean of ${result.metrics.join(', ')}`;
  writeLine(io.stdout, `${result.n} pairs · quality = ${quality} · ${mode}`);
  const perFold = result.folds?.perFold;
  const rows = [['router', 'APGR', 'CPT(50%)', 'PGR(50%)', ...(perFold ? ['APGR per fold'] : [])]];
  for (const [name, r] of Object.entries(result.routers)) {
    rows.push([
      name,
      fixed(r.apgr, 3),
      fixed(r.cpt50, 3),
      fixed(r.pgr50, 3),
      ...(perFold ? [`${fixed(perFold[name]!.mean.apgr, 3)} ± ${fixed(perFold[name]!.sd.apgr, 3)}`] : []),
    ]);
  }
  writeLine(io.stdout, table(rows));
  return 0;
}

export const evalCommand: Command = { usage, run };
