import type { QualityScorer } from '../backends/types';
import type { Metric } from '../router/metrics';
import { MetricScorer } from '../runtime/scorer';
import { clipLoadOptions } from './clipOptions';

/**
 * Metric scorers the CLI can measure generated images with (cascade and hybrid modes), by name. The
 * runtime registers `clip` (its CLIP MetricScorer); with none registered, generate says that cascade
 * cannot measure and keeps edge images as rendered.
 */
export interface ScorerHandle {
  scorer: QualityScorer;
  /** What the sidecar records as the scoring model. */
  model: string;
  dispose(): Promise<void>;
}

export interface ScorerContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** A local folder of models (offline use), from --models-dir. */
  modelsDir?: string;
  /** The predictor's metrics, so measured and predicted scores line up. */
  metrics?: readonly Metric[];
}

export type ScorerLoader = (context: ScorerContext) => Promise<ScorerHandle>;

export const scorerLoaders: Record<string, ScorerLoader> = {
  // The runtime's CLIP scorer; transformers.js loads only when a loader runs.
  clip: async (context) => {
    const scorer = await MetricScorer.create({
      ...clipLoadOptions({ modelsDir: context.modelsDir, cwd: context.cwd, env: context.env, signal: context.signal }),
      ...(context.metrics ? { metrics: context.metrics } : {}),
    });
    return { scorer: scorer.asQualityScorer, model: scorer.model, dispose: () => scorer.dispose() };
  },
};
