/**
 * The gateway under load (section `gateway` of `npm run bench`): requests per second and the latency the gateway
 * itself adds, with instant loopback backends (OpenAI Images wire format, a 1×1 PNG at once), for one replica on the
 * JSON ledger and two replicas on PostgreSQL (a throwaway cluster, as the tests start one), at 1, 8 and 200 requests
 * in flight. Added latency = latency through the gateway − latency of the same request sent straight to the backend at
 * the same concurrency (and beside it, the edge backend's own HTTP client called directly). After each run the money is checked: the ledger holds exactly what the fake cloud charged, each
 * call once, nothing left reserved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createBackend, envSecrets } from '../src/backends/registry';
import { startCluster } from '../test/support/postgres';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const KEY = 'bench-key-0123456789abcdef';
const PRICE = 0.04;
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const log = (s: string) => process.stderr.write(`bench: gateway: ${s}\n`);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

function percentile(sorted: number[], p: number): number {
  const x = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(x);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (x - lo);
}

/** An OpenAI Images stand-in that answers at once and counts what it would charge. */
async function instantBackend(): Promise<{ url: string; server: Server; calls: () => number }> {
  let calls = 0;
  const body = JSON.stringify({ created: 1_700_000_000, data: [{ b64_json: PNG.toString('base64') }] });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, calls: () => calls };
}

function serve(dir: string, ledger: string): Promise<{ url: string; child: ChildProcess; tail: () => string }> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--config', path.join(dir, 'routet2i.config.json'), '--ledger', ledger],
    {
      cwd: dir,
      env: { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-bench-provider-0000', ROUTET2I_GATEWAY_KEYS: `bench=${KEY}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let text = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(text);
      // The request log is kept short: only its last lines matter (to say why a run failed).
      if (text.length > 8192) text = text.slice(-4096);
      if (m)
        resolve({
          url: m[1]!,
          child,
          tail: () =>
            text
              .split('\n')
              .filter((l) => !/ 200 /.test(l))
              .slice(-6)
              .join(' | '),
        });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)));
  });
}

// Kept-alive connections, fresh for each phase: a socket left idle past the server's keep-alive timeout would be reset.
let agent = new Agent({ keepAlive: true, maxSockets: 256 });

function call(
  url: string,
  pathname: string,
  body: string,
  key?: string,
): Promise<{ status: number; ms: number; text: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const u = new URL(pathname, url);
    const req = request(
      u,
      {
        method: body ? 'POST' : 'GET',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `total` requests, `inFlight` at a time, spread over `urls`. */
async function load(
  urls: string[],
  pathname: string,
  total: number,
  inFlight: number,
  key?: string,
): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  agent.destroy();
  agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let next = 0;
  let errors = 0;
  const times: number[] = [];
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const i = next++;
        const body = JSON.stringify({
          prompt: `bench prompt ${i}: a ${i % 2 ? 'detailed city map' : 'red apple'}`,
          model: 'auto',
        });
        const r = await call(urls[i % urls.length]!, pathname, body, key);
        if (r.status !== 200) errors++;
        times.push(r.ms);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  times.sort((a, b) => a - b);
  return {
    rps: round(total / seconds, 1),
    p50: round(percentile(times, 50), 2),
    p99: round(percentile(times, 99), 2),
    errors,
  };
}

/** The edge's own HTTP client (src/backends) called in this process: what any face pays before the gateway adds anything. */
async function clientLoad(url: string, total: number, inFlight: number): Promise<{ p50: number; p99: number }> {
  const backend = createBackend('openai-compatible', { url, side: 'edge', retries: 0 }, envSecrets({}));
  let next = 0;
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        next++;
        const t = process.hrtime.bigint();
        await backend.generate({ prompt: 'a red apple', width: 1024, height: 1024 });
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  times.sort((a, b) => a - b);
  return { p50: round(percentile(times, 50), 2), p99: round(percentile(times, 99), 2) };
}

export async function gatewayBench(): Promise<Record<string, unknown>> {
  const edge = await instantBackend();
  const cloud = await instantBackend();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'routet2i-bench-gw-'));
  writeFileSync(
    path.join(dir, 'routet2i.config.json'),
    JSON.stringify({
      edge: 'openai-compatible',
      cloud: 'openai',
      budget: 0.3,
      monthlyCap: 100_000,
      backends: {
        'openai-compatible': { url: edge.url, retries: 0 },
        openai: { url: cloud.url, model: 'gpt-image-2.6-flare', price: PRICE, retries: 0 },
      },
    }),
  );
  const out: Record<string, unknown> = {};
  const cluster = await startCluster();
  const setups: { name: string; ledgers: string[] | null; skip?: string }[] = [
    { name: 'json, 1 replica', ledgers: [path.join(dir, '.routet2i', 'ledger.json')] },
    'skip' in cluster
      ? { name: 'postgres, 2 replicas', ledgers: null, skip: cluster.skip }
      : { name: 'postgres, 2 replicas', ledgers: [] },
  ];
  try {
    for (const setup of setups) {
      if (!setup.ledgers) {
        out[setup.name] = { skipped: setup.skip };
        continue;
      }
      const ledgerUrls = setup.ledgers.length
        ? setup.ledgers
        : await (async () => {
            const url = await (cluster as Exclude<typeof cluster, { skip: string }>).database('bench');
            return [url, url];
          })();
      const replicas = await Promise.all(ledgerUrls.map((l) => serve(dir, l)));
      const urls = replicas.map((r) => r.url);
      const results: Record<string, unknown> = {};
      try {
        try {
          // Warm-up: JIT, connection pools, the schema, the predictor.
          await load(urls, '/v1/images/generations', 200, 8, KEY);
          for (const [inFlight, total] of [
            [1, 200],
            [8, 400],
            [200, 600],
          ] as const) {
            const cloudBefore = cloud.calls();
            const spentBefore = JSON.parse((await call(urls[0]!, '/v1/ledger', '', KEY)).text) as {
              spent: number;
              entries: unknown[];
            };
            const direct = await load([edge.url], '/v1/images/generations', total, inFlight);
            const client = await clientLoad(edge.url, total, inFlight);
            const through = await load(urls, '/v1/images/generations', total, inFlight, KEY);
            const ledger = JSON.parse((await call(urls[0]!, '/v1/ledger', '', KEY)).text) as {
              spent: number;
              reserved: number;
              entries: unknown[];
            };
            const charged = cloud.calls() - cloudBefore;
            const booked = ledger.entries.length - spentBefore.entries.length;
            const money = {
              charged,
              booked,
              spentUsd: round(ledger.spent - spentBefore.spent, 6),
              reservedLeft: ledger.reserved,
              ok:
                charged === booked &&
                Math.abs(ledger.spent - spentBefore.spent - charged * PRICE) < 1e-6 &&
                ledger.reserved === 0,
            };
            results[`inFlight${inFlight}`] = {
              requests: total,
              rps: through.rps,
              p50Ms: through.p50,
              p99Ms: through.p99,
              errors: through.errors,
              directP50Ms: direct.p50,
              directP99Ms: direct.p99,
              clientP50Ms: client.p50,
              clientP99Ms: client.p99,
              addedP50Ms: round(through.p50 - client.p50),
              addedP99Ms: round(through.p99 - client.p99),
              money,
            };
            log(
              `${setup.name}, ${inFlight} in flight: ${through.rps} req/s, p50 ${through.p50} ms (raw HTTP ${direct.p50}, backend client ${client.p50}, gateway adds ${round(through.p50 - client.p50)}), p99 ${through.p99} ms; money ${money.ok ? 'ok' : 'MISMATCH'} (${charged} charged, ${booked} booked)`,
            );
            if (!money.ok || through.errors) process.exitCode = 1;
          }
        } catch (e) {
          throw new Error(`${(e as Error).message}; gateways said: ${replicas.map((r) => r.tail()).join(' || ')}`, {
            cause: e,
          });
        }
      } finally {
        for (const r of replicas) r.child.kill('SIGTERM');
        await Promise.all(
          replicas.map(
            (r) => new Promise((res) => (r.child.exitCode !== null ? res(null) : r.child.once('exit', res))),
          ),
        );
      }
      out[setup.name] = results;
    }
  } finally {
    if (!('skip' in cluster)) await cluster.remove();
    edge.server.close();
    cloud.server.close();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
