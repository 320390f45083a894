import { RouteT2IError, throwIfAborted } from './errors';
import { groupedFolds, kFolds, routerFigures, routingCurve, sampleCurve, type RouterFigures } from './evaluate';
import type { Metric } from './metrics';
import { forward, SIDES, type NetInput } from './model/network';
import type { ModelFile, ModelFileDraft } from './model/format';
import { predictRidge, promptFeatures, ridgeFeatures, type RidgeData, type RidgeFeature } from './model/ridge';
import { chooseRidge, fitChosen } from './model/ridgeSelect';
import { Rng } from './model/rng';
import {
  architectureFor,
  DEFAULT_HYPERPARAMETERS,
  trainNetwork,
  type Hyperparameters,
  type TrainProgress,
  type TrainReport,
  type TrainSample,
} from './model/train';
import { pairMetricIds, pairQuality } from './pairs';
import { Predictor } from './predictor';
import { promptTokens } from './prompt';
import { selectPrompts } from './selection';
import { uniformWeights, type Normalisation } from './prs';
import type { EncodedPrompt, LabelledPair, Prediction, Scores, TokenEncoder } from './types';
import { singleLabelSource } from './learning/labelSource';
import { recordedModelPair } from './learning/modelPair';

/** Training data: pairs with their prompts encoded once (cross-validation reuses the encodings). */
export interface PreparedData {
  pairs: LabelledPair[];
  encoded: EncodedPrompt[];
  metrics: Metric[];
  /** The ridge head's prompt features, computed once and shared by every fold. */
  ridge?: { features: RidgeFeature[]; rarityColumn: number; x: Float64Array };
}

export interface FitOptions {
  hyperparameters?: Partial<Hyperparameters>;
  /** Γ of the PRS formula. */
  gamma?: number;
  /** Metric weights for PRS and quality (default equal). */
  weights?: Scores;
  /**
   * Training targets per pair, where they differ from the pair's own scores (e.g. a less noisy estimate of
   * the same quantity). Normalisation and evaluation always use the pairs' own scores.
   */
  targets?: Array<{ edge: Scores; cloud: Scores }>;
  name?: string;
  description?: string;
  source?: string;
  /** `ridge` (default): closed-form ridge on prompt features, λ and feature groups chosen by inner cross-validation; `network`: the token-level network. */
  head?: 'ridge' | 'network';
  signal?: AbortSignal;
  onEpoch?: (p: TrainProgress) => void;
}

export function metricsFromIds(ids: readonly string[], known: readonly Metric[] = []): Metric[] {
  return ids.map((id) => known.find((m) => m.id === id) ?? { id, label: id.charAt(0).toUpperCase() + id.slice(1) });
}

export async function prepareData(
  pairs: LabelledPair[],
  encoder: TokenEncoder,
  options: { metrics?: Metric[]; signal?: AbortSignal } = {},
): Promise<PreparedData> {
  const ids = pairMetricIds(pairs);
  const metrics = options.metrics ? options.metrics.filter((m) => ids.includes(m.id)) : metricsFromIds(ids);
  if (metrics.length === 0) {
    throw new RouteT2IError(
      'bad-pairs',
      options.metrics
        ? 'none of the chosen metrics has scores on both sides in the pairs'
        : 'no metric has scores on both the edge and the cloud side',
    );
  }
  // A predictor learns one kind of label: human ratings and a CLIP scorer (or two scorers) are never pooled.
  singleLabelSource(pairs);
  throwIfAborted(options.signal);
  const encoded = await encoder.encode(
    pairs.map((p) => p.prompt),
    options.signal ? { signal: options.signal } : {},
  );
  return { pairs, encoded, metrics };
}

function toSample(e: EncodedPrompt, target: { edge: Scores; cloud: Scores }, metrics: readonly Metric[]): TrainSample {
  const k = metrics.length;
  const targets = new Float64Array(SIDES * k);
  const mask = new Uint8Array(SIDES * k);
  metrics.forEach((m, i) => {
    const ev = target.edge[m.id];
    const cv = target.cloud[m.id];
    if (ev !== undefined) {
      targets[i] = ev;
      mask[i] = 1;
    }
    if (cv !== undefined) {
      targets[k + i] = cv;
      mask[k + i] = 1;
    }
  });
  return { input: netInput(e), targets, mask };
}

export function netInput(e: EncodedPrompt): NetInput {
  return { n: e.tokens.length, features: e.features, ...(e.wordIds ? { wordIds: e.wordIds } : {}) };
}

function meanScores(pairs: readonly LabelledPair[], side: 'edge' | 'cloud', metrics: readonly Metric[]): Scores {
  const out: Scores = {};
  for (const m of metrics) {
    let s = 0;
    let c = 0;
    for (const p of pairs) {
      const v = p[side][m.id];
      if (v !== undefined) {
        s += v;
        c++;
      }
    }
    out[m.id] = c > 0 ? s / c : 0.5;
  }
  return out;
}

/** `count` evenly spaced quantiles (linear interpolation); PRS values are clamped to [0, 1]. */
function quantiles(values: number[], count = 101, clamp = true): number[] {
  const sorted = values.slice().sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  return Array.from({ length: count }, (_, i) => {
    const x = (i / (count - 1)) * (sorted.length - 1);
    const lo = Math.floor(x);
    const hi = Math.min(sorted.length - 1, lo + 1);
    const q = sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (x - lo);
    return clamp ? Math.min(1, Math.max(0, q)) : q;
  });
}

/** What training reports, whatever the head. */
export type FitReport = Omit<TrainReport, 'params'>;

/** The ridge head's prompt features of every prepared pair (computed on first use, then shared by every fold). */
export function ridgeInputs(data: PreparedData, encoder: TokenEncoder): NonNullable<PreparedData['ridge']> {
  if (data.ridge) return data.ridge;
  const names = (encoder.spec.config.features as string[] | undefined) ?? [];
  const features = ridgeFeatures(names);
  const rarityColumn = names.indexOf('rarity');
  const p = features.length;
  const x = new Float64Array(data.pairs.length * p);
  data.encoded.forEach((e, i) =>
    x.set(promptFeatures(features, e.features, e.tokens.length, encoder.spec.dim, rarityColumn, false).x, i * p),
  );
  data.ridge = { features, rarityColumn, x };
  return data.ridge;
}

/** Trains a predictor on the prepared pairs at `indices` (all by default). */
export function fitPredictor(
  data: PreparedData,
  encoder: TokenEncoder,
  options: FitOptions = {},
  indices?: readonly number[],
): { predictor: Predictor; report: FitReport } {
  const idx = indices ?? data.pairs.map((_, i) => i);
  if (idx.length < 2)
    throw new RouteT2IError('too-few-pairs', `training needs at least 2 labelled pairs (got ${idx.length})`);
  if ((options.head ?? 'ridge') === 'ridge') return fitRidgePredictor(data, encoder, options, idx);
  const hp: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, ...options.hyperparameters };
  const { metrics } = data;
  const pairs = idx.map((i) => data.pairs[i]!);
  const samples = idx.map((i) => toSample(data.encoded[i]!, options.targets?.[i] ?? data.pairs[i]!, metrics));
  const arch = architectureFor(metrics.length, encoder.spec.dim, hp);
  const report = trainNetwork(samples, arch, hp, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}),
  });
  const weights = options.weights ?? uniformWeights(metrics);
  const normalisation: Normalisation = {
    muEdge: meanScores(pairs, 'edge', metrics),
    muCloud: meanScores(pairs, 'cloud', metrics),
    gamma: options.gamma ?? 1,
    weights,
  };

  // Impact baseline: the mean pooled contribution W·z over the training prompts.
  const k = metrics.length;
  const sums = new Float64Array(SIDES * k);
  let counted = 0;
  for (const s of samples) {
    if (s.input.n === 0) continue;
    const fw = forward(report.params, s.input);
    counted++;
    for (let o = 0; o < SIDES * k; o++) {
      const h = arch.hidden;
      let v = 0;
      for (let c = 0; c < h; c++) v += report.params.headWeights[o * h + c]! * fw.traces[o % k]!.pooled[c]!;
      sums[o]! += v;
    }
  }
  const base = (side: number): Scores =>
    Object.fromEntries(metrics.map((m, i) => [m.id, counted ? sums[side * k + i]! / counted : 0]));
  const draft: ModelFileDraft = {
    name: options.name ?? 'custom',
    ...(options.description ? { description: options.description } : {}),
    created: new Date().toISOString(),
    metrics,
    encoder: encoder.spec,
    architecture: arch,
    normalisation,
    impactBaseline: { edge: base(0), cloud: base(1) },
    prsReference: [],
    training: {
      data: { source: options.source ?? 'pairs', pairs: pairs.length, ...provenance(pairs) },
      hyperparameters: { ...hp },
      epochs: report.epochs,
      bestEpoch: report.bestEpoch,
      stopping: report.stopping,
      trainLoss: report.trainLoss,
      validationLoss: report.validationLoss ?? null,
      seconds: report.seconds,
    },
  };
  const file = {
    ...draft,
    format: 'routet2i-predictor',
    version: 1,
    weights: { file: 'weights.bin', sha256: '', dtype: 'float32', tensors: [] },
  } as ModelFile;
  const predictor = new Predictor(file, report.params, encoder);
  const predictions = idx.map((i) => predictor.predictEncoded(data.encoded[i]!));
  file.prsReference = quantiles(predictions.map((p) => p.prs));
  file.heat = heatPercentiles(predictions, metrics, weights);
  return { predictor, report };
}

function fitRidgePredictor(
  data: PreparedData,
  encoder: TokenEncoder,
  options: FitOptions,
  idx: readonly number[],
): { predictor: Predictor; report: FitReport } {
  const started = Date.now();
  const { metrics } = data;
  const k = metrics.length;
  const { features, rarityColumn, x } = ridgeInputs(data, encoder);
  const p = features.length;
  const q = SIDES * k;
  const y = new Float64Array(data.pairs.length * q).fill(NaN);
  for (const i of idx) {
    const target = options.targets?.[i] ?? data.pairs[i]!;
    metrics.forEach((m, j) => {
      y[i * q + j] = target.edge[m.id] ?? NaN;
      y[i * q + k + j] = target.cloud[m.id] ?? NaN;
    });
  }
  const ridgeData: RidgeData = { x, y, m: data.pairs.length, p, q };
  const weights = options.weights ?? uniformWeights(metrics);
  const w = metrics.map((m) => weights[m.id] ?? 0);
  const key = (out: Float64Array) => {
    let g = 0;
    for (let j = 0; j < k; j++) g += w[j]! * (out[k + j]! - out[j]!);
    return g;
  };
  const edgeQ = new Float64Array(data.pairs.length);
  const cloudQ = new Float64Array(data.pairs.length);
  for (const i of idx) {
    const qv = pairQuality(
      data.pairs[i]!,
      metrics.map((m) => m.id),
      weights,
    );
    edgeQ[i] = qv?.edge ?? 0;
    cloudQ[i] = qv?.cloud ?? 0;
  }
  throwIfAborted(options.signal);
  const seed = options.hyperparameters?.seed ?? DEFAULT_HYPERPARAMETERS.seed;
  const chosen = chooseRidge(
    ridgeData,
    idx,
    features,
    key,
    { edge: edgeQ, cloud: cloudQ },
    { seed, groupKeys: data.pairs.map((pair) => pair.prompt) },
  );
  const model = fitChosen(ridgeData, idx, features, chosen.choice);
  let sse = 0;
  let count = 0;
  const out = new Float64Array(q);
  for (const i of idx) {
    predictRidge(model, x.subarray(i * p, (i + 1) * p), out);
    for (let c = 0; c < q; c++) {
      const v = y[i * q + c]!;
      if (!Number.isNaN(v)) {
        sse += (out[c]! - v) ** 2;
        count++;
      }
    }
  }
  const pairs = idx.map((i) => data.pairs[i]!);
  const normalisation: Normalisation = {
    muEdge: meanScores(pairs, 'edge', metrics),
    muCloud: meanScores(pairs, 'cloud', metrics),
    gamma: options.gamma ?? 1,
    weights,
  };
  const zeros = (): Scores => Object.fromEntries(metrics.map((m) => [m.id, 0]));
  const seconds = (Date.now() - started) / 1000;
  // One closed-form step: reported as one epoch, so progress displays that count epochs show it.
  options.onEpoch?.({ epoch: 1, trainLoss: count ? sse / count : 0, validationLoss: undefined });
  const report: FitReport = {
    epochs: 0,
    bestEpoch: 0,
    trainLoss: count ? sse / count : 0,
    validationLoss: undefined,
    stopping: 'fixed',
    trainCount: idx.length,
    validationCount: 0,
    seconds,
  };
  const draft: ModelFileDraft = {
    name: options.name ?? 'custom',
    ...(options.description ? { description: options.description } : {}),
    created: new Date().toISOString(),
    head: 'ridge',
    ridge: {
      features,
      rarityColumn,
      lambda: chosen.choice.lambda,
      groups: { ...chosen.choice.groups },
      selection: {
        method: chosen.tried
          ? `${chosen.tried} settings (λ × feature groups), inner 5-fold cross-validated APGR on the training pairs`
          : 'default (too few pairs to choose)',
        innerApgr: Number.isFinite(chosen.innerApgr) ? chosen.innerApgr : null,
        tried: chosen.tried,
      },
    },
    metrics,
    encoder: encoder.spec,
    normalisation,
    impactBaseline: { edge: zeros(), cloud: zeros() },
    prsReference: [],
    training: {
      data: { source: options.source ?? 'pairs', pairs: pairs.length, ...provenance(pairs) },
      hyperparameters: { head: 'ridge', lambda: chosen.choice.lambda, groups: { ...chosen.choice.groups }, seed },
      epochs: 0,
      bestEpoch: 0,
      stopping: 'fixed',
      trainLoss: report.trainLoss,
      validationLoss: null,
      seconds,
    },
  };
  const file = {
    ...draft,
    format: 'routet2i-predictor',
    version: 2,
    weights: { file: 'weights.bin', sha256: '', dtype: 'float32', tensors: [] },
  } as ModelFile;
  const predictor = new Predictor(file, model, encoder);
  const predictions = idx.map((i) => predictor.predictEncoded(data.encoded[i]!));
  file.prsReference = quantiles(predictions.map((pr) => pr.prs));
  file.heat = heatPercentiles(predictions, metrics, weights);
  return { predictor, report };
}

/** What the labels are (`labels`) and which models they compare (`pair`), where the pairs record it. */
function provenance(pairs: readonly LabelledPair[]): { labels?: unknown; pair?: { edge: string; cloud: string } } {
  const labels = singleLabelSource(pairs);
  const pair = recordedModelPair(pairs);
  return { ...(labels ? { labels } : {}), ...(pair ? { pair } : {}) };
}

/** Percentiles 50/80/95 of the non-zero |impacts| (per metric) and |PRS-weighted cloud gains| (verdict). */
function heatPercentiles(
  predictions: readonly Prediction[],
  metrics: readonly Metric[],
  weights: Scores,
): NonNullable<ModelFile['heat']> {
  const metric: number[] = [];
  const verdict: number[] = [];
  for (const p of predictions) {
    for (const t of p.tokens) {
      let v = 0;
      for (const m of metrics) {
        const impact = Math.abs(t.impact[m.id] ?? 0);
        if (impact > 0) metric.push(impact);
        v += (weights[m.id] ?? 0) * (t.cloudGain[m.id] ?? 0);
      }
      if (v !== 0) verdict.push(Math.abs(v));
    }
  }
  const at = (values: number[]): [number, number, number] => {
    if (values.length === 0) return [0, 0, 0];
    const q = quantiles(values, 101, false);
    return [q[50]!, q[80]!, q[95]!];
  };
  return { metric: at(metric), verdict: at(verdict) };
}

export type BaselineName = 'random' | 'length' | 'oracle';

export interface EvaluationResult {
  n: number;
  metrics: string[];
  routers: Record<string, RouterFigures>;
  /** Per-fold figures (cross-validation only): mean and standard deviation over folds. */
  folds?: { k: number; seed: number; perFold: Record<string, { mean: RouterFigures; sd: RouterFigures }> };
  /** PGR against cloud share for the learned router, 21 points. */
  curve?: Array<{ share: number; pgr: number }>;
}

function qualities(
  pairs: readonly LabelledPair[],
  metricIds: readonly string[],
  weights?: Scores,
): { edge: number[]; cloud: number[] } {
  const edge: number[] = [];
  const cloud: number[] = [];
  for (const p of pairs) {
    const q = pairQuality(p, metricIds, weights);
    if (!q) throw new RouteT2IError('bad-pairs', `pair "${p.id}" has no metric scored on both sides`);
    edge.push(q.edge);
    cloud.push(q.cloud);
  }
  return { edge, cloud };
}

/** Orders for the baselines: each value is "route to the cloud earlier when higher". */
export function baselineOrders(
  pairs: readonly LabelledPair[],
  edge: readonly number[],
  cloud: readonly number[],
): Record<BaselineName, number[]> {
  return {
    random: pairs.map(() => 0),
    length: pairs.map((p) => promptTokens(p.prompt).tokens.length),
    oracle: pairs.map((_, i) => cloud[i]! - edge[i]!),
  };
}

function allFigures(
  learned: readonly number[],
  pairs: readonly LabelledPair[],
  metricIds: readonly string[],
  weights?: Scores,
) {
  const { edge, cloud } = qualities(pairs, metricIds, weights);
  const orders = baselineOrders(pairs, edge, cloud);
  return {
    routet2i: routerFigures(learned, edge, cloud),
    random: routerFigures(orders.random, edge, cloud),
    length: routerFigures(orders.length, edge, cloud),
    oracle: routerFigures(orders.oracle, edge, cloud),
  };
}

/** Evaluates a trained predictor on pairs (no training): rank by its PRS, score by the pairs' metrics. */
export async function evaluatePredictor(
  predictor: Predictor,
  pairs: LabelledPair[],
  options: { weights?: Scores; signal?: AbortSignal } = {},
): Promise<EvaluationResult> {
  const metricIds = pairMetricIds(pairs);
  const predictions = await predictor.predict(
    pairs.map((p) => p.prompt),
    options.signal ? { signal: options.signal } : {},
  );
  const learned = predictions.map((p) => -p.prs);
  const { edge, cloud } = qualities(pairs, metricIds, options.weights);
  return {
    n: pairs.length,
    metrics: metricIds,
    routers: allFigures(learned, pairs, metricIds, options.weights),
    curve: sampleCurve(routingCurve(learned, edge, cloud).pgr),
  };
}

const FIGURES = ['apgr', 'cpt50', 'pgr50'] as const;

/**
 * K-fold cross-validation: each fold's predictor is trained (with its own early-stopping split) on the
 * other folds only and ranks the held-out fold. Figures are computed on the pooled out-of-fold PRS, and
 * per fold (mean ± sd).
 */
export async function crossValidate(
  data: PreparedData,
  encoder: TokenEncoder,
  options: FitOptions & { folds: number; seed: number; onFold?: (fold: number, of: number) => void },
): Promise<EvaluationResult & { outOfFoldPrs: number[] }> {
  const { pairs } = data;
  const metricIds = data.metrics.map((m) => m.id);
  const rng = new Rng(options.seed);
  // Pooled files repeat prompts: folds are grouped by prompt text (plain K-fold when every prompt is distinct).
  const distinct = new Set(pairs.map((p) => p.prompt)).size === pairs.length;
  const folds = distinct
    ? kFolds(pairs.length, options.folds, (xs) => rng.shuffle(xs))
    : groupedFolds(
        pairs.map((p) => p.prompt),
        options.folds,
        (xs) => rng.shuffle(xs),
      );
  const prs = new Array<number>(pairs.length).fill(0.5);
  const perFold: Array<Record<string, RouterFigures>> = [];
  for (let f = 0; f < folds.length; f++) {
    throwIfAborted(options.signal);
    options.onFold?.(f + 1, folds.length);
    const test = new Set(folds[f]);
    const trainIdx = pairs.map((_, i) => i).filter((i) => !test.has(i));
    const { predictor } = fitPredictor(
      data,
      encoder,
      {
        ...options,
        hyperparameters: {
          ...options.hyperparameters,
          seed: (options.hyperparameters?.seed ?? DEFAULT_HYPERPARAMETERS.seed) + f,
        },
      },
      trainIdx,
    );
    for (const i of folds[f]!) prs[i] = predictor.predictEncoded(data.encoded[i]!).prs;
    const foldPairs = folds[f]!.map((i) => pairs[i]!);
    try {
      perFold.push(
        allFigures(
          folds[f]!.map((i) => -prs[i]!),
          foldPairs,
          metricIds,
          options.weights,
        ),
      );
    } catch (e) {
      // A fold where the cloud is not better on average has no PGR; the pooled figures still stand.
      if (!(e instanceof RouteT2IError && e.code === 'no-gap')) throw e;
    }
  }
  const learned = prs.map((p) => -p);
  const { edge, cloud } = qualities(pairs, metricIds, options.weights);
  const summary: Record<string, { mean: RouterFigures; sd: RouterFigures }> = {};
  for (const router of ['routet2i', 'random', 'length', 'oracle']) {
    const stat = (key: (typeof FIGURES)[number]) => {
      const v = perFold.map((r) => r[router]![key]);
      const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
      return { mean, sd };
    };
    const s = Object.fromEntries(FIGURES.map((key) => [key, stat(key)]));
    summary[router] = {
      mean: { apgr: s.apgr!.mean, cpt50: s.cpt50!.mean, pgr50: s.pgr50!.mean },
      sd: { apgr: s.apgr!.sd, cpt50: s.cpt50!.sd, pgr50: s.pgr50!.sd },
    };
  }
  return {
    n: pairs.length,
    metrics: metricIds,
    routers: allFigures(learned, pairs, metricIds, options.weights),
    folds: { k: options.folds, seed: options.seed, perFold: summary },
    curve: sampleCurve(routingCurve(learned, edge, cloud).pgr),
    outOfFoldPrs: prs,
  };
}

/** Labelled-prompt counts the learning curve reports (those the data allows). */
export const CURVE_SIZES: readonly number[] = [25, 50, 100, 150, 200, 400];

export interface CurvePoint {
  size: number;
  /** Pooled out-of-fold APGR when the `size` training prompts are drawn at random / picked by selectPrompts. */
  random: number;
  chosen: number;
}

/**
 * The learning curve: in each of `folds` outer folds, predictors are trained on `size` prompts of the other folds
 * (drawn at random, or picked by selectPrompts: diverse, without their labels) and rank the held-out fold; APGR is
 * computed on the pooled held-out rankings. Sizes larger than every fold's pool are left out.
 */
export function learningCurve(
  data: PreparedData,
  encoder: TokenEncoder,
  options: FitOptions & {
    folds?: number;
    seed?: number;
    sizes?: readonly number[];
    onStep?: (done: number, of: number) => void;
  } = {},
): CurvePoint[] {
  const n = data.pairs.length;
  const k = options.folds ?? 5;
  const rng = new Rng(options.seed ?? 1);
  const folds = kFolds(n, k, (xs) => rng.shuffle(xs));
  const poolSize = Math.min(...folds.map((f) => n - f.length));
  const sizes = (options.sizes ?? CURVE_SIZES).filter((s) => s >= 10 && s <= poolSize);
  const metricIds = data.metrics.map((m) => m.id);
  const { edge, cloud } = qualities(data.pairs, metricIds, options.weights);
  const { features, x } = ridgeInputs(data, encoder);
  const p = features.length;
  const prs = { random: sizes.map(() => new Float64Array(n)), chosen: sizes.map(() => new Float64Array(n)) };
  let done = 0;
  for (let f = 0; f < k; f++) {
    const held = new Set(folds[f]);
    const pool = Array.from({ length: n }, (_, i) => i).filter((i) => !held.has(i));
    const shuffled = new Rng((options.seed ?? 1) * 7919 + f).shuffle(pool);
    const poolX = new Float64Array(pool.length * p);
    pool.forEach((i, r) => poolX.set(x.subarray(i * p, (i + 1) * p), r * p));
    sizes.forEach((size, s) => {
      throwIfAborted(options.signal);
      const picks = { random: shuffled.slice(0, size), chosen: selectPrompts(size, poolX, p).map((r) => pool[r]!) };
      for (const how of ['random', 'chosen'] as const) {
        const { predictor } = fitPredictor(
          data,
          encoder,
          {
            ...options,
            hyperparameters: {
              ...options.hyperparameters,
              seed: (options.hyperparameters?.seed ?? DEFAULT_HYPERPARAMETERS.seed) + f,
            },
          },
          picks[how],
        );
        for (const i of folds[f]!) prs[how][s]![i] = predictor.predictEncoded(data.encoded[i]!).prs;
      }
      options.onStep?.(++done, k * sizes.length);
    });
  }
  return sizes.map((size, s) => ({
    size,
    random: routerFigures(
      Array.from(prs.random[s]!, (v) => -v),
      edge,
      cloud,
    ).apgr,
    chosen: routerFigures(
      Array.from(prs.chosen[s]!, (v) => -v),
      edge,
      cloud,
    ).apgr,
  }));
}
