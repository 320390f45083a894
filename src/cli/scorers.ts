import type { QualityScorer } from '../backends/types';
import type { Metric } from '../router/metrics';

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

export const scorerLoaders: Record<string, ScorerLoader> = {};
