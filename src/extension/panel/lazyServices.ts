// The panel may register at activation, before the core has loaded: it gets these services, whose events forward the
// core's once it runs and whose calls load it on first use. Kept light: no engine code here.
import * as vscode from 'vscode';
import type { Ctx } from '../lifecycle/ctx';
import type { ActivePromptState, BudgetState, CalibrationState, GalleryItem, PanelServices } from './services';

export class LazyPanelServices implements PanelServices, vscode.Disposable {
  private readonly active = new vscode.EventEmitter<ActivePromptState | undefined>();
  private readonly metric = new vscode.EventEmitter<string>();
  private readonly budget = new vscode.EventEmitter<void>();
  private readonly gallery = new vscode.EventEmitter<void>();
  readonly onDidChangeActivePrompt = this.active.event;
  readonly onDidChangeMetric = this.metric.event;
  readonly onDidChangeBudget = this.budget.event;
  readonly onDidChangeGallery = this.gallery.event;
  private readonly disposables: vscode.Disposable[] = [this.active, this.metric, this.budget, this.gallery];
  private wired = false;

  constructor(private readonly ctx: Ctx) {}

  private async core(): Promise<PanelServices> {
    const core = await this.ctx.core();
    this.wire(core.services);
    return core.services;
  }

  /** Forwards the core's events (once). */
  wire(services: PanelServices): void {
    if (this.wired) return;
    this.wired = true;
    this.disposables.push(
      services.onDidChangeActivePrompt((s) => this.active.fire(s)),
      services.onDidChangeMetric((m) => this.metric.fire(m)),
      services.onDidChangeBudget(() => this.budget.fire()),
      services.onDidChangeGallery(() => this.gallery.fire()),
    );
  }

  getActivePrompt(): ActivePromptState | undefined {
    return this.ctx.coreIfLoaded?.services.getActivePrompt();
  }

  getMetric(): string {
    return this.ctx.coreIfLoaded?.services.getMetric() ?? this.ctx.config.settings.heat.metric;
  }

  setMetric(id: string): void {
    void this.core().then((s) => s.setMetric(id));
  }

  async getBudget(): Promise<BudgetState> {
    return (await this.core()).getBudget();
  }

  async getGallery(limit: number): Promise<GalleryItem[]> {
    return (await this.core()).getGallery(limit);
  }

  async getCalibration(): Promise<CalibrationState> {
    return (await this.core()).getCalibration();
  }

  async startCalibration(): Promise<void> {
    return (await this.core()).startCalibration();
  }

  async useCascadeMode(): Promise<void> {
    return (await this.core()).useCascadeMode();
  }

  async openImage(image: string, sidecar?: string): Promise<void> {
    return (await this.core()).openImage(image, sidecar);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
