import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { builtinEncoders } from './encoders';
import { RouteT2IError, throwIfAborted } from './errors';
import type { Metric } from './metrics';
import { forward, tokenContributions, type NetInput } from './model/network';
import { isRidge, loadModel, MODEL_JSON, type HeadWeights, type ModelFile } from './model/format';
import { predictRidge, promptFeatures, tokenShares } from './model/ridge';
import { paretoRelation, paretoRelativeSuperiority, type Normalisation } from './prs';
import { boundPrompt } from './prompt';
import type {
  EncodedPrompt,
  EncoderContext,
  EncoderFactory,
  Prediction,
  Scores,
  TokenEncoder,
  TokenImpact,
  Truncation,
} from './types';

/** A loaded predictor: an encoder plus the network, ready to predict edge and cloud quality for prompts. */
export class Predictor {
  readonly metrics: Metric[];
  readonly normalisation: Normalisation;
  readonly prsReference: number[];

  constructor(
    readonly file: ModelFile,
    readonly params: HeadWeights,
    readonly encoder: TokenEncoder,
    /** The folder it was loaded from, if any. */
    readonly dir?: string,
  ) {
    this.metrics = file.metrics;
    this.normalisation = file.normalisation;
    this.prsReference = file.prsReference;
  }

  static async load(
    dir: string,
    options: { encoders?: Record<string, EncoderFactory>; context?: EncoderContext } = {},
  ): Promise<Predictor> {
    const { file, params } = await loadModel(dir);
    const factories = { ...builtinEncoders, ...options.encoders };
    const factory = factories[file.encoder.id];
    if (!factory) {
      throw new RouteT2IError(
        'unknown-encoder',
        `${path.join(dir, MODEL_JSON)}: the predictor needs the "${file.encoder.id}" encoder, which is not available here (known: ${Object.keys(factories).join(', ')})`,
      );
    }
    const encoder = await factory(file.encoder, { ...options.context, modelDir: dir });
    if (encoder.spec.dim !== file.encoder.dim) {
      throw new RouteT2IError(
        'encoder-mismatch',
        `${path.join(dir, MODEL_JSON)}: the "${file.encoder.id}" encoder gives ${encoder.spec.dim} features per token; the predictor expects ${file.encoder.dim}`,
      );
    }
    return new Predictor(file, params, encoder, dir);
  }

  get name(): string {
    return this.file.name;
  }

  async predict(prompts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Prediction[]> {
    const out: Prediction[] = [];
    const chunk = 256;
    for (let i = 0; i < prompts.length; i += chunk) {
      throwIfAborted(options.signal);
      const bounded = prompts.slice(i, i + chunk).map((p) => boundPrompt(p));
      const encoded = await this.encoder.encode(
        bounded.map((b) => b.text),
        options,
      );
      encoded.forEach((e, j) => out.push(withTruncation(this.predictEncoded(e), bounded[j]!.truncated)));
    }
    return out;
  }

  /** Synchronous prediction, for encoders that need no I/O (the lexical one): the editor's hot path. */
  predictSync(prompt: string): Prediction {
    if (!this.encoder.encodeSync)
      throw new RouteT2IError('async-encoder', `the "${this.encoder.spec.id}" encoder cannot predict synchronously`);
    const bounded = boundPrompt(prompt);
    return withTruncation(this.predictEncoded(this.encoder.encodeSync(bounded.text)), bounded.truncated);
  }

  predictEncoded(encoded: EncodedPrompt): Prediction {
    if (isRidge(this.params)) return ridgePrediction(this, encoded);
    const n = encoded.tokens.length;
    const input: NetInput = { n, features: encoded.features, ...(encoded.wordIds ? { wordIds: encoded.wordIds } : {}) };
    const params = this.params;
    const fw = forward(params, input);
    const k = this.metrics.length;
    const edge: Scores = {};
    const cloud: Scores = {};
    this.metrics.forEach((m, i) => {
      edge[m.id] = fw.quality[i]!;
      cloud[m.id] = fw.quality[k + i]!;
    });
    const contributions = tokenContributions(params, fw, n);
    const tokens: TokenImpact[] = encoded.tokens.map((tok) => ({
      text: tok.text,
      start: tok.start,
      end: tok.end,
      impact: {},
      cloudGain: {},
    }));
    this.metrics.forEach((m, i) => {
      const baseEdge = this.file.impactBaseline.edge[m.id]!;
      const baseCloud = this.file.impactBaseline.cloud[m.id]!;
      const tr = fw.traces[i]!;
      for (const t of tokens) {
        t.impact[m.id] = 0;
        t.cloudGain[m.id] = 0;
      }
      // Relative to the average key token, so a word that helps as much as a typical one reads as 0.
      for (let j = 0; j < tr.keys.length; j++) {
        const t = tr.keys[j]!;
        const a = tr.alpha[j]!;
        const e = contributions[i * n + t]! - a * baseEdge;
        const c = contributions[(k + i) * n + t]! - a * baseCloud;
        tokens[t]!.impact[m.id] = e;
        tokens[t]!.cloudGain[m.id] = c - e;
      }
    });
    return {
      edge,
      cloud,
      prs: paretoRelativeSuperiority(edge, cloud, this.metrics, this.normalisation),
      pareto: paretoRelation(edge, cloud, this.metrics),
      tokens,
    };
  }
}

/**
 * The ridge head's prediction. Qualities are shown clamped to [0, 1]; PRS and the Pareto relation use the unclamped
 * values, so the ranking is the ridge's own. Word impacts are the words' exact additive shares of each output,
 * turned into logit units at the predicted quality (one factor per prompt and output, so they stay additive).
 */
function ridgePrediction(predictor: Predictor, encoded: EncodedPrompt): Prediction {
  const model = predictor.params as import('./model/ridge').RidgeModel;
  const spec = predictor.file.ridge!;
  const n = encoded.tokens.length;
  const pf = promptFeatures(spec.features, encoded.features, n, predictor.file.encoder.dim, spec.rarityColumn, true);
  const out = predictRidge(model, pf.x);
  const k = predictor.metrics.length;
  const rawEdge: Scores = {};
  const rawCloud: Scores = {};
  const edge: Scores = {};
  const cloud: Scores = {};
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const tokens: TokenImpact[] = encoded.tokens.map((tok) => ({
    text: tok.text,
    start: tok.start,
    end: tok.end,
    impact: {},
    cloudGain: {},
  }));
  predictor.metrics.forEach((m, i) => {
    rawEdge[m.id] = out[i]!;
    rawCloud[m.id] = out[k + i]!;
    edge[m.id] = clamp(out[i]!);
    cloud[m.id] = clamp(out[k + i]!);
    const slope = (q: number) => {
      const c = Math.min(0.98, Math.max(0.02, q));
      return 1 / (c * (1 - c));
    };
    const e = tokenShares(model, spec.features, pf, i);
    const c = tokenShares(model, spec.features, pf, k + i);
    const se = slope(out[i]!);
    const sc = slope(out[k + i]!);
    tokens.forEach((t, j) => {
      t.impact[m.id] = e[j]! * se;
      t.cloudGain[m.id] = c[j]! * sc - e[j]! * se;
    });
  });
  return {
    edge,
    cloud,
    prs: paretoRelativeSuperiority(rawEdge, rawCloud, predictor.metrics, predictor.normalisation),
    pareto: paretoRelation(rawEdge, rawCloud, predictor.metrics),
    tokens,
  };
}

/** Bounded work per prompt: only the start of a very long prompt is encoded, and its prediction says so. */
function withTruncation(prediction: Prediction, truncated: Truncation | undefined): Prediction {
  if (truncated) prediction.truncated = truncated;
  return prediction;
}

/** The shipped default predictor's folder, found from wherever this code runs (bundle, sources, tests). */
export function defaultModelDir(): string {
  return shippedModelDir('default')!;
}

/** The folder holding the shipped predictors (models/). */
export function shippedModelsRoot(): string {
  const candidates = [
    path.resolve(__dirname, '..', 'models'),
    path.resolve(__dirname, '..', '..', 'models'),
    path.resolve(__dirname, '..', '..', '..', 'models'),
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'default', MODEL_JSON))) ?? candidates[0]!;
}

/** A shipped predictor's folder by name (`default`, `genai-sd2.1--dalle3`, …); undefined when there is none. */
export function shippedModelDir(name: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) return undefined;
  const dir = path.join(shippedModelsRoot(), name);
  return name === 'default' || existsSync(path.join(dir, MODEL_JSON)) ? dir : undefined;
}

/** Names of the shipped predictors. */
export function shippedModelNames(): string[] {
  const root = shippedModelsRoot();
  try {
    return readdirSync(root)
      .filter((n) => existsSync(path.join(root, n, MODEL_JSON)))
      .sort();
  } catch {
    return [];
  }
}

/** Tokens the edge is predicted to handle worst: most negative weighted impact on the edge, below `threshold`. */
export function weakTokens(
  prediction: Prediction,
  metrics: readonly Metric[],
  weights: Scores,
  limit = 3,
  threshold = -0.05,
): Array<{ token: TokenImpact; score: number; worstMetric: string }> {
  const scored = prediction.tokens.map((token) => {
    let score = 0;
    let worstMetric = metrics[0]?.id ?? '';
    let worst = Infinity;
    for (const m of metrics) {
      const v = token.impact[m.id] ?? 0;
      score += (weights[m.id] ?? 0) * v;
      if (v < worst) {
        worst = v;
        worstMetric = m.id;
      }
    }
    return { token, score, worstMetric };
  });
  return scored
    .filter((s) => s.score < threshold)
    .sort((a, b) => a.score - b.score)
    .slice(0, limit);
}
