// What the cost policy needs at any moment, kept current: this workspace's recent PRS values (for α), this month's
// money from the ledger (re-read when the ledger file changes, also when the CLI writes it), and the cloud's price.
// With a gateway (`routet2i.gateway.url`) all three are the team's: read from the gateway's month and policy.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GatewayClient, type GatewayPolicy } from '../../generation/gatewayClient';
import { Ledger, type LedgerEntry, type LedgerStatus } from '../../generation/ledger';
import { statusOf } from '../../generation/monthView';
import { createBackend } from '../../backends/registry';
import type { Prediction } from '../../router/types';
import type { Backend, BackendConfig, SecretSource } from '../../backends/types';
import { PrsHistory, validatePolicy, type GenerationMode, type PolicyConfig } from '../../router/policy';
import type { Secrets } from '../apiKeys/secrets';
import { readLedgerEntries } from '../panel/records';
import type { Config } from '../settings/config';
import type { PredictorHost } from '../predictor/predictorHost';
import type { Settings } from '../settings/settings';
import type { DocPrompt } from '../prompts/regions';
import { policyView, verdictOf, type PolicyView, type Verdict } from '../verdict/verdict';

const HISTORY_KEY = 'routet2i.prsHistory';
/** How often the team's month is re-read from a gateway (others spend too); focus and Generate re-read at once. */
const GATEWAY_REFRESH_MS = 30_000;

/** Where the money ledger lives: the CLI's default place in the workspace, so both count the same money. */
export function ledgerFile(storage: vscode.Uri): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return folder ? path.join(folder, '.routet2i', 'ledger.json') : path.join(storage.fsPath, 'ledger.json');
}

/** The policy from settings (already guarded, so this only assembles it). */
export function policyConfig(settings: Settings): PolicyConfig {
  return validatePolicy(
    { cloudShare: settings.policy.cloudShare, monthlyCap: settings.policy.monthlyCap, prices: settings.policy.prices },
    'routet2i.policy',
  );
}

/** One backend's settings as createBackend takes them: its own settings, the side it plays, a price override. */
export function backendConfig(settings: Settings, name: string, side: 'edge' | 'cloud'): BackendConfig {
  const own = (settings.backends.settings as Record<string, BackendConfig>)[name] ?? {};
  const price = settings.policy.prices[name];
  return { ...own, side, ...(price !== undefined ? { price } : {}) };
}

export function buildBackend(settings: Settings, side: 'edge' | 'cloud', secrets: SecretSource): Backend | undefined {
  const name = side === 'edge' ? settings.backends.edge : settings.backends.cloud;
  return name ? buildNamedBackend(settings, name, side, secrets) : undefined;
}

/** A backend by name on a side, with its settings from `routet2i.backends.settings` (a file's `backend:` front matter). */
export function buildNamedBackend(
  settings: Settings,
  name: string,
  side: 'edge' | 'cloud',
  secrets: SecretSource,
): Backend {
  return createBackend(name, backendConfig(settings, name, side), secrets, {
    baseDir: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
  });
}

export class PolicyState implements vscode.Disposable {
  private month: LedgerStatus | undefined;
  /** The gateway's policy and this month's entries, as last read (gateway only). */
  private team: { url: string; policy: GatewayPolicy; entries: LedgerEntry[] } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private disposed = false;
  private monthError: string | undefined;
  private cloudPrice = 0;
  private history: PrsHistory;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly predictors: PredictorHost,
    private readonly secrets: Secrets,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.history = new PrsHistory(500, extension.workspaceState.get<number[]>(HISTORY_KEY, []));
    this.priceCloud();
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (folder) {
      const watcher = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(folder, '.routet2i/ledger.json'),
      );
      this.disposables.push(
        watcher,
        watcher.onDidChange(() => this.refresh()),
        watcher.onDidCreate(() => this.refresh()),
        watcher.onDidDelete(() => this.refresh()),
      );
    }
    this.disposables.push(
      config.onDidChange(() => {
        this.priceCloud();
        void this.refresh();
        this.emitter.fire();
      }),
      vscode.window.onDidChangeWindowState((s) => {
        if (s.focused) void this.refresh();
      }),
      secrets.onDidChangeGatewayKey(() => void this.refresh()),
    );
    void this.refresh();
  }

  get ledgerFile(): string {
    return ledgerFile(this.extension.globalStorageUri);
  }

  /** This month's money, as last read (undefined before the first read or when the ledger is unreadable). */
  get status(): LedgerStatus | undefined {
    return this.month;
  }

  get ledgerProblem(): string | undefined {
    return this.monthError;
  }

  /** The gateway Generate goes through, or undefined to call the backends from here. */
  get gatewayUrl(): string | undefined {
    return this.config.settings.gateway.url || undefined;
  }

  /** A client for the configured gateway, with its key from the secret storage (undefined without a gateway). */
  async gatewayClient(): Promise<GatewayClient | undefined> {
    const url = this.gatewayUrl;
    if (!url) return undefined;
    const key = await this.secrets.gatewayKey();
    return new GatewayClient({ url, ...(key ? { key } : {}) });
  }

  /** This month's entries, newest first: the team's from the gateway, else this workspace's ledger file. */
  async latestEntries(month: string): Promise<LedgerEntry[]> {
    if (this.gatewayUrl) return this.team?.url === this.gatewayUrl ? [...this.team.entries].reverse() : [];
    return readLedgerEntries(this.ledgerFile, month);
  }

  /** The policy as it stands now, for verdicts: α from the predictor's reference PRS plus this workspace's history. */
  view(): PolicyView {
    const settings = this.config.settings;
    const team = this.team?.url === this.gatewayUrl ? this.team?.policy : undefined;
    if (team) {
      // The gateway decides: its budget, cap, price and α's history (the team's recent prompts).
      return policyView(
        validatePolicy({ cloudShare: team.budget, monthlyCap: team.monthlyCap, prices: {} }, "the gateway's policy"),
        team.history,
        {
          committed: this.month ? this.month.spent + this.month.reserved : 0,
          cloudPrice: team.cloudPrice,
          cloudConfigured: team.cloud !== null,
          edgeConfigured: team.edge !== null,
          mode: (['predict', 'cascade', 'hybrid'].includes(team.mode) ? team.mode : 'predict') as GenerationMode,
          hybridBand: settings.policy.hybridBand,
        },
      );
    }
    const reference = this.predictors.engine?.predictor.prsReference ?? [];
    return policyView(policyConfig(settings), [...reference, ...this.history.snapshot()], {
      committed: this.month ? this.month.spent + this.month.reserved : 0,
      cloudPrice: this.cloudPrice,
      cloudConfigured: settings.backends.cloud !== null,
      edgeConfigured: settings.backends.edge !== null,
      mode: settings.policy.mode,
      hybridBand: settings.policy.hybridBand,
    });
  }

  /** A prompt's verdict under the policy as it stands (or `view`, to judge several prompts against one snapshot). */
  verdict(p: DocPrompt, prediction: Prediction, view: PolicyView = this.view()): Verdict {
    return verdictOf(prediction, this.predictors.weights, view, p.override?.side);
  }

  /** The PRS values of this workspace's recent prompts, newest last (the dispatcher calibrates α on them too). */
  historyValues(): number[] {
    return [...(this.predictors.engine?.predictor.prsReference ?? []), ...this.history.snapshot()];
  }

  /** Records the PRS of generated prompts, so α follows what this workspace actually renders. */
  async record(prs: readonly number[]): Promise<void> {
    // Through a gateway, the gateway records them in the team's history (read back on refresh).
    if (this.gatewayUrl) return;
    for (const p of prs) this.history.push(p);
    await this.extension.workspaceState.update(HISTORY_KEY, this.history.snapshot());
    this.emitter.fire();
  }

  /** Re-reads the ledger (never writes it); concurrent calls share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const before = JSON.stringify([this.month, this.monthError, this.team]);
      try {
        const gateway = await this.gatewayClient();
        if (gateway) {
          const [month, policy] = await Promise.all([gateway.ledger(), gateway.policy()]);
          this.month = statusOf(month);
          this.team = { url: this.gatewayUrl!, policy, entries: month.entries };
        } else {
          this.team = undefined;
          this.month = await Ledger.peek({ file: this.ledgerFile, monthlyCap: this.config.settings.policy.monthlyCap });
        }
        this.monthError = undefined;
      } catch (error) {
        this.month = undefined;
        this.team = undefined;
        const message = (error as Error).message;
        if (message !== this.monthError) this.log.warn(`${this.gatewayUrl ? 'Gateway' : 'Ledger'}: ${message}`);
        this.monthError = message;
      } finally {
        this.refreshing = undefined;
      }
      // Only a real change redraws (a focus change re-reads the ledger; the verdicts rarely move).
      if (JSON.stringify([this.month, this.monthError, this.team]) !== before) this.emitter.fire();
      this.schedule();
    })();
    return this.refreshing;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const d of this.disposables) d.dispose();
  }

  /** Through a gateway, others spend too: the month is re-read every so often (never without a gateway). */
  private schedule(): void {
    if (this.gatewayUrl && !this.timer && !this.disposed)
      this.timer = setInterval(() => void this.refresh(), GATEWAY_REFRESH_MS);
    if (!this.gatewayUrl && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private priceCloud(): void {
    const settings = this.config.settings;
    this.cloudPrice = 0;
    if (!settings.backends.cloud || this.config.restricted) return;
    try {
      this.cloudPrice =
        buildBackend(settings, 'cloud', this.secrets)?.estimateCost({
          prompt: '',
          width: settings.generation.width,
          height: settings.generation.height,
        }) ?? 0;
    } catch (error) {
      this.log.warn(`Cloud backend "${settings.backends.cloud}": ${(error as Error).message}`);
    }
  }
}
