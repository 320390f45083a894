// One webview of the panel (the editor tab or the activity-bar view) bound to the core's PanelServices: answers the
// webview's requests, forwards the core's events as notifications, and owns the webview's options and HTML.
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { isUserError } from '../../router/errors';
import type { PanelServices } from './services';
import { heatScale, type ActivePrompt } from './activePrompt';
import { CalibrationRun, describeError } from './calibrationRun';
import { makeNonce, panelHtml } from './html';
import {
  answerRequest,
  isRequestMessage,
  notification,
  PROTOCOL_VERSION,
  type Notifications,
  type NotificationMethod,
  type RequestHandlers,
  type Snapshot,
} from '../../shared/panel/protocol';
import { budgetView, calibrationView, GALLERY_LIMIT, galleryItemView, keyGallery, promptView } from './viewModel';

/** Where the bundle lies inside the extension. */
export const WEBVIEW_DIR = ['dist', 'webview'] as const;
const SCRIPT = 'panel.js';
const STYLE = 'panel.css';

/** Remembers which generated-images folders the webviews may load from (workspace state). */
const IMAGE_FOLDERS_KEY = 'routet2i.panel.imageFolders';

/** Coalesces bursts of cursor moves and keystrokes into one message. */
const PROMPT_COALESCE_MS = 40;

/** How long the first render waits to learn the images folders (so that showing the gallery needs no reload). */
const FOLDERS_WAIT_MS = 1500;

export interface PanelHostContext {
  extension: vscode.ExtensionContext;
  services: PanelServices;
  log: vscode.LogOutputChannel;
  calibration: CalibrationRun;
  /** The prompt to show: the one at the cursor, or the last one while the focus is out of text editors. */
  prompt: ActivePrompt;
}

/** What the host needs from a WebviewPanel or a WebviewView. */
export interface WebviewTarget {
  kind: Snapshot['host'];
  webview: vscode.Webview;
  isVisible(): boolean;
}

export class WebviewBinding implements vscode.Disposable {
  /** The prompt at the cursor as the webview shows it, bucketed with the editor's own heat scale. */
  private promptNow(): ReturnType<typeof promptView> {
    const state = this.ctx.prompt.current();
    return promptView(state, state?.heatScale ?? heatScale());
  }

  private readonly disposables: vscode.Disposable[] = [];
  private readonly gallery = new Map<string, { image: string; sidecar: string }>();
  private promptTimer: ReturnType<typeof setTimeout> | undefined;
  private imageFolders: string[];
  private disposed = false;

  /**
   * Binds a webview and renders it once the generated-images folders are known: they can only be allowed with the
   * HTML, so learning them first spares the webview a reload when it asks for the gallery.
   */
  static async open(target: WebviewTarget, ctx: PanelHostContext): Promise<WebviewBinding> {
    const host = new WebviewBinding(target, ctx);
    try {
      const items = await Promise.race([
        ctx.services.getGallery(GALLERY_LIMIT),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), FOLDERS_WAIT_MS)),
      ]);
      host.rememberImageFolders(items.map((i) => dirname(i.image)));
    } catch {
      // The gallery request reports its own errors; the folders are learnt then.
    }
    if (!host.disposed) host.render();
    return host;
  }

  private constructor(
    private readonly target: WebviewTarget,
    private readonly ctx: PanelHostContext,
  ) {
    this.imageFolders = ctx.extension.workspaceState
      .get<string[]>(IMAGE_FOLDERS_KEY, [])
      .filter((f) => typeof f === 'string');
    const { services } = ctx;
    this.disposables.push(
      target.webview.onDidReceiveMessage((message) => void this.receive(message)),
      services.onDidChangeActivePrompt(() => this.schedulePrompt()),
      services.onDidChangeMetric((metric) => this.notify('metric', { metric })),
      services.onDidChangeBudget(() => this.notify('budgetChanged', {})),
      services.onDidChangeGallery(() => this.notify('galleryChanged', {})),
      ctx.calibration.onDidFinish((result) => this.notify('calibrationDone', result)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('routet2i.heat.scale')) this.schedulePrompt();
      }),
    );
  }

  /** Sets the webview's options and HTML (again): the webview (re)loads with the state of this moment. */
  render(): void {
    const { webview } = this.target;
    const bundle = vscode.Uri.joinPath(this.ctx.extension.extensionUri, ...WEBVIEW_DIR);
    webview.options = {
      enableScripts: true,
      enableCommandUris: false,
      enableForms: false,
      localResourceRoots: [bundle, ...this.imageFolders.map((f) => vscode.Uri.file(f))],
    };
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(bundle, SCRIPT)).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(bundle, STYLE)).toString(),
      bootstrap: this.snapshot(),
      title: 'RouteT2I',
    });
  }

  snapshot(): Snapshot {
    return {
      protocol: PROTOCOL_VERSION,
      at: Date.now(),
      host: this.target.kind,
      prompt: this.promptNow(),
      metric: this.ctx.services.getMetric(),
    };
  }

  private readonly handlers: RequestHandlers = {
    snapshot: () => this.snapshot(),
    budget: async () => budgetView(await this.ctx.services.getBudget()),
    gallery: async ({ limit }) => {
      const items = await this.ctx.services.getGallery(
        Math.max(1, Math.min(GALLERY_LIMIT, Math.floor(limit) || GALLERY_LIMIT)),
      );
      this.allowImageFolders(items.map((i) => dirname(i.image)));
      this.gallery.clear();
      return keyGallery(items).map(({ key, item }) => {
        this.gallery.set(key, { image: item.image, sidecar: item.sidecar });
        const uri = this.target.webview.asWebviewUri(vscode.Uri.file(item.image));
        // The file name alone would keep showing a regenerated image from the webview's cache.
        return galleryItemView(
          { ...item, id: key },
          uri.with({ query: `v=${encodeURIComponent(item.created)}` }).toString(),
        );
      });
    },
    calibration: async () => calibrationView(await this.ctx.services.getCalibration(), this.ctx.calibration.running),
    setMetric: ({ metric }) => {
      if (typeof metric !== 'string' || !metric) throw new Error('setMetric needs a metric id');
      if (metric !== this.ctx.services.getMetric()) this.ctx.services.setMetric(metric);
      return null;
    },
    openImage: async ({ id }) => {
      const item = typeof id === 'string' ? this.gallery.get(id) : undefined;
      if (!item) throw new Error('That image is no longer in the gallery; it may have been moved or deleted.');
      await this.ctx.services.openImage(item.image, item.sidecar);
      return null;
    },
    startCalibration: () => {
      this.ctx.calibration.start();
      return null;
    },
    useCascadeMode: async () => {
      await this.ctx.services.useCascadeMode();
      return null;
    },
  };

  private async receive(message: unknown): Promise<void> {
    if (!isRequestMessage(message)) {
      this.ctx.log.warn(`Panel: ignored a malformed message from the webview`);
      return;
    }
    const response = await answerRequest(this.handlers, message, (error) => {
      if (!isUserError(error)) this.ctx.log.error(`Panel: "${message.method}" failed`, error);
      return describeError(error);
    });
    if (!this.disposed) await this.target.webview.postMessage(response);
  }

  /**
   * Lets the webviews load images from a generated-images folder. The roots can only be set with the HTML (changing
   * them reloads the webview), so a folder seen for the first time is remembered and the webview reloaded once; it
   * restores its own state and asks again.
   */
  private allowImageFolders(folders: string[]): void {
    if (this.rememberImageFolders(folders)) this.render();
  }

  /** Adds folders not allowed yet; true when there were any. */
  private rememberImageFolders(folders: string[]): boolean {
    const fresh = [...new Set(folders)].filter((f) => !this.imageFolders.includes(f));
    if (fresh.length === 0) return false;
    this.imageFolders = [...this.imageFolders, ...fresh].slice(-16);
    void this.ctx.extension.workspaceState.update(IMAGE_FOLDERS_KEY, this.imageFolders);
    this.ctx.log.info(`Panel: images from ${fresh.join(', ')}`);
    return true;
  }

  private schedulePrompt(): void {
    if (this.promptTimer !== undefined || this.disposed) return;
    this.promptTimer = setTimeout(() => {
      this.promptTimer = undefined;
      this.notify('prompt', { prompt: this.promptNow(), at: Date.now() });
    }, PROMPT_COALESCE_MS);
  }

  private notify<M extends NotificationMethod>(method: M, params: Notifications[M]): void {
    // A hidden webview is not running; it asks for a fresh snapshot when it is shown again.
    if (this.disposed || !this.target.isVisible()) return;
    void this.target.webview.postMessage(notification(method, params));
  }

  dispose(): void {
    this.disposed = true;
    if (this.promptTimer !== undefined) clearTimeout(this.promptTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
