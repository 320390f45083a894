// Keep this import first: it timestamps the start of loading the bundle (see loadClock.ts).
import { moduleLoadStart } from './lifecycle/loadClock';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Config } from './settings/config';
import { Ctx } from './lifecycle/ctx';
import { LazyPanelServices } from './panel/lazyServices';
import { registerPanel } from './panel/register';
import { API_VERSION, type ExtensionInfo, type FeatureState, type RouteT2IApi } from './api';
import { COMMANDS } from '../shared/commands';
import { scrub } from '../shared/secrets';

// Every import above has been evaluated by now: the bundle's own loading cost ends here.
const moduleLoadEnd = performance.now();

const NEW_PROMPT_FILE = `# My prompts
# One prompt per paragraph; "negative:" attaches a negative prompt to the prompt above.

a portrait of an old fisherman, (weathered skin:1.2), soft window light
negative: blurry, watermark
`;

/** Languages whose documents may hold prompts (Markdown and plain text only where the setting enables them). */
const PROMPT_LANGUAGES = new Set(['t2i-prompt', 'markdown', 'plaintext']);

export function activate(context: vscode.ExtensionContext): RouteT2IApi {
  const activateStart = performance.now();
  const log = scrubbingLog(vscode.window.createOutputChannel('RouteT2I', { log: true }));
  context.subscriptions.push(log);
  const version = String(context.extension.packageJSON.version);
  const config = new Config(log);
  const ctx = new Ctx(context, log, config);
  context.subscriptions.push(config, ctx);

  // The panel (src/extension/panel): "Open Panel", the editor tab and the activity-bar view, over the core's services,
  // which load the core on first use.
  const services = new LazyPanelServices(ctx);
  context.subscriptions.push(services);
  ctx.whenCore((core) => services.wire(core.services));
  context.subscriptions.push(registerPanel(context, services, log));

  registerCommands(ctx);
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.showLog, () => log.show(true)),
    vscode.commands.registerCommand(COMMANDS.newPromptFile, async () => {
      const document = await vscode.workspace.openTextDocument({ language: 't2i-prompt', content: NEW_PROMPT_FILE });
      await vscode.window.showTextDocument(document);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => log.info('Workspace trusted: leaving Restricted Mode')),
  );

  // The features start on the first document that may hold prompts (vscode-eslint's habit): activation itself only
  // registers commands and listeners.
  const wanted = (doc: vscode.TextDocument): boolean =>
    doc.languageId === 't2i-prompt' ||
    (PROMPT_LANGUAGES.has(doc.languageId) && (config.settings.analysis.languages as string[]).includes(doc.languageId));
  const start = (): void => {
    if (ctx.coreIfLoaded) return;
    void ctx.core().catch(() => undefined);
  };
  if (vscode.workspace.textDocuments.some(wanted)) setTimeout(start, 0);
  const watch = vscode.workspace.onDidOpenTextDocument((doc) => {
    if (wanted(doc)) start();
  });
  context.subscriptions.push(
    watch,
    config.onDidChange(() => vscode.workspace.textDocuments.some(wanted) && start()),
  );

  // Ours: evaluating the bundle plus activate(). Not ours: VS Code preparing the extension context meanwhile.
  const end = performance.now();
  const loadMs = moduleLoadEnd - moduleLoadStart;
  const activateMs = end - activateStart;
  const activation = { totalMs: loadMs + activateMs, loadMs, activateMs, hostMs: activateStart - moduleLoadEnd };
  const mode = vscode.workspace.isTrusted
    ? 'trusted workspace'
    : 'Restricted Mode: this workspace is not trusted, so its settings for backends, policy and model paths are ignored';
  log.info(
    `RouteT2I ${version} activated in ${activation.totalMs.toFixed(1)} ms ` +
      `(load ${loadMs.toFixed(1)} ms, activate ${activateMs.toFixed(1)} ms; ${mode})`,
  );
  return exportedApi(ctx, config, () => ({
    version,
    activation,
    restricted: !vscode.workspace.isTrusted,
    coreLoaded: !!ctx.coreIfLoaded,
  }));
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

/**
 * The read-only API (src/extension/api.ts) over the activation state, the settings and, once started, the features.
 * Every answer is a structured clone: a reader can keep or change it without touching ours.
 */
function exportedApi(ctx: Ctx, config: Config, extension: () => ExtensionInfo): RouteT2IApi {
  const changed = new vscode.EventEmitter<void>();
  ctx.push(
    changed,
    config.onDidChange(() => changed.fire()),
  );
  ctx.whenCore((core) => {
    ctx.push(core.onDidChangeState(() => changed.fire()));
    changed.fire();
  });
  const copy = <T>(value: T): T => structuredClone(value);
  const feature =
    <K extends keyof FeatureState>(key: K) =>
    (): ReturnType<FeatureState[K]> | undefined => {
      const state = ctx.coreIfLoaded?.state;
      return state && (copy(state[key]()) as ReturnType<FeatureState[K]>);
    };
  return {
    apiVersion: API_VERSION,
    onDidChangeState: changed.event,
    extension: () => copy(extension()),
    settings: () => copy({ restricted: config.restricted, settings: config.settings }),
    heat: feature('heat'),
    status: feature('status'),
    verdict: feature('verdict'),
    engine: feature('engine'),
    generated: feature('generated'),
    learning: feature('learning'),
    diagnosticsCount: feature('diagnosticsCount'),
  };
}

/** The log channel, with URL passwords and echoed credential headers scrubbed from every line (src/shared/secrets.ts). */
function scrubbingLog(channel: vscode.LogOutputChannel): vscode.LogOutputChannel {
  const methods = new Set(['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'replace']);
  return new Proxy(channel, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !methods.has(prop) || typeof value !== 'function')
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return (...args: unknown[]) =>
        (value as (...a: unknown[]) => unknown).apply(
          target,
          args.map((a) => (typeof a === 'string' ? scrub(a, []) : a)),
        );
    },
  });
}
