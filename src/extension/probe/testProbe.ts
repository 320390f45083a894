// What the end-to-end suite reads from the extension host: state that the screen does not show exactly (decorations
// applied, diagnostics, workspace trust). Inert unless the harness sets ROUTET2I_E2E_PROBE_DIR: then `provide` is a
// no-op, no folder is watched and no command is exposed.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { serveFileRpc, writeFileAtomic } from './fileRpc';
import {
  PROBE_DIR_ENV,
  READY_FILE,
  type DiagnosticJson,
  type EditorJson,
  type ProbeMethod,
  type ProbeReady,
  type RangeJson,
} from './protocol';

export interface TestProbe {
  /** True when the harness is listening; lets a feature skip collecting state nobody will read. */
  readonly active: boolean;
  /** Publishes a named piece of state, read on demand by the `state` request. */
  provide(name: string, read: () => unknown): vscode.Disposable;
}

const inert: TestProbe = { active: false, provide: () => new vscode.Disposable(() => undefined) };

export function createTestProbe(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): TestProbe {
  const dir = process.env[PROBE_DIR_ENV];
  if (!dir) return inert;

  const providers = new Map<string, () => unknown>();
  const methods: Record<ProbeMethod, (params: Record<string, unknown>) => unknown> = {
    state: () => Object.fromEntries([...providers].map(([name, read]) => [name, toJson(read())])),
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
  const ready: ProbeReady = {
    pid: process.pid,
    extensionVersion: String(context.extension.packageJSON.version),
    activatedAt: new Date().toISOString(),
  };
  writeFileAtomic(join(dir, READY_FILE), JSON.stringify(ready));
  log.info(`End-to-end test probe serving ${dir}`);

  return {
    active: true,
    provide(name, read) {
      providers.set(name, read);
      return new vscode.Disposable(() => {
        if (providers.get(name) === read) providers.delete(name);
      });
    },
  };
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
