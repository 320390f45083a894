import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCommand, type CommandResult } from './runCommand';

/**
 * Gateways for tests: `routet2i serve` in this process (through the CLI, output captured) or as a child process that a
 * test may kill. Both print "listening on http://HOST:PORT" once ready; the port is picked by the system (--port 0).
 */

export const GATEWAY_KEY = 'gw-test-key-0123456789abcdef';
export const SMALL_KEY = 'gw-small-key-0123456789abcdef';

export interface GatewaySetup {
  edgeUrl?: string;
  cloudUrl?: string;
  /** USD per cloud image. */
  price?: number;
  monthlyCap?: number | null;
  fallback?: string;
  budget?: number;
  /** Backend settings for the cloud (timeouts, retries). */
  cloud?: Record<string, unknown>;
}

/** Writes a config file the way a user would, and the keys file; returns the config path. */
export function writeGatewayConfig(dir: string, s: GatewaySetup): string {
  const slow = { timeoutMs: 60_000, idleTimeoutMs: 60_000, maxWaitMs: 120_000, retries: 0 };
  const config: Record<string, unknown> = {
    budget: s.budget ?? 0.3,
    monthlyCap: s.monthlyCap === undefined ? null : s.monthlyCap,
    fallback: s.fallback ?? 'edge',
    ledger: '.routet2i/ledger.json',
    backends: {},
  };
  if (s.edgeUrl) {
    config.edge = 'openai-compatible';
    (config.backends as Record<string, unknown>)['openai-compatible'] = { url: s.edgeUrl, ...slow };
  }
  if (s.cloudUrl) {
    config.cloud = 'openai';
    (config.backends as Record<string, unknown>).openai = {
      url: s.cloudUrl,
      model: 'gpt-image-2.6-flare',
      price: s.price ?? 0.04,
      ...slow,
      ...s.cloud,
    };
  }
  const file = join(dir, 'routet2i.config.json');
  writeFileSync(file, JSON.stringify(config, null, 1));
  writeFileSync(
    join(dir, 'keys.yaml'),
    `keys:\n  - name: team\n    key: ${GATEWAY_KEY}\n  - name: small\n    key: ${SMALL_KEY}\n    monthlyCap: 0.08\n`,
  );
  return file;
}

const LISTENING = /listening on (http:\/\/[^\s]+)/;

export interface InProcessGateway {
  url: string;
  /** Everything the gateway printed so far. */
  log(): string;
  stop(): Promise<CommandResult>;
}

/** `routet2i serve` through the CLI in this process. */
export async function serveInProcess(
  dir: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<InProcessGateway> {
  const controller = new AbortController();
  let text = '';
  let found: (url: string) => void;
  const ready = new Promise<string>((r) => (found = r));
  const done = runCommand(['serve', '--port', '0', '--keys', 'keys.yaml', ...args], {
    cwd: dir,
    env: { OPENAI_API_KEY: 'sk-provider-secret-123456', ...env },
    signal: controller.signal,
    onStderr: (chunk) => {
      text += chunk;
      const m = LISTENING.exec(text);
      if (m) found(m[1]!);
    },
  });
  const url = await Promise.race([
    ready,
    done.then((r) => Promise.reject(new Error(`serve exited with ${r.code}: ${r.stderr}`))),
  ]);
  return {
    url,
    log: () => text,
    stop: async () => {
      controller.abort();
      return done;
    },
  };
}

export interface ChildGateway {
  url: string;
  child: ChildProcess;
  log(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `routet2i serve` as a child process (so a test can kill it as a crash would). */
export async function serveChild(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildGateway> {
  const root = resolve(__dirname, '../..');
  // Run from the repository (where tsx resolves), with the test's folder named explicitly.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'src/cli/main.ts'),
      'serve',
      '--port',
      '0',
      '--keys',
      join(dir, 'keys.yaml'),
      '--config',
      join(dir, 'routet2i.config.json'),
      ...args,
    ],
    {
      cwd: root,
      env: { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-provider-secret-123456', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let text = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString();
      const m = LISTENING.exec(text);
      if (m) resolveUrl(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)));
  });
  return {
    url,
    child,
    log: () => text,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** POSTs JSON with the team key; returns status, headers and parsed body. */
export async function post(
  url: string,
  body: unknown,
  key: string | null = GATEWAY_KEY,
  signal?: AbortSignal,
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export async function get(
  url: string,
  key: string | null = GATEWAY_KEY,
): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // metrics are text
  }
  return { status: res.status, body, text };
}

/** Waits (bounded) for a state; never for a time. */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  limitMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
