/**
 * The one way RouteT2I replaces a file: write a temporary file in the same folder, flush it to disk, rename it over
 * the real name. A crash, a full disk or a kill leaves the old file or the new one, never half of either; the
 * temporary file is removed when anything fails. Used by the ledger, predictors, pairs, images and sidecars, the
 * download manifest, the gateway's history and the editor's learning state.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AtomicWriteOptions {
  /** Create the folder first (default false: a missing folder is an error the caller names). */
  mkdir?: boolean;
}

/** A temporary name beside `file`: hidden, unique per process and call, so concurrent writers never share one. */
export function atomicTempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  if (options.mkdir) await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = atomicTempName(file);
  try {
    const handle = await fs.promises.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** The same, synchronously (small state files written from synchronous code). */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  if (options.mkdir) fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = atomicTempName(file);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
