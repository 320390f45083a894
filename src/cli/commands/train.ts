import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { RouteT2IError, UsageError } from '../../router/errors';
import type { Metric } from '../../router/metrics';
import { MODEL_JSON } from '../../router/model/format';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters } from '../../router/model/train';
import { metricsFromIds } from '../../router/training';
import { trainAndSave } from '../../router/trainAndSave';
import { pairMetricIds } from '../../router/pairs';
import { integerOption, numberOption, parseCommandArgs } from '../args';
import { readMetricsFile } from '../clipOptions';
import { readPairsFile, parseWeights } from '../data';
import { encoderContext, encoderFactories } from '../encoders';
import { fixed } from '../format';
import { writeLine, type CliIO, type Command } from '../io';

const usage = `Usage: routet2i train --data PAIRS --out DIR [options]

Trains a predictor on labelled pairs (JSON Lines: {"id", "prompt", "edge": {metric: score}, "cloud": {…}})
and writes it to DIR (model.json, weights.bin and a model card).

Options:
  --data PAIRS        labelled pairs file (required)
  --out DIR           folder to write the predictor to (required)
  --head H            ridge (default: closed-form ridge on word vectors and counts, λ chosen by inner
                      cross-validation) or network (the token-level network; the options below marked *)
  --encoder NAME      token encoder: ${Object.keys(encoderFactories).join(', ')} (default lexical)
  --models-dir DIR    local folder of encoder models (clip encoder, offline)
  --metrics FILE      metric definitions (JSON or YAML list of {id, label, positive, negative}) for labels
  --weights m=w,…     metric weights for PRS (default equal)
  --gamma Γ           PRS temperature (default 1)
  --folds K           also cross-validate with K folds and store the figures in the model (default: off)
  --seed S            random seed (default 1)
  --epochs N          most training epochs (default ${DEFAULT_HYPERPARAMETERS.maxEpochs})
  --top-k K           key tokens per metric (default ${DEFAULT_HYPERPARAMETERS.topK})
  --gap-weight W      weight of the edge–cloud gap in the loss (default ${DEFAULT_HYPERPARAMETERS.gapWeight})
  --learning-rate LR  Adam learning rate (default ${DEFAULT_HYPERPARAMETERS.learningRate})
  --word-buckets B    learned word-embedding buckets, 0 for none (default ${DEFAULT_HYPERPARAMETERS.wordBuckets})
  --name NAME         the model's name (default: the folder's name)
  --force             replace a predictor already in DIR
  --json              print the training report as JSON`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      data: { type: 'string' },
      out: { type: 'string' },
      encoder: { type: 'string' },
      head: { type: 'string' },
      'models-dir': { type: 'string' },
      metrics: { type: 'string' },
      weights: { type: 'string' },
      gamma: { type: 'string' },
      folds: { type: 'string' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      'top-k': { type: 'string' },
      'gap-weight': { type: 'string' },
      'learning-rate': { type: 'string' },
      'word-buckets': { type: 'string' },
      name: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    false,
  );
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.data) throw new UsageError('--data PAIRS is required');
  if (!values.out) throw new UsageError('--out DIR is required');
  const encoderId = values.encoder ?? 'lexical';
  const factory = encoderFactories[encoderId];
  if (!factory)
    throw new UsageError(`--encoder must be one of ${Object.keys(encoderFactories).join(', ')} (got "${encoderId}")`);
  const out = path.resolve(io.cwd, values.out);
  if (existsSync(path.join(out, MODEL_JSON)) && !values.force) {
    throw new RouteT2IError('exists', `${values.out} already holds a predictor`, 'pass --force to replace it');
  }
  const hp: Partial<Hyperparameters> = {
    seed: integerOption(values.seed, '--seed', 0, 2 ** 31 - 1, DEFAULT_HYPERPARAMETERS.seed),
    maxEpochs: integerOption(values.epochs, '--epochs', 1, 100_000, DEFAULT_HYPERPARAMETERS.maxEpochs),
    topK: integerOption(values['top-k'], '--top-k', 1, 512, DEFAULT_HYPERPARAMETERS.topK),
    gapWeight: numberOption(values['gap-weight'], '--gap-weight', 0, 1000, DEFAULT_HYPERPARAMETERS.gapWeight),
    learningRate: numberOption(
      values['learning-rate'],
      '--learning-rate',
      1e-6,
      1,
      DEFAULT_HYPERPARAMETERS.learningRate,
    ),
    wordBuckets: integerOption(
      values['word-buckets'],
      '--word-buckets',
      0,
      1 << 20,
      DEFAULT_HYPERPARAMETERS.wordBuckets,
    ),
  };
  const head = values.head ?? 'ridge';
  if (head !== 'ridge' && head !== 'network') throw new UsageError('--head must be ridge or network');
  const gamma = numberOption(values.gamma, '--gamma', 1e-6, 1e6, 1);
  const folds = integerOption(values.folds, '--folds', 0, 100, 0);
  if (folds === 1) throw new UsageError('--folds must be 0 (off) or at least 2');

  const pairs = await readPairsFile(values.data, io.cwd);
  const known: Metric[] | undefined = values.metrics ? readMetricsFile(values.metrics, io) : undefined;
  const metrics = metricsFromIds(pairMetricIds(pairs), known);
  let weights = parseWeights(values.weights);
  if (weights) {
    for (const id of Object.keys(weights))
      if (!metrics.some((m) => m.id === id))
        throw new RouteT2IError('bad-weights', `--weights names "${id}", which the pairs do not score`);
    weights = Object.fromEntries(metrics.map((m) => [m.id, weights![m.id] ?? 0]));
  }
  const context = encoderContext(io, values['models-dir']);
  const progress = (line: string) => {
    if (io.interactive && !values.json) io.stderr.write(`\r\x1b[K${line}`);
  };
  progress(`encoding ${pairs.length} prompts with the ${encoderId} encoder…`);
  const encoder = await factory({ id: encoderId }, context);
  try {
    const { file, report, evaluation } = await trainAndSave({
      pairs,
      encoder,
      metrics,
      outDir: out,
      folds,
      seed: hp.seed!,
      hyperparameters: hp,
      gamma,
      head: head as 'ridge' | 'network',
      ...(weights ? { weights } : {}),
      signal: io.signal,
      source: path.basename(values.data),
      name: values.name ?? path.basename(out),
      onFold: (k, of) => progress(`cross-validating: fold ${k} of ${of}…`),
      onEpoch: (p) =>
        progress(
          `training: epoch ${p.epoch} · loss ${fixed(p.trainLoss, 4)}${p.validationLoss !== undefined ? ` · validation ${fixed(p.validationLoss, 4)}` : ''}`,
        ),
    });
    if (io.interactive && !values.json) io.stderr.write('\r\x1b[K');
    const summary = {
      out,
      name: file.name,
      pairs: pairs.length,
      metrics: file.metrics.map((m) => m.id),
      encoder: file.encoder.id,
      epochs: report.epochs,
      bestEpoch: report.bestEpoch,
      trainLoss: report.trainLoss,
      validationLoss: report.validationLoss ?? null,
      seconds: report.seconds,
      ...(evaluation ? { evaluation: { routers: evaluation.routers, folds: evaluation.folds } } : {}),
    };
    if (values.json) writeLine(io.stdout, JSON.stringify(summary));
    else {
      if (file.ridge)
        writeLine(
          io.stdout,
          `trained "${file.name}" on ${pairs.length} pairs (${file.metrics.map((m) => m.id).join(', ')}) with the ${file.encoder.id} v${file.encoder.version} encoder: ridge head, λ = ${file.ridge.lambda}, groups ${Object.entries(
            file.ridge.groups,
          )
            .map(([g, w]) => `${g} ${w}`)
            .join(', ')} (chosen by inner cross-validation), ${fixed(report.seconds, 1)} s`,
        );
      else
        writeLine(
          io.stdout,
          `trained "${file.name}" on ${pairs.length} pairs (${file.metrics.map((m) => m.id).join(', ')}) with the ${file.encoder.id} encoder: ${report.epochs} epochs, best ${report.bestEpoch}, validation loss ${fixed(report.validationLoss ?? NaN, 4)}, ${fixed(report.seconds, 1)} s`,
        );
      if (evaluation) {
        const r = evaluation.routers;
        writeLine(
          io.stdout,
          `${folds}-fold APGR: routet2i ${fixed(r.routet2i!.apgr)} · random ${fixed(r.random!.apgr)} · length ${fixed(r.length!.apgr)} · oracle ${fixed(r.oracle!.apgr)}`,
        );
      }
      writeLine(
        io.stdout,
        `wrote ${path.relative(io.cwd, out) || '.'}/ (use it with: routet2i route --model ${values.out} <prompts>)`,
      );
    }
    return 0;
  } finally {
    await encoder.dispose?.();
  }
}

export const trainCommand: Command = { usage, run };
