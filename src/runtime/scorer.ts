/**
 * Measured image quality: CLIP's verdict on each metric (DESIGN.md, "Quality metrics").
 *
 *   contrast metric m:  q(I,m) = softmax(100·[cos(I,m+), cos(I,m−)])[0] = σ(100·(cos(I,m+) − cos(I,m−)))
 *   alignment:          CLIPScore(I,p) = clamp(2.5·max(cos(I,p), 0), 0, 1)
 *
 * 100 is CLIP's logit scale (ViT-B/32 learned exp(4.6052) = 100), fixed here so scores do not
 * depend on which export of the weights is loaded. 2.5 is Hessel et al.'s CLIPScore weight
 * (EMNLP 2021), which stretches CLIP's usual 0.15–0.40 image–text cosine over most of [0,1];
 * the clamp keeps the rare cosine above 0.4 a valid score.
 */
import { RouteT2IError, throwIfAborted } from '../router/errors';
import { DEFAULT_METRICS, type Metric } from '../router/metrics';
import type { Scores } from '../router/types';
import { dot, openClipModel, type ClipLoadOptions, type ClipModel } from './clipModel';
import { decodeImage } from './images';

export const LOGIT_SCALE = 100;
export const CLIPSCORE_WEIGHT = 2.5;

/** What the generation dispatcher calls in cascade mode: the measured scores of one image for its prompt. */
export type QualityScorer = (image: Uint8Array, prompt: string, options?: { signal?: AbortSignal }) => Promise<Scores>;

export interface ScoreOptions {
  signal?: AbortSignal;
  /** How errors name the image (a path); default "image". */
  name?: string;
}

/** A metric without texts measures the prompt's alignment (parseMetrics leaves its kind unset). */
export function isAlignment(m: Metric): boolean {
  return m.kind === 'alignment' || (m.kind === undefined && m.positive === undefined);
}

export function contrastScore(cosPositive: number, cosNegative: number): number {
  const x = LOGIT_SCALE * (cosPositive - cosNegative);
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function clipScore(cosPrompt: number): number {
  return Math.min(1, CLIPSCORE_WEIGHT * Math.max(0, cosPrompt));
}

export class MetricScorer {
  private constructor(
    readonly metrics: readonly Metric[],
    private readonly clip: ClipModel,
    private readonly texts: Map<string, { positive: Float64Array; negative: Float64Array }>,
  ) {}

  /** Loads CLIP (downloading it on first use unless a local copy is named) and embeds the metric texts once. */
  static async create(options: ClipLoadOptions & { metrics?: readonly Metric[] } = {}): Promise<MetricScorer> {
    const metrics = options.metrics ?? DEFAULT_METRICS;
    if (metrics.length === 0) throw new RouteT2IError('bad-metrics', 'no metrics to score');
    const clip = await openClipModel(options, ['text', 'vision']);
    try {
      const texts = new Map<string, { positive: Float64Array; negative: Float64Array }>();
      for (const m of metrics) {
        if (isAlignment(m)) continue;
        throwIfAborted(options.signal);
        texts.set(m.id, { positive: await clip.embedText(m.positive!), negative: await clip.embedText(m.negative!) });
      }
      return new MetricScorer(metrics, clip, texts);
    } catch (e) {
      await clip.release();
      throw e;
    }
  }

  get model(): string {
    return this.clip.model;
  }

  get folder(): string {
    return this.clip.dir;
  }

  /** Unit-length CLIP embedding of image bytes (PNG, JPEG or WebP). */
  async embedImage(image: Uint8Array, options: ScoreOptions = {}): Promise<Float64Array> {
    throwIfAborted(options.signal);
    const decoded = await decodeImage(this.clip.transformers, image, options.name ?? 'image');
    throwIfAborted(options.signal);
    return this.clip.embedImage(decoded);
  }

  /** Every metric's score of an image; alignment metrics need the prompt and are left out without one. */
  score = async (image: Uint8Array, prompt?: string, options: ScoreOptions = {}): Promise<Scores> => {
    const embedding = await this.embedImage(image, options);
    const needsPrompt = prompt !== undefined && prompt.trim() !== '' && this.metrics.some(isAlignment);
    const promptEmbedding = needsPrompt ? await this.clip.embedText(prompt) : undefined;
    return this.scoreEmbedding(embedding, promptEmbedding);
  };

  /** Scores from an image embedding (and the prompt's, for alignment). */
  scoreEmbedding(image: Float64Array, prompt?: Float64Array): Scores {
    const scores: Scores = {};
    for (const m of this.metrics) {
      if (isAlignment(m)) {
        if (prompt) scores[m.id] = clipScore(dot(image, prompt));
        continue;
      }
      const t = this.texts.get(m.id)!;
      scores[m.id] = contrastScore(dot(image, t.positive), dot(image, t.negative));
    }
    return scores;
  }

  /** The scorer as the dispatcher's cascade hook: always scores alignment against the prompt. */
  get asQualityScorer(): QualityScorer {
    return (image, prompt, options) => this.score(image, prompt, options);
  }

  async dispose(): Promise<void> {
    await this.clip.release();
  }
}
