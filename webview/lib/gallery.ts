// Predicted against measured scores of a generated image: how far the predictor was off, per metric.
import type { GalleryItemView, MetricView } from '../../src/shared/panel/protocol';

export interface PredictionError {
  metric: string;
  label: string;
  predicted: number;
  measured: number;
  /** measured − predicted: positive when the image turned out better than predicted. */
  off: number;
}

/**
 * One row per metric that has both a prediction (for the side that rendered the image) and a measurement. The labels
 * come from `metrics` where known (measured scores may use metrics the predictor lacks, and the other way round).
 */
export function predictionErrors(item: GalleryItemView, metrics: readonly MetricView[] = []): PredictionError[] {
  if (!item.predicted || !item.measured) return [];
  const predicted = item.predicted[item.route];
  const rows: PredictionError[] = [];
  for (const [metric, measured] of Object.entries(item.measured)) {
    const p = predicted[metric];
    if (p === undefined || !Number.isFinite(p) || !Number.isFinite(measured)) continue;
    rows.push({
      metric,
      label: metrics.find((m) => m.id === metric)?.label ?? titleCase(metric),
      predicted: p,
      measured,
      off: measured - p,
    });
  }
  return rows;
}

/** Mean absolute error over the rows, or undefined without rows. */
export function meanAbsoluteError(rows: readonly PredictionError[]): number | undefined {
  if (!rows.length) return undefined;
  return rows.reduce((sum, r) => sum + Math.abs(r.off), 0) / rows.length;
}

function titleCase(id: string): string {
  return id.length ? id[0]!.toUpperCase() + id.slice(1).replace(/[-_]+/g, ' ') : id;
}
