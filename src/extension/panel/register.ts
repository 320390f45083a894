// The RouteT2I panel in VS Code: an editor tab (a WebviewPanel restored across reloads by its serializer) and a view
// in RouteT2I's activity-bar container, both rendering the same webview over the core's PanelServices.
import * as vscode from 'vscode';
import type { PanelServices } from './services';
import { ActivePrompt } from './activePrompt';
import { CalibrationRun } from './calibrationRun';
import { WebviewBinding, WEBVIEW_DIR, type PanelHostContext, type WebviewTarget } from './host';
import { COMMANDS } from '../../shared/commands';

/** The WebviewPanel's view type (its serializer and `onWebviewPanel:` activation use it). */
export const PANEL_VIEW_TYPE = 'routet2i.panel';
/** The webview view in the activity-bar container `routet2i`. */
export const PANEL_VIEW_ID = 'routet2i.panelView';

/** The commands the panel contributes (the status bar verdict runs "Open Panel" too). */
export const PANEL_COMMANDS = {
  /** Opens the panel beside the active editor, or reveals it, keeping the focus in the editor. */
  openPanel: COMMANDS.openPanel,
} as const;

/**
 * Registers "Open Panel", the panel's serializer (an open panel comes back after a reload) and the activity-bar view's
 * provider, all over the core's services. Disposing closes the panel and unregisters them.
 */
export function registerPanel(
  context: vscode.ExtensionContext,
  services: PanelServices,
  log: vscode.LogOutputChannel,
): vscode.Disposable {
  const calibration = new CalibrationRun(services, log);
  const ctx: PanelHostContext = { extension: context, services, log, calibration, prompt: new ActivePrompt(services) };
  const hosts = new Set<WebviewBinding>();
  let panel: vscode.WebviewPanel | undefined;

  /** Binds a webview (panel or view) to a host for as long as it lives. */
  const bind = async (target: WebviewTarget, onDidDispose: vscode.Event<void>): Promise<void> => {
    let disposed = false;
    // Not const: the dispose handler below may run before the binding exists, and must then see undefined.
    // eslint-disable-next-line prefer-const
    let host: WebviewBinding | undefined;
    onDidDispose(() => {
      disposed = true;
      if (host) {
        hosts.delete(host);
        host.dispose();
      }
    });
    host = await WebviewBinding.open(target, ctx);
    if (disposed) host.dispose();
    else hosts.add(host);
  };

  const adoptPanel = async (webviewPanel: vscode.WebviewPanel): Promise<void> => {
    panel = webviewPanel;
    webviewPanel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'panel.svg');
    webviewPanel.onDidDispose(() => {
      if (panel === webviewPanel) panel = undefined;
    });
    await bind(
      { kind: 'panel', webview: webviewPanel.webview, isVisible: () => webviewPanel.visible },
      webviewPanel.onDidDispose,
    );
  };

  const openPanel = async (): Promise<void> => {
    if (panel) {
      panel.reveal(undefined, true);
      return;
    }
    const created = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      'RouteT2I',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      // The host sets the final options (with the images folders) before the HTML.
      { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, ...WEBVIEW_DIR)] },
    );
    await adoptPanel(created);
    log.info('Panel opened');
  };

  const disposables: vscode.Disposable[] = [
    calibration,
    vscode.commands.registerCommand(PANEL_COMMANDS.openPanel, openPanel),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      // The webview keeps its own UI state (getState/setState); the data comes fresh from the services.
      async deserializeWebviewPanel(restored: vscode.WebviewPanel) {
        if (panel && panel !== restored) {
          restored.dispose();
          return;
        }
        await adoptPanel(restored);
        log.info('Panel restored');
      },
    }),
    vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, {
      resolveWebviewView(view: vscode.WebviewView) {
        return bind({ kind: 'view', webview: view.webview, isVisible: () => view.visible }, view.onDidDispose);
      },
    }),
  ];

  return new vscode.Disposable(() => {
    for (const host of hosts) host.dispose();
    hosts.clear();
    panel?.dispose();
    for (const d of disposables.splice(0)) d.dispose();
  });
}
