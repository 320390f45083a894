// The harness's side of the test probe: typed requests through files (test/e2e/protocol.ts), answered in the extension
// host by the companion test extension (test/e2e/companion), which reads RouteT2I through its exported API.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../companion/fileRpc';
import {
  READY_FILE,
  requestFile,
  responseFile,
  type ProbeMethod,
  type ProbeMethods,
  type ProbeReady,
  type ProbeResponse,
} from '../protocol';

export class ProbeClient {
  constructor(readonly dir: string) {}

  /** The ready file, or undefined while RouteT2I has not activated (the companion writes it when RouteT2I is active). */
  ready(): ProbeReady | undefined {
    const file = join(this.dir, READY_FILE);
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as ProbeReady;
  }

  async waitReady(timeoutMs = 30_000): Promise<ProbeReady> {
    return poll(
      () => this.ready(),
      timeoutMs,
      () =>
        `RouteT2I did not activate within ${timeoutMs} ms (the companion test extension wrote no ${READY_FILE} in ${this.dir})`,
    );
  }

  async call<M extends ProbeMethod>(
    method: M,
    params: ProbeMethods[M]['params'],
    timeoutMs = 15_000,
  ): Promise<ProbeMethods[M]['result']> {
    const id = randomBytes(8).toString('hex');
    writeFileAtomic(join(this.dir, requestFile(id)), JSON.stringify({ id, method, params }));
    const file = join(this.dir, responseFile(id));
    const response = await poll<ProbeResponse>(
      () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ProbeResponse) : undefined),
      timeoutMs,
      () => `the companion test extension did not answer probe request "${method}" within ${timeoutMs} ms`,
    );
    rmSync(file, { force: true });
    if (!response.ok) throw new Error(`probe request "${method}" failed in the extension host: ${response.error}`);
    return response.result;
  }
}

/** Calls `read` every 25 ms until it returns something other than undefined. */
export async function poll<T>(read: () => T | undefined, timeoutMs: number, message: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Like `poll`, for a read that must ask the extension host (each try awaits the answer before the next). */
export async function pollAsync<T>(
  read: () => Promise<T | undefined>,
  timeoutMs: number,
  message: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 25));
  }
}
