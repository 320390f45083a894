import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway PostgreSQL cluster for the tests, owned by the test run: Debian's binaries
 * (/usr/lib/postgresql/<version>/bin, installed with apt-get where missing and we are root, as the real-editor suite
 * does for Chromium), a data folder in a temp dir, a loopback port, trust authentication, and removal afterwards.
 * initdb refuses to run as root, so as root the cluster runs as the `postgres` user (or `routet2i-pg`, created here).
 * Where none of this can be had, the suites that need it skip with one line saying why.
 */

const run = promisify(execFile);
const ROOT = process.getuid?.() === 0;
const PGROOT = '/usr/lib/postgresql';

export interface PgCluster {
  /** A connection string for the cluster's `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** A connection string for a fresh, empty database (created here). */
  database(name: string): Promise<string>;
  /** `fast` asks the sessions to end; `immediate` kills the server as a crash would. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server and deletes its data folder. */
  remove(): Promise<void>;
}

function binDir(): string | undefined {
  if (!fs.existsSync(PGROOT)) return undefined;
  const versions = fs
    .readdirSync(PGROOT)
    .filter((v) => fs.existsSync(path.join(PGROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(PGROOT, versions[0], 'bin');
}

let installTried = false;

/** Finds the binaries, installing Debian's `postgresql` package once where they are missing and we are root. */
function findOrInstall(): { bin: string } | { skip: string } {
  let bin = binDir();
  if (bin) return { bin };
  if (!ROOT)
    return { skip: `no PostgreSQL in ${PGROOT}/*/bin and not root to install it (apt-get install postgresql)` };
  if (!installTried) {
    installTried = true;
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
        env,
        stdio: 'ignore',
        timeout: 600_000,
      });
    // Whether it worked is judged by the binaries found afterwards, not by apt-get's status.
    if (install().status !== 0) {
      spawnSync('apt-get', ['update'], { env, stdio: 'ignore', timeout: 300_000 });
      install();
    }
  }
  bin = binDir();
  return bin ? { bin } : { skip: `apt-get could not install postgresql (no ${PGROOT}/*/bin/initdb afterwards)` };
}

/** The non-root account that owns the cluster when we are root. */
function owner(): { uid: number; gid: number } | { skip: string } | undefined {
  if (!ROOT) return undefined;
  const lookup = (name: string) => {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0
      ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
      : undefined;
  };
  const found = lookup('postgres') ?? lookup('routet2i-pg');
  if (found) return found;
  spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'routet2i-pg'], {
    stdio: 'ignore',
  });
  return (
    lookup('routet2i-pg') ?? {
      skip: 'running as root and no non-root user (postgres) could be found or created for initdb',
    }
  );
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const live = new Set<{ bin: string; data: string; as?: { uid: number; gid: number } }>();
process.once('exit', () => {
  // A run killed between before() and after() must not leave a server behind.
  for (const c of live)
    spawnSync(path.join(c.bin, 'pg_ctl'), ['-D', c.data, '-m', 'immediate', '-w', 'stop'], {
      stdio: 'ignore',
      ...(c.as ?? {}),
    });
});

/** Starts a new cluster, or says why it cannot. */
export async function startCluster(): Promise<PgCluster | { skip: string }> {
  const found = findOrInstall();
  if ('skip' in found) return found;
  const as = owner();
  if (as && 'skip' in as) return as;
  const { bin } = found;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'routet2i-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  if (as) fs.chownSync(dir, as.uid, as.gid);
  const exec = (tool: string, args: string[]) =>
    run(path.join(bin, tool), args, { ...(as ?? {}), cwd: dir, timeout: 120_000 });
  try {
    await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    return {
      skip: `initdb failed: ${
        String((e as { stderr?: string }).stderr || (e as Error).message)
          .trim()
          .split('\n')[0]
      }`,
    };
  }
  const port = await freePort();
  // Unix sockets in our own folder (Debian's /var/run/postgresql may not be ours); durability is not the point here.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const handle = { bin, data, ...(as ? { as } : {}) };
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const cluster: PgCluster = {
    url,
    port,
    async start() {
      await exec('pg_ctl', ['-D', data, '-l', log, '-o', options, '-w', '-t', '60', 'start']);
      live.add(handle);
    },
    async stop(mode = 'fast') {
      await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      live.delete(handle);
    },
    async restart(mode = 'fast') {
      await cluster.stop(mode);
      await cluster.start();
    },
    async remove() {
      if (live.has(handle)) await cluster.stop('immediate').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async database(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await exec('psql', [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-v',
        'ON_ERROR_STOP=1',
        '-q',
        '-c',
        `CREATE DATABASE ${name}`,
      ]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
  };
  try {
    await cluster.start();
  } catch (e) {
    const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').slice(-1)[0] : '';
    fs.rmSync(dir, { recursive: true, force: true });
    return { skip: `the PostgreSQL server did not start: ${tail || (e as Error).message.split('\n')[0]}` };
  }
  return cluster;
}

const said = new Set<string>();

/**
 * For a describe block: a cluster started before its tests and removed after them. Where none can be had, every test
 * of the block is skipped and the reason is printed once.
 */
export function usePostgres(): () => PgCluster {
  let cluster: PgCluster | undefined;
  before(async function () {
    this.timeout(900_000);
    const got = await startCluster();
    if ('skip' in got) {
      if (!said.has(got.skip)) process.stderr.write(`\n  PostgreSQL tests skipped: ${got.skip}\n`);
      said.add(got.skip);
      this.skip();
    }
    cluster = got;
  });
  after(async function () {
    this.timeout(120_000);
    await cluster?.remove();
  });
  return () => {
    if (!cluster) throw new Error('the PostgreSQL cluster is not running');
    return cluster;
  };
}
