// The end-to-end tests' window into the extension host: request and response files in a folder named by an
// environment variable that only the test harness sets. Shared by the companion test extension (test/e2e/companion,
// the server) and the harness (test/e2e/harness, the client); no `vscode` here. The product itself knows nothing of it:
// the companion reads the product's state through its exported, read-only API (src/extension/api.ts).

/** The folder the companion serves; without it the companion does nothing at all. */
export const PROBE_DIR_ENV = 'ROUTET2I_E2E_PROBE_DIR';

/** Written (atomically) once RouteT2I itself has activated and the companion serves requests; a `ProbeReady`. */
export const READY_FILE = 'ready.json';

export interface ProbeReady {
  pid: number;
  /** RouteT2I's version (the product's, not the companion's). */
  extensionVersion: string;
  activatedAt: string;
}

export interface Json {
  [key: string]: unknown;
}

export interface RangeJson {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface DiagnosticJson {
  uri: string;
  range: RangeJson;
  message: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  source?: string;
  code?: string | number;
}

export interface EditorJson {
  uri: string;
  languageId: string;
  selections: RangeJson[];
  visibleRanges: RangeJson[];
}

/** Each method: its parameters and its result. */
export interface ProbeMethods {
  /**
   * RouteT2I's exported API read whole, by getter name (`extension`, `settings`, and once its features have started
   * `heat`, `status`, `verdict`, `engine`, `generated`, `learning`, `diagnosticsCount`); fails while RouteT2I is not
   * active.
   */
  state: { params: Record<string, never>; result: Record<string, unknown> };
  /** The active text editor, or null. */
  editor: { params: Record<string, never>; result: EditorJson | null };
  /** Diagnostics of one document, or of all documents when `uri` is absent. */
  diagnostics: { params: { uri?: string }; result: DiagnosticJson[] };
  /** `workspace.getConfiguration().inspect(key)` plus the effective value. */
  configuration: { params: { key: string; resource?: string }; result: { value: unknown; inspect: unknown } };
  /**
   * Changes a setting through VS Code (which writes the user or workspace settings.json). code-server does not pick
   * up edits made to settings.json behind its back, so tests change settings this way after start-up.
   */
  updateConfiguration: { params: { key: string; value: unknown; target?: 'user' | 'workspace' }; result: null };
  /**
   * Runs a command in the extension host and returns its result converted to JSON. Arguments arrive as JSON: a string
   * that is a file:, untitled: or vscode-userdata: URI becomes a `Uri`, {line, character} a `Position` and
   * {start, end} of those a `Range`.
   */
  executeCommand: { params: { command: string; args?: unknown[] }; result: unknown };
  /** Workspace trust as the extension host sees it. */
  trust: { params: Record<string, never>; result: { isTrusted: boolean } };
}

export type ProbeMethod = keyof ProbeMethods;

export interface ProbeRequest {
  id: string;
  method: string;
  params: unknown;
}

export type ProbeResponse = { id: string; ok: true; result: unknown } | { id: string; ok: false; error: string };

export const requestFile = (id: string): string => `req-${id}.json`;
export const responseFile = (id: string): string => `res-${id}.json`;
export const REQUEST_PATTERN = /^req-([A-Za-z0-9_-]+)\.json$/;
