// Serves requests that arrive as files in one folder and answers each with a response file (the companion's side of
// test/e2e/protocol.ts; the harness writes requests with `writeFileAtomic`). Files rather than a socket: the companion
// then opens no port, and the folder itself is the permission (only who can write it can ask).
import { readdirSync, readFileSync, renameSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { REQUEST_PATTERN, responseFile, type ProbeRequest, type ProbeResponse } from '../protocol';

export type Handler = (method: string, params: unknown) => Promise<unknown>;

export interface RpcServer {
  dispose(): void;
}

/** Writes through a temporary name and a rename, so a reader never sees half a file. */
export function writeFileAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

export function serveFileRpc(dir: string, handle: Handler, onError: (message: string) => void): RpcServer {
  const seen = new Set<string>();
  let disposed = false;

  const answer = async (id: string, file: string): Promise<void> => {
    let response: ProbeResponse;
    try {
      const request = JSON.parse(readFileSync(file, 'utf8')) as ProbeRequest;
      rmSync(file, { force: true });
      if (request.id !== id || typeof request.method !== 'string') throw new Error(`malformed request ${file}`);
      response = { id, ok: true, result: await handle(request.method, request.params ?? {}) };
    } catch (error) {
      rmSync(file, { force: true });
      response = { id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    if (disposed) return;
    try {
      writeFileAtomic(join(dir, responseFile(id)), JSON.stringify(response));
    } catch (error) {
      onError(`could not answer probe request ${id}: ${(error as Error).message}`);
    }
  };

  const scan = (): void => {
    if (disposed) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      onError(`probe folder ${dir} is unreadable: ${(error as Error).message}`);
      return;
    }
    for (const name of names) {
      const id = REQUEST_PATTERN.exec(name)?.[1];
      if (!id || seen.has(id)) continue;
      seen.add(id);
      void answer(id, join(dir, name));
    }
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, () => scan());
  } catch (error) {
    onError(`cannot watch ${dir}, polling only: ${(error as Error).message}`);
  }
  // fs.watch may drop events (and is absent on some file systems): a slow poll keeps requests from being missed.
  const timer = setInterval(scan, 250);
  timer.unref?.();
  scan();

  return {
    dispose() {
      disposed = true;
      clearInterval(timer);
      watcher?.close();
    },
  };
}
