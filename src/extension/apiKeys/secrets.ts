// API keys live in VS Code's SecretStorage, under the names the backends read (OPENAI_API_KEY, …): never in settings,
// never in the log, never in a message.
import * as vscode from 'vscode';
import { REQUIRED_SECRETS, SECRET_NAMES } from '../../backends/registry';
import type { BackendName, SecretSource } from '../../backends/types';

const LABELS: Record<BackendName, string> = {
  comfyui: 'ComfyUI',
  a1111: 'AUTOMATIC1111 / Forge (user:password)',
  'openai-compatible': 'OpenAI-compatible server',
  openai: 'OpenAI Images',
  stability: 'Stability AI',
  replicate: 'Replicate',
  fal: 'fal.ai',
  bfl: 'Black Forest Labs',
};

/** Where the key of a RouteT2I gateway (`routet2i.gateway.url`) is kept: the gateway's own key, not a provider's. */
export const GATEWAY_SECRET = 'ROUTET2I_GATEWAY_KEY';

export class Secrets implements SecretSource, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** The gateway key was stored or removed (the team's month is read again with it). */
  readonly onDidChangeGatewayKey = this.changed.event;

  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  dispose(): void {
    this.changed.dispose();
  }

  get(name: string): Promise<string | undefined> {
    // Only the names the backends read are handed out.
    if (!Object.values(SECRET_NAMES).includes(name)) return Promise.resolve(undefined);
    return Promise.resolve(this.storage.get(name));
  }

  /** The gateway key, for the gateway client alone (backends never see it). */
  gatewayKey(): Promise<string | undefined> {
    return Promise.resolve(this.storage.get(GATEWAY_SECRET));
  }

  /** "Set Gateway Key": type the gateway's key (masked); an empty key removes the stored one. */
  async setGatewayKey(): Promise<boolean> {
    const stored = Boolean(await this.storage.get(GATEWAY_SECRET));
    const value = await vscode.window.showInputBox({
      title: 'RouteT2I: Gateway Key',
      prompt: `The key of the RouteT2I gateway in "routet2i.gateway.url", stored in VS Code's secret storage; sent only over https or to this machine, never in settings or logs.${stored ? ' A key is stored: leave empty to remove it.' : ''}`,
      password: true,
      ignoreFocusOut: true,
      placeHolder: 'gateway key',
      validateInput: (v) =>
        /\s/.test(v.trim()) ? 'A key has no spaces inside' : /[\r\n]/.test(v) ? 'A key is one line' : undefined,
    });
    if (value === undefined) return false;
    if (value.trim() === '') {
      await this.storage.delete(GATEWAY_SECRET);
      this.log.info('Gateway key removed from the secret storage');
      void vscode.window.showInformationMessage('RouteT2I: the gateway key was removed.');
    } else {
      await this.storage.store(GATEWAY_SECRET, value.trim());
      this.log.info(`Gateway key stored in the secret storage (${GATEWAY_SECRET})`);
      void vscode.window.showInformationMessage("RouteT2I: the gateway key is stored in VS Code's secret storage.");
    }
    this.changed.fire();
    return true;
  }

  /** "Set API Key": pick a backend, type its key (masked); an empty key removes the stored one. */
  async setApiKey(backend?: string): Promise<boolean> {
    const names = (Object.keys(SECRET_NAMES) as BackendName[]).filter((n) => SECRET_NAMES[n]);
    let name = backend && names.includes(backend as BackendName) ? (backend as BackendName) : undefined;
    if (!name) {
      const items = await Promise.all(
        names.map(async (n) => ({
          label: LABELS[n],
          description: `${n} · ${SECRET_NAMES[n]}`,
          detail: (await this.storage.get(SECRET_NAMES[n]!))
            ? 'A key is stored'
            : REQUIRED_SECRETS[n]
              ? 'No key yet (required)'
              : 'No key (optional)',
          backend: n,
        })),
      );
      const picked = await vscode.window.showQuickPick(items, {
        title: 'RouteT2I: Set API Key',
        placeHolder: 'Which backend is the key for?',
        matchOnDescription: true,
      });
      if (!picked) return false;
      name = picked.backend;
    }
    const secret = SECRET_NAMES[name]!;
    const value = await vscode.window.showInputBox({
      title: `RouteT2I: API key for ${LABELS[name]}`,
      prompt: `Stored in VS Code's secret storage as ${secret}; never in settings or logs. Leave empty to remove the stored key.`,
      password: true,
      ignoreFocusOut: true,
      placeHolder: name === 'a1111' ? 'user:password' : 'key',
      validateInput: (v) =>
        /\s/.test(v.trim()) ? 'A key has no spaces inside' : /[\r\n]/.test(v) ? 'A key is one line' : undefined,
    });
    if (value === undefined) return false;
    if (value.trim() === '') {
      await this.storage.delete(secret);
      this.log.info(`API key for ${name} removed from the secret storage`);
      void vscode.window.showInformationMessage(`RouteT2I: the ${LABELS[name]} key was removed.`);
      return true;
    }
    await this.storage.store(secret, value.trim());
    this.log.info(`API key for ${name} stored in the secret storage (${secret})`);
    void vscode.window.showInformationMessage(
      `RouteT2I: the ${LABELS[name]} key is stored in VS Code's secret storage.`,
    );
    return true;
  }
}
