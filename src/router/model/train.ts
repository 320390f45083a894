import { CancelledError } from '../errors';
import { backward, forward, Parameters, SIDES, type Architecture, type NetInput } from './network';
import { Rng } from './rng';

/** One training example: targets and a presence mask, both indexed [side*k + metric]. */
export interface TrainSample {
  input: NetInput;
  targets: Float64Array;
  mask: Uint8Array;
}

export interface Hyperparameters {
  topK: number;
  rank: number;
  hidden: number;
  wordBuckets: number;
  wordDim: number;
  learningRate: number;
  maxEpochs: number;
  /** Epochs without a better validation loss before stopping. */
  patience: number;
  weightDecay: number;
  /** Weight of the edge–cloud gap term: the gap is what routing needs most. */
  gapWeight: number;
  validationFraction: number;
  batchSize: number;
  seed: number;
}

export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  topK: 8,
  rank: 8,
  hidden: 8,
  wordBuckets: 0,
  wordDim: 8,
  learningRate: 0.001,
  maxEpochs: 400,
  patience: 25,
  weightDecay: 0.001,
  gapWeight: 4,
  validationFraction: 0.15,
  batchSize: 32,
  seed: 1,
});

/**
 * Loss over samples: Σ (q − y)² over present targets, plus gapWeight·((q_c − q_e) − (y_c − y_e))² per
 * metric where both sides are present; mean over samples. With `grad`, also accumulates its gradient
 * (data part only; weight decay is added by the optimiser).
 */
export function datasetLoss(
  p: Parameters,
  samples: readonly TrainSample[],
  gapWeight: number,
  grad?: Parameters,
): number {
  const k = p.arch.metrics;
  let total = 0;
  const dLogits = new Float64Array(SIDES * k);
  for (const s of samples) {
    const fw = forward(p, s.input);
    dLogits.fill(0);
    for (let i = 0; i < k; i++) {
      const e = i;
      const c = k + i;
      const qe = fw.quality[e]!;
      const qc = fw.quality[c]!;
      let dqe = 0;
      let dqc = 0;
      if (s.mask[e]) {
        const r = qe - s.targets[e]!;
        total += r * r;
        dqe += 2 * r;
      }
      if (s.mask[c]) {
        const r = qc - s.targets[c]!;
        total += r * r;
        dqc += 2 * r;
      }
      if (gapWeight > 0 && s.mask[e] && s.mask[c]) {
        const r = qc - qe - (s.targets[c]! - s.targets[e]!);
        total += gapWeight * r * r;
        dqc += 2 * gapWeight * r;
        dqe -= 2 * gapWeight * r;
      }
      dLogits[e] = dqe * qe * (1 - qe);
      dLogits[c] = dqc * qc * (1 - qc);
    }
    if (grad) backward(p, s.input, fw, dLogits, grad);
  }
  const scale = 1 / Math.max(1, samples.length);
  if (grad) for (let j = 0; j < grad.data.length; j++) grad.data[j]! *= scale;
  return total * scale;
}

export interface TrainProgress {
  epoch: number;
  trainLoss: number;
  validationLoss: number | undefined;
}

export interface TrainReport {
  params: Parameters;
  epochs: number;
  bestEpoch: number;
  trainLoss: number;
  validationLoss: number | undefined;
  /** How the number of epochs was chosen. */
  stopping: 'holdout' | 'cross-validated' | 'fixed';
  trainCount: number;
  validationCount: number;
  seconds: number;
}

export function architectureFor(metrics: number, inputDim: number, h: Hyperparameters): Architecture {
  return {
    metrics,
    inputDim,
    topK: h.topK,
    rank: h.rank,
    hidden: h.hidden,
    wordBuckets: h.wordBuckets,
    wordDim: h.wordDim,
  };
}

/** Per-target mean of the samples, for initialising the head biases. */
function meanTargets(samples: readonly TrainSample[], width: number): Float64Array {
  const mean = new Float64Array(width);
  const count = new Float64Array(width);
  for (const s of samples) {
    for (let j = 0; j < width; j++) {
      if (s.mask[j]) {
        mean[j]! += s.targets[j]!;
        count[j]! += 1;
      }
    }
  }
  for (let j = 0; j < width; j++) mean[j] = count[j]! > 0 ? mean[j]! / count[j]! : 0.5;
  return mean;
}

/** Adam with L2 weight decay over seeded, shuffled minibatches; one `epoch()` call per pass. */
class Trainer {
  readonly params: Parameters;
  private readonly grad: Parameters;
  private readonly m1: Float64Array;
  private readonly m2: Float64Array;
  private readonly rng: Rng;
  private step = 0;

  constructor(
    private readonly samples: readonly TrainSample[],
    arch: Architecture,
    private readonly hp: Hyperparameters,
  ) {
    this.rng = new Rng(hp.seed);
    this.params = Parameters.init(arch, this.rng, meanTargets(samples, SIDES * arch.metrics));
    this.grad = this.params.zerosLike();
    this.m1 = new Float64Array(this.params.data.length);
    this.m2 = new Float64Array(this.params.data.length);
  }

  epoch(): number {
    const { params, grad, m1, m2, hp } = this;
    const beta1 = 0.9;
    const beta2 = 0.999;
    const shuffled = this.rng.shuffle(this.samples);
    const batch = Math.max(1, Math.min(hp.batchSize, shuffled.length));
    let loss = 0;
    for (let b = 0; b < shuffled.length; b += batch) {
      const part = shuffled.slice(b, b + batch);
      grad.data.fill(0);
      loss += datasetLoss(params, part, hp.gapWeight, grad) * part.length;
      this.step++;
      const c1 = 1 - beta1 ** this.step;
      const c2 = 1 - beta2 ** this.step;
      for (let j = 0; j < params.data.length; j++) {
        const gj = grad.data[j]! + (params.decay[j] ? hp.weightDecay * params.data[j]! : 0);
        m1[j] = beta1 * m1[j]! + (1 - beta1) * gj;
        m2[j] = beta2 * m2[j]! + (1 - beta2) * gj * gj;
        params.data[j]! -= (hp.learningRate * (m1[j]! / c1)) / (Math.sqrt(m2[j]! / c2) + 1e-8);
      }
    }
    return loss / Math.max(1, shuffled.length);
  }
}

/** Pairs counts below which the epoch count is chosen by cross-validation rather than one held-out split. */
export const CROSS_VALIDATED_STOPPING_BELOW = 2000;
export const STOPPING_FOLDS = 3;

/**
 * Trains the network. Early stopping needs a validation loss; on small data one held-out split is too noisy
 * to trust (its loss jitters more than the model improves), so below CROSS_VALIDATED_STOPPING_BELOW samples
 * the epoch count comes from the mean validation curve of 3 folds trained in lockstep, and the final model
 * is then trained on all samples for that many epochs.
 */
export function trainNetwork(
  samples: readonly TrainSample[],
  arch: Architecture,
  hp: Hyperparameters,
  options: {
    signal?: AbortSignal;
    onEpoch?: (p: TrainProgress) => void;
    /** Train exactly this many epochs on all samples. */
    fixedEpochs?: number;
    /** Validate on these samples (every epoch, no early stopping): for studies of the learning curve. */
    validation?: readonly TrainSample[];
    stopping?: 'holdout' | 'cross-validated';
  } = {},
): TrainReport {
  const started = Date.now();
  const check = () => {
    if (options.signal?.aborted) throw new CancelledError('training cancelled');
  };
  const finish = (
    trainer: Trainer,
    epochs: number,
    bestEpoch: number,
    stopping: TrainReport['stopping'],
    validationLoss: number | undefined,
    validationCount: number,
    trainCount: number,
  ): TrainReport => ({
    params: trainer.params,
    epochs,
    bestEpoch,
    trainLoss: datasetLoss(trainer.params, samples, hp.gapWeight),
    validationLoss,
    stopping,
    trainCount,
    validationCount,
    seconds: (Date.now() - started) / 1000,
  });

  if (options.fixedEpochs !== undefined || options.validation) {
    const trainer = new Trainer(samples, arch, hp);
    const epochs = options.fixedEpochs ?? hp.maxEpochs;
    let last: number | undefined;
    for (let e = 1; e <= epochs; e++) {
      check();
      const trainLoss = trainer.epoch();
      last = options.validation ? datasetLoss(trainer.params, options.validation, hp.gapWeight) : undefined;
      options.onEpoch?.({ epoch: e, trainLoss, validationLoss: last });
    }
    return finish(trainer, epochs, epochs, 'fixed', last, options.validation?.length ?? 0, samples.length);
  }

  const stopping =
    options.stopping ??
    (samples.length < CROSS_VALIDATED_STOPPING_BELOW && samples.length >= 2 * STOPPING_FOLDS
      ? 'cross-validated'
      : 'holdout');
  const order = new Rng(hp.seed ^ 0x5bd1e995).shuffle(samples.map((_, i) => i));
  const runs: Array<{ trainer: Trainer; val: TrainSample[] }> = [];
  if (stopping === 'cross-validated') {
    for (let f = 0; f < STOPPING_FOLDS; f++) {
      const val = order.filter((_, i) => i % STOPPING_FOLDS === f).map((i) => samples[i]!);
      const train = order.filter((_, i) => i % STOPPING_FOLDS !== f).map((i) => samples[i]!);
      runs.push({ trainer: new Trainer(train, arch, { ...hp, seed: hp.seed + f + 1 }), val });
    }
  } else {
    const nVal = samples.length >= 10 ? Math.max(1, Math.round(samples.length * hp.validationFraction)) : 0;
    const val = order.slice(0, nVal).map((i) => samples[i]!);
    runs.push({
      trainer: new Trainer(
        order.slice(nVal).map((i) => samples[i]!),
        arch,
        hp,
      ),
      val,
    });
  }
  const validationCount = runs.reduce((s, r) => s + r.val.length, 0);
  let best = Infinity;
  let bestEpoch = 0;
  let bestParams: Float64Array | undefined;
  let since = 0;
  let epoch: number;
  for (epoch = 1; epoch <= hp.maxEpochs; epoch++) {
    check();
    let trainLoss = 0;
    let valLoss = 0;
    for (const r of runs) {
      trainLoss += r.trainer.epoch() / runs.length;
      valLoss += (r.val.length ? datasetLoss(r.trainer.params, r.val, hp.gapWeight) : 0) / runs.length;
    }
    const watched = validationCount ? valLoss : trainLoss;
    options.onEpoch?.({ epoch, trainLoss, validationLoss: validationCount ? valLoss : undefined });
    if (watched < best - 1e-9) {
      best = watched;
      bestEpoch = epoch;
      since = 0;
      if (stopping === 'holdout') bestParams = runs[0]!.trainer.params.data.slice();
    } else if (++since >= hp.patience) break;
  }
  const epochs = Math.min(epoch, hp.maxEpochs);
  if (stopping === 'holdout') {
    const trainer = runs[0]!.trainer;
    if (bestParams) trainer.params.data.set(bestParams);
    return finish(
      trainer,
      epochs,
      bestEpoch,
      'holdout',
      validationCount ? best : undefined,
      validationCount,
      samples.length - validationCount,
    );
  }
  // The final model sees every sample, for the epoch count the folds agreed on.
  const trainer = new Trainer(samples, arch, hp);
  for (let e = 1; e <= bestEpoch; e++) {
    check();
    trainer.epoch();
  }
  return finish(trainer, epochs, bestEpoch, 'cross-validated', best, validationCount, samples.length);
}
