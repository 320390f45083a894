// One code-server: a fresh profile (user data, extensions, settings), a copy of a workspace, loopback only, no password.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PROBE_DIR_ENV } from '../protocol';
import { poll } from './probe';
import { startGroup, type Started } from './processes';
import type { Toolchain } from './toolchain';

/** Settings every session starts with: no welcome page, chat, tips, update checks or telemetry in the way. */
export const BASE_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.editor.enablePreview': false,
  'workbench.colorTheme': 'Dark Modern',
  'chat.disableAIFeatures': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'git.enabled': false,
  'editor.hover.delay': 300,
  // One log line per screen line, so that text read from the Output view keeps its line breaks.
  '[Log]': { 'editor.wordWrap': 'off' },
};

export interface CodeServerOptions {
  toolchain: Toolchain;
  /** An extensions folder with our .vsix and the companion test extension installed, copied for this session. */
  extensionsTemplate: string;
  /** The folder copied as the session's workspace. */
  workspace: string;
  /** Folders copied into the workspace as well, by name (e.g. the repository's examples/). */
  extraFolders: Record<string, string>;
  /** false: start with workspace trust on, so the folder opens in Restricted Mode unless trusted. */
  trusted: boolean;
  settings: Record<string, unknown>;
  env: Record<string, string>;
  /** A fresh folder that holds everything of this session. */
  dir: string;
  logFile: string;
}

export interface CodeServer {
  url: string;
  /** The workspace folder (a copy) that the window opens. */
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  settingsFile: string;
  probeDir: string;
  logFile: string;
  process: Started;
  stop(): Promise<void>;
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const { dir } = options;
  const userDataDir = join(dir, 'user-data');
  const extensionsDir = join(dir, 'extensions');
  const workspace = join(dir, 'workspace', basename(options.workspace));
  const probeDir = join(dir, 'probe');
  const settingsFile = join(userDataDir, 'User', 'settings.json');
  for (const d of [join(userDataDir, 'User'), probeDir, join(dir, 'xdg-data'), join(dir, 'xdg-config')]) {
    mkdirSync(d, { recursive: true });
  }
  cpSync(options.extensionsTemplate, extensionsDir, { recursive: true });
  cpSync(options.workspace, workspace, { recursive: true });
  for (const [name, folder] of Object.entries(options.extraFolders))
    cpSync(folder, join(workspace, name), { recursive: true });
  writeFileSync(settingsFile, `${JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2)}\n`);
  // Port 0: the system picks a free port and code-server prints it; no race with other runs.
  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');

  const args = [
    options.toolchain.codeServer,
    '--config',
    config,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    ...(options.trusted ? ['--disable-workspace-trust'] : []),
    workspace,
  ];
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|VSCODE_)/i.test(key))),
    // Keep code-server's own state out of the user's home.
    XDG_DATA_HOME: join(dir, 'xdg-data'),
    XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    [PROBE_DIR_ENV]: probeDir,
    ...options.env,
  };
  const started = startGroup(options.toolchain.node, args, { env, logFile: options.logFile, label: 'code-server' });
  let exitStatus: number | string | undefined;
  started.exited.then(
    (status) => (exitStatus = status),
    (error: Error) => (exitStatus = error.message),
  );

  try {
    const port = await poll(
      () => {
        if (exitStatus !== undefined)
          throw new Error(`code-server exited (${exitStatus}) before listening:\n${tail(options.logFile)}`);
        const log = existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8') : '';
        return /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1];
      },
      60_000,
      () => `code-server did not start listening within 60 s:\n${tail(options.logFile)}`,
    );
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url);
    return {
      url,
      workspace,
      userDataDir,
      extensionsDir,
      settingsFile,
      probeDir,
      logFile: options.logFile,
      process: started,
      stop: () => started.stop(),
    };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/healthz`);
      const body = (await response.json()) as { status?: string };
      if (body.status === 'alive' || body.status === 'expired') return;
      last = JSON.stringify(body);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server at ${url} is not healthy after 30 s (${last})`);
}

export function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
