// The end-to-end suite's companion extension (test only; never packaged with RouteT2I): installed beside the product
// by the harness, it answers the harness's requests (test/e2e/protocol.ts) as files in the folder that
// ROUTET2I_E2E_PROBE_DIR names. It reads RouteT2I's state only through the product's exported, read-only API
// (src/extension/api.ts); what a test does to the editor (run a command, change a setting) it does here, as any other
// extension could, so the product carries no code for tests.
//
// It activates at start-up but never activates RouteT2I (so no `extensionDependencies`: VS Code would activate the
// product first): the activation scenarios assert that RouteT2I starts only on a prompt file or its own commands. The
// ready file is written once RouteT2I has activated, so the harness's `waitReady()` still means "RouteT2I is active".
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RouteT2IApi } from '../../../src/extension/api';
import { serveFileRpc, writeFileAtomic } from './fileRpc';
import {
  PROBE_DIR_ENV,
  READY_FILE,
  type DiagnosticJson,
  type EditorJson,
  type ProbeMethod,
  type ProbeReady,
  type RangeJson,
} from '../protocol';

/** RouteT2I's id (`publisher.name` of the repository's package.json). */
const PRODUCT_ID = 'routet2i.routet2i';
/** How often to look whether RouteT2I has activated: VS Code has no event for another extension's activation. */
const ACTIVATION_POLL_MS = 50;

export function activate(context: vscode.ExtensionContext): void {
  const dir = process.env[PROBE_DIR_ENV];
  if (!dir) return;
  const log = vscode.window.createOutputChannel('RouteT2I E2E Companion', { log: true });
  context.subscriptions.push(log);

  const methods: Record<ProbeMethod, (params: Record<string, unknown>) => unknown> = {
    state: () => stateOf(activeProduct()),
    editor: () => editorJson(vscode.window.activeTextEditor),
    diagnostics: ({ uri }) => diagnosticsJson(typeof uri === 'string' ? vscode.Uri.parse(uri) : undefined),
    configuration: ({ key, resource }) => {
      if (typeof key !== 'string') throw new Error('configuration needs a string "key"');
      const scope = typeof resource === 'string' ? vscode.Uri.parse(resource) : undefined;
      const config = vscode.workspace.getConfiguration(undefined, scope);
      return { value: toJson(config.get(key)), inspect: toJson(config.inspect(key)) };
    },
    updateConfiguration: async ({ key, value, target }) => {
      if (typeof key !== 'string') throw new Error('updateConfiguration needs a string "key"');
      const scope = target === 'workspace' ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await vscode.workspace.getConfiguration().update(key, value ?? undefined, scope);
      return null;
    },
    executeCommand: async ({ command, args }) => {
      if (typeof command !== 'string') throw new Error('executeCommand needs a string "command"');
      const list = Array.isArray(args) ? args.map(fromJson) : [];
      return toJson(await vscode.commands.executeCommand(command, ...list));
    },
    trust: () => ({ isTrusted: vscode.workspace.isTrusted }),
  };

  const server = serveFileRpc(
    dir,
    async (method, params) => {
      const run = methods[method as ProbeMethod];
      if (!run) throw new Error(`unknown probe method "${method}"`);
      return run((params ?? {}) as Record<string, unknown>);
    },
    (message) => log.warn(message),
  );
  context.subscriptions.push(server);
  log.info(`Serving ${dir}; waiting for ${PRODUCT_ID} to activate`);

  // The ready file says "RouteT2I is active", as it did when the product served the harness itself.
  const announce = (): boolean => {
    const product = vscode.extensions.getExtension(PRODUCT_ID);
    if (!product?.isActive) return false;
    const ready: ProbeReady = {
      pid: process.pid,
      extensionVersion: String((product.packageJSON as { version?: unknown }).version),
      activatedAt: new Date().toISOString(),
    };
    writeFileAtomic(join(dir, READY_FILE), JSON.stringify(ready));
    log.info(`${PRODUCT_ID} ${ready.extensionVersion} is active`);
    return true;
  };
  if (announce()) return;
  const timer = setInterval(() => {
    if (announce()) clearInterval(timer);
  }, ACTIVATION_POLL_MS);
  context.subscriptions.push(new vscode.Disposable(() => clearInterval(timer)));
}

/** RouteT2I's API; never activates it (a `state` request before activation is the test's mistake, said as such). */
function activeProduct(): RouteT2IApi {
  const product = vscode.extensions.getExtension<RouteT2IApi>(PRODUCT_ID);
  if (!product) throw new Error(`${PRODUCT_ID} is not installed`);
  if (!product.isActive) throw new Error(`${PRODUCT_ID} is not active yet (open a .t2i file, or wait for waitReady())`);
  return product.exports;
}

/** Every getter of the API by name; those that answer undefined (the features have not started) are left out. */
function stateOf(api: RouteT2IApi): Record<string, unknown> {
  const read: Record<string, unknown> = {
    extension: api.extension(),
    settings: api.settings(),
    heat: api.heat(),
    status: api.status(),
    verdict: api.verdict(),
    engine: api.engine(),
    generated: api.generated(),
    learning: api.learning(),
    diagnosticsCount: api.diagnosticsCount(),
  };
  return Object.fromEntries(Object.entries(read).filter(([, value]) => value !== undefined));
}

function rangeJson(range: vscode.Range): RangeJson {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

function editorJson(editor: vscode.TextEditor | undefined): EditorJson | null {
  if (!editor) return null;
  return {
    uri: editor.document.uri.toString(),
    languageId: editor.document.languageId,
    selections: editor.selections.map(rangeJson),
    visibleRanges: editor.visibleRanges.map(rangeJson),
  };
}

const severities: Record<vscode.DiagnosticSeverity, DiagnosticJson['severity']> = {
  [vscode.DiagnosticSeverity.Error]: 'error',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'information',
  [vscode.DiagnosticSeverity.Hint]: 'hint',
};

function diagnosticsJson(uri: vscode.Uri | undefined): DiagnosticJson[] {
  const entries: [vscode.Uri, readonly vscode.Diagnostic[]][] = uri
    ? [[uri, vscode.languages.getDiagnostics(uri)]]
    : vscode.languages.getDiagnostics();
  return entries.flatMap(([file, list]) =>
    list.map((d) => ({
      uri: file.toString(),
      range: rangeJson(d.range),
      message: d.message,
      severity: severities[d.severity],
      ...(d.source ? { source: d.source } : {}),
      ...(d.code !== undefined ? { code: typeof d.code === 'object' ? d.code.value : d.code } : {}),
    })),
  );
}

/** VS Code values as plain JSON: URIs as strings, ranges and positions as {line, character}, Markdown as text. */
export function toJson(value: unknown, depth = 0): unknown {
  if (depth > 12) return '[too deep]';
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value !== 'object') return value;
  if (value instanceof vscode.Uri) return value.toString();
  if (value instanceof vscode.Position) return { line: value.line, character: value.character };
  if (value instanceof vscode.Range) return rangeJson(value);
  if (value instanceof vscode.MarkdownString) return value.value;
  // ThemeColor's id is public at run time but missing from older typings.
  if (value instanceof vscode.ThemeColor) return { themeColor: (value as unknown as { id: string }).id };
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJson(v, depth + 1)]));
  if (value instanceof Set || Array.isArray(value)) return [...value].map((v) => toJson(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const converted = toJson(v, depth + 1);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

/** Arguments arrive as JSON; a string that is a URI of a known scheme becomes a `vscode.Uri`, as commands expect. */
function fromJson(value: unknown): unknown {
  if (typeof value === 'string' && /^(file|untitled|vscode-userdata):/.test(value)) return vscode.Uri.parse(value);
  if (Array.isArray(value)) return value.map(fromJson);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (isPositionJson(v.start) && isPositionJson(v.end) && Object.keys(v).length === 2) {
      return new vscode.Range(v.start.line, v.start.character, v.end.line, v.end.character);
    }
    if (isPositionJson(v) && Object.keys(v).length === 2) return new vscode.Position(v.line, v.character);
  }
  return value;
}

function isPositionJson(v: unknown): v is { line: number; character: number } {
  return (
    !!v &&
    typeof v === 'object' &&
    typeof (v as { line?: unknown }).line === 'number' &&
    typeof (v as { character?: unknown }).character === 'number'
  );
}
