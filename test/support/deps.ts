import { abortableSleep, type Sleep } from '../../src/backends/http';
import type { BackendDeps } from '../../src/backends/base';

/**
 * Backend dependencies for tests: secrets from a plain object, and a sleep that records the delay asked
 * for (so a test can check backoff and Retry-After) but waits at most a few ms.
 */
export function testDeps(secrets: Record<string, string> = {}): { deps: BackendDeps; delays: number[] } {
  const delays: number[] = [];
  const sleep: Sleep = async (ms, signal) => {
    delays.push(ms);
    await abortableSleep(Math.min(ms, 3), signal);
  };
  return { delays, deps: { secrets: { get: (n) => secrets[n] }, http: { sleep, random: () => 0.5 }, sleep } };
}

/** Settings that keep every test well under a second. */
export function fast(url: string, extra: Record<string, unknown> = {}) {
  return { url, pollIntervalMs: 5, timeoutMs: 3000, idleTimeoutMs: 3000, maxWaitMs: 5000, ...extra };
}

/** The URL of a loopback port where nothing listens. */
export async function closedPort(): Promise<string> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
