// A session: one code-server with a fresh profile and workspace copy, one Chromium driving it, and the helpers a test
// uses. `useSession` wires a session into a mocha `describe` (started before its tests, stopped after them).
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  appendFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startCodeServer, type CodeServer } from './codeServer';
import { DEFAULT_WORKSPACE, EXAMPLES, environment, skipped } from './environment';
import { ProbeClient } from './probe';
import { adoptGroup, listProcesses, stopGroup } from './processes';
import { say } from './say';
import { Workbench } from './workbench';

export interface SessionOptions {
  /** Names the session's artifacts folder. */
  label: string;
  /** Default true. false starts with workspace trust enabled: a fresh profile then asks whether to trust the folder. */
  trusted?: boolean;
  /** Folder copied as the workspace (default test/e2e/workspace). */
  workspace?: string;
  /** Copy the repository's examples/ into the workspace as examples/ (default: only with the default workspace). */
  examples?: boolean;
  /** User settings on top of the harness's defaults. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and so for the extension host. */
  env?: Record<string, string>;
  /** Browser window size (default 1400×900). */
  viewport?: { width: number; height: number };
}

/** The flags from the team's E2E notes: Debian's Chromium, headless, no sandbox (root), nothing reaching out. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let current: Session | undefined;

/** The session of the running test, if any (used by the failure-screenshot hook). */
export function currentSession(): Session | undefined {
  return current;
}

export class Session {
  private shots = 0;

  private constructor(
    readonly options: SessionOptions,
    readonly server: CodeServer,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly workbench: Workbench,
    readonly probe: ProbeClient,
    readonly artifactsDir: string,
    private readonly chromiumGroup: number | undefined,
  ) {}

  static async start(options: SessionOptions): Promise<Session> {
    const env = environment();
    const artifactsDir = join(env.artifactsDir, options.label.replace(/[^\w.-]+/g, '-'));
    mkdirSync(artifactsDir, { recursive: true });
    const dir = mkdtempSync(join(env.tempRoot, 'session-'));
    const started = Date.now();
    const server = await startCodeServer({
      toolchain: env.toolchain,
      extensionsTemplate: env.extensionsTemplate,
      workspace: options.workspace ?? DEFAULT_WORKSPACE,
      extraFolders: (options.examples ?? !options.workspace) && existsSync(EXAMPLES) ? { examples: EXAMPLES } : {},
      trusted: options.trusted ?? true,
      settings: options.settings ?? {},
      env: options.env ?? {},
      dir,
      logFile: join(artifactsDir, 'code-server.log'),
    });
    let context: BrowserContext | undefined;
    let chromiumGroup: number | undefined;
    try {
      const profile = join(dir, 'chromium');
      context = await chromium.launchPersistentContext(profile, {
        executablePath: env.toolchain.chromium,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: options.viewport ?? { width: 1400, height: 900 },
        // Chromium keeps a crash database under the config home, whatever its profile: keep it in the session.
        env: {
          ...process.env,
          XDG_CONFIG_HOME: join(dir, 'chromium-config'),
          XDG_CACHE_HOME: join(dir, 'chromium-cache'),
        },
        // Our own handlers stop every group, Chromium's included (processes.ts).
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      chromiumGroup = adoptChromium(profile);
      const page = context.pages()[0] ?? (await context.newPage());
      const consoleLog = join(artifactsDir, 'browser-console.log');
      page.on('console', (m) => appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
      page.on('pageerror', (e) => appendFileSync(consoleLog, `[pageerror] ${e.message}\n`));
      page.on('requestfailed', (r) =>
        appendFileSync(consoleLog, `[requestfailed] ${r.url()} ${r.failure()?.errorText ?? ''}\n`),
      );
      page.on('response', (r) => {
        if (r.status() >= 400) appendFileSync(consoleLog, `[http ${r.status()}] ${r.url()}\n`);
      });
      await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
      const probe = new ProbeClient(server.probeDir);
      const workbench = new Workbench(page, server, probe);
      await workbench.waitReady();
      say(`session "${options.label}" ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${server.url})`);
      current = new Session(options, server, context, page, workbench, probe, artifactsDir, chromiumGroup);
      return current;
    } catch (error) {
      await context?.close().catch(() => undefined);
      if (chromiumGroup) await stopGroup(chromiumGroup).catch(() => undefined);
      await server.stop();
      throw error;
    }
  }

  /** Saves a full-window screenshot as <artifacts>/<label>/<NN>-<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = join(
      this.artifactsDir,
      `${String(++this.shots).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '-')}.png`,
    );
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The extension host's log files of this session (the RouteT2I channel is `…/RouteT2I.log`), by path. */
  extensionLogs(): string[] {
    const logs = join(this.server.userDataDir, 'logs');
    if (!existsSync(logs)) return [];
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.log')) out.push(p);
      }
    };
    walk(logs);
    return out;
  }

  /** The full text of our LogOutputChannel as written to disk by VS Code. */
  logChannelFile(): string | undefined {
    const file = this.extensionLogs().find(
      (f) => /routet2i/i.test(relative(this.server.userDataDir, f)) && f.endsWith('RouteT2I.log'),
    );
    return file && readFileSync(file, 'utf8');
  }

  async stop(): Promise<void> {
    if (current === this) current = undefined;
    // Keep VS Code's own logs with the screenshots.
    const logs = join(this.server.userDataDir, 'logs');
    try {
      if (existsSync(logs)) cpSync(logs, join(this.artifactsDir, 'vscode-logs'), { recursive: true });
    } catch (error) {
      say(`could not keep VS Code's logs: ${(error as Error).message}`);
    }
    await this.context.close().catch(() => undefined);
    const errors: string[] = [];
    if (this.chromiumGroup) await stopGroup(this.chromiumGroup).catch((e: Error) => errors.push(e.message));
    await this.server.stop().catch((e: Error) => errors.push(e.message));
    if (errors.length) throw new Error(errors.join('; '));
  }
}

/** Playwright starts Chromium in a process group of its own; find it by the profile folder we gave it. */
function adoptChromium(profile: string): number | undefined {
  for (const p of listProcesses()) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(`--user-data-dir=${profile}`)) continue;
    try {
      adoptGroup(p.pgid, 'chromium');
      return p.pgid;
    } catch {
      return undefined; // shares our group: closing the context and our exit handler stop it
    }
  }
  return undefined;
}

/**
 * Starts a session before the tests of the enclosing `describe` and stops it after them; returns an accessor.
 * Sessions are skipped (with the reason printed once) where the suite cannot run.
 */
export function useSession(options: SessionOptions): () => Session {
  let session: Session | undefined;
  before(async function () {
    if (skipped()) this.skip();
    this.timeout(120_000);
    session = await Session.start(options);
  });
  after(async function () {
    this.timeout(30_000);
    await session?.stop();
    session = undefined;
  });
  return () => {
    if (!session) throw new Error(`session "${options.label}" is not running`);
    return session;
  };
}
