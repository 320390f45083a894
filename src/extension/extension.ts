// Keep this import first: it timestamps the start of loading the bundle (see loadClock.ts).
import { moduleLoadStart } from './loadClock';
import * as vscode from 'vscode';
import { createTestProbe, type TestProbe } from './probe/testProbe';

// Every import above has been evaluated by now: the bundle's own loading cost ends here.
const moduleLoadEnd = performance.now();

const NEW_PROMPT_FILE = `# My prompts
# One prompt per paragraph; "negative:" attaches a negative prompt to the prompt above.

a portrait of an old fisherman, (weathered skin:1.2), soft window light
negative: blurry, watermark
`;

/** What activate() hands to the features built on it. */
export interface RouteT2IContext {
  extension: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  probe: TestProbe;
}

export function activate(context: vscode.ExtensionContext): RouteT2IContext {
  const activateStart = performance.now();
  const log = vscode.window.createOutputChannel('RouteT2I', { log: true });
  context.subscriptions.push(log);
  const probe = createTestProbe(context, log);
  const version = String(context.extension.packageJSON.version);

  context.subscriptions.push(
    vscode.commands.registerCommand('routet2i.showLog', () => log.show(true)),
    vscode.commands.registerCommand('routet2i.newPromptFile', async () => {
      const document = await vscode.workspace.openTextDocument({ language: 't2i-prompt', content: NEW_PROMPT_FILE });
      await vscode.window.showTextDocument(document);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => log.info('Workspace trusted: leaving Restricted Mode')),
  );

  // Ours: evaluating the bundle plus activate(). Not ours: VS Code preparing the extension context meanwhile.
  const end = performance.now();
  const loadMs = moduleLoadEnd - moduleLoadStart;
  const activateMs = end - activateStart;
  const activation = { totalMs: loadMs + activateMs, loadMs, activateMs, hostMs: activateStart - moduleLoadEnd };
  context.subscriptions.push(
    probe.provide('extension', () => ({ version, activation, restricted: !vscode.workspace.isTrusted })),
  );
  const mode = vscode.workspace.isTrusted
    ? 'trusted workspace'
    : 'Restricted Mode: this workspace is not trusted, so its settings for backends, policy and model paths are ignored';
  log.info(
    `RouteT2I ${version} activated in ${activation.totalMs.toFixed(1)} ms ` +
      `(load ${loadMs.toFixed(1)} ms, activate ${activateMs.toFixed(1)} ms; ${mode})`,
  );
  return { extension: context, log, probe };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
