// A document's prompts, cached by document version, and what the features compute from them: heat ranges for the
// visible part, weak words for diagnostics. Predictions come from the engine's per-prompt cache, so an edit in one
// prompt recomputes that prompt only. No `vscode` here.
import type { Metric } from '../../router/metrics';
import { weakTokens } from '../../router/predictor';
import type { Prediction, Scores, TokenImpact } from '../../router/types';
import { BUCKETS, bucketTokens } from '../../shared/presentation';
import { findPrompts, promptsIn, type DocKind, type DocPrompt, type DocPrompts } from './regions';

export interface DocumentSource {
  /** A stable key (the URI). */
  key: string;
  version: number;
  kind: DocKind;
  /** Names the document in messages. */
  name: string;
  getText(): string;
}

/** What the features need from the engine. */
export interface PredictionSource {
  /** Cached or computed now; undefined while an asynchronous prediction is pending. */
  prediction(prompt: string): Prediction | undefined;
}

export class DocumentPrompts {
  private readonly docs = new Map<string, { version: number; found: DocPrompts }>();

  /** The prompts of a document at its current version (parsed once per version). */
  of(doc: DocumentSource): DocPrompts {
    const cached = this.docs.get(doc.key);
    if (cached && cached.version === doc.version) return cached.found;
    const found = findPrompts(doc.getText(), doc.kind, doc.name);
    this.docs.set(doc.key, { version: doc.version, found });
    return found;
  }

  forget(key: string): void {
    this.docs.delete(key);
  }

  clear(): void {
    this.docs.clear();
  }
}

export interface HeatRanges {
  /** Per bucket (0…6; the neutral one stays empty), document offset ranges. */
  buckets: Array<Array<{ start: number; end: number }>>;
  prompts: number;
  tokens: number;
  /** Prompts whose prediction is still being computed (asynchronous encoders). */
  pending: number;
}

/** Heat for the prompts that overlap `visible` (document offsets), as document offset ranges per bucket. */
export function heatRanges(
  prompts: readonly DocPrompt[],
  visible: ReadonlyArray<{ start: number; end: number }>,
  source: PredictionSource,
  heat: { metric: string; scale: number },
  weights: Scores,
): HeatRanges {
  const out: HeatRanges = { buckets: BUCKETS.map(() => []), prompts: 0, tokens: 0, pending: 0 };
  for (const p of promptsIn(prompts, visible)) {
    const prediction = source.prediction(p.entry.prompt);
    if (!prediction) {
      out.pending++;
      continue;
    }
    out.prompts++;
    out.tokens += prediction.tokens.length;
    const grouped = bucketTokens(prediction.tokens, heat.metric, weights, heat.scale);
    grouped.forEach((ranges, b) => {
      for (const r of ranges) out.buckets[b]!.push({ start: p.start + r.start, end: p.start + r.end });
    });
  }
  return out;
}

export interface WeakWord {
  token: TokenImpact;
  /** Document offsets of the word. */
  start: number;
  end: number;
  /** PRS-weighted impact on the edge (negative). */
  score: number;
  worstMetric: string;
}

/** The words the edge is predicted to handle worst in one prompt, minus the ones the workspace ignores. */
export function weakWords(
  prompt: DocPrompt,
  prediction: Prediction,
  metrics: readonly Metric[],
  weights: Scores,
  options: { limit: number; threshold: number; ignored: readonly string[] },
): WeakWord[] {
  const ignored = new Set(options.ignored.map((w) => w.toLowerCase()));
  return weakTokens(prediction, metrics, weights, Number.MAX_SAFE_INTEGER, options.threshold)
    .filter((w) => !ignored.has(w.token.text.toLowerCase()))
    .slice(0, options.limit)
    .map((w) => ({
      token: w.token,
      start: prompt.start + w.token.start,
      end: prompt.start + w.token.end,
      score: w.score,
      worstMetric: w.worstMetric,
    }));
}

/** The token of a prediction at a prompt-relative offset (its end included). */
export function tokenAt(prediction: Prediction, offset: number): TokenImpact | undefined {
  return prediction.tokens.find((t) => offset >= t.start && offset <= t.end);
}
