// The heat metric: the user's last choice in this workspace, else the `routet2i.heat.metric` setting; and the heat as
// the features draw it (on or off, the metric, the bucket scale with the predictor's own factor).
import * as vscode from 'vscode';
import type { PredictorHost } from '../predictor/predictorHost';
import type { Config } from '../settings/config';
import { modelHeatFactor, VERDICT } from '../../shared/presentation';

const METRIC_KEY = 'routet2i.heatMetric';

export interface HeatView {
  enabled: boolean;
  metric: string;
  scale: number;
}

/** The heat metric: the user's last choice in this workspace, else the `routet2i.heat.metric` setting. */
export class MetricChoice implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<string>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private warned = '';

  constructor(
    private readonly state: vscode.Memento,
    private readonly config: Config,
    private readonly predictors: PredictorHost,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      config.onDidChange((c) => {
        // Setting the metric in settings overrides an earlier pick.
        if (c.keys.includes('heat.metric'))
          void this.state.update(METRIC_KEY, undefined).then(() => this.emitter.fire(this.current));
      }),
      predictors.onDidChange(() => this.emitter.fire(this.current)),
    );
  }

  /** The metric id in use, or `verdict`; one the predictor does not have falls back to the verdict. */
  get current(): string {
    const wanted = this.state.get<string>(METRIC_KEY) ?? this.config.settings.heat.metric;
    if (wanted === VERDICT) return VERDICT;
    const metrics = this.predictors.metrics;
    if (metrics.length === 0 || metrics.some((m) => m.id === wanted)) return wanted;
    if (this.warned !== wanted) {
      this.warned = wanted;
      this.log.warn(
        `Heat metric "${wanted}" is not one of the predictor's metrics (${metrics.map((m) => m.id).join(', ')}); showing the verdict`,
      );
    }
    return VERDICT;
  }

  async set(id: string): Promise<void> {
    await this.state.update(METRIC_KEY, id);
    this.emitter.fire(this.current);
  }

  /** The heat as the features draw it: the bucket edges scale with `routet2i.heat.scale` × the predictor's own factor. */
  get heat(): HeatView {
    const h = this.config.settings.heat;
    return {
      enabled: h.enabled,
      metric: this.current,
      scale: h.scale * modelHeatFactor(this.predictors.engine?.predictor.file.heat),
    };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
