import * as fs from 'node:fs';
import { RouteT2IError } from './errors';

/**
 * Every input RouteT2I reads goes through here, with its size limit enforced WHILE reading: a file that is a
 * link to /dev/zero, a named pipe or an endless standard input stops at the limit with an error naming it,
 * instead of filling memory. A regular file over the limit is refused from its size, before any byte is read.
 * docs/limits.md lists the limits.
 */

const MiB = 1024 * 1024;

/** The most bytes read from each kind of input. */
export const READ_LIMITS = {
  /** A prompt file or standard input. */
  prompts: 64 * MiB,
  /** A pairs file (JSON lines of rated prompts). */
  pairs: 256 * MiB,
  /** A predictor's model.json (its weights file is bounded by the size its architecture needs). */
  modelJson: 16 * MiB,
  /** A config, metrics, workflow or sidecar file. */
  config: 4 * MiB,
  /** An image to score. */
  image: 64 * MiB,
} as const;

export interface BoundedReadOptions {
  /** Most bytes accepted. */
  limit: number;
  /** What the input is, for messages: "prompt file", "image". */
  what: string;
  /** How messages name it (default: the path). */
  name?: string;
  /** The error for an input over the limit; `size` is known for a regular file. */
  tooLarge?: (size: number | undefined) => Error;
}

/** "64 MB", "1.5 KB": sizes as people read them in a one-line error. */
export function formatBytes(n: number): string {
  if (n >= MiB) return `${+(n / MiB).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

const article = (what: string) => `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;

function tooLargeError(o: BoundedReadOptions, name: string, size: number | undefined): Error {
  if (o.tooLarge) return o.tooLarge(size);
  const limit = formatBytes(o.limit);
  const message =
    size === undefined
      ? `${name}: more than ${limit}, the limit for ${article(o.what)}`
      : `${name}: ${formatBytes(size)} is over the ${limit} limit for ${article(o.what)}`;
  return new RouteT2IError('input-too-large', message);
}

function openError(e: unknown, o: BoundedReadOptions, name: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new RouteT2IError('no-such-file', `${name}: no such file`);
  if (code === 'EISDIR') return new RouteT2IError('is-directory', `${name}: is a folder, not ${article(o.what)}`);
  if (code === 'EACCES' || code === 'EPERM') return new RouteT2IError('no-access', `${name}: permission denied`);
  if (code === 'ELOOP') return new RouteT2IError('no-such-file', `${name}: a link that loops`);
  return new RouteT2IError('read-failed', `${name}: cannot read the ${o.what} (${code ?? (e as Error).message})`);
}

const CHUNK = 1 * MiB;

/** Reads a whole file, refusing it once it passes `limit` bytes. */
export async function readFileBounded(file: string, o: BoundedReadOptions): Promise<Buffer> {
  const name = o.name ?? file;
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (e) {
    throw openError(e, o, name);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw openError(Object.assign(new Error(), { code: 'EISDIR' }), o, name);
    if (stat.isFile() && stat.size > o.limit) throw tooLargeError(o, name, stat.size);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // One byte past the limit is enough to know it is over.
      const want = Math.min(CHUNK, o.limit + 1 - total);
      const buf = Buffer.allocUnsafe(want);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buf, 0, want, null));
      } catch (e) {
        throw openError(e, o, name);
      }
      if (bytesRead === 0) break;
      chunks.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > o.limit) throw tooLargeError(o, name, undefined);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/** readFileBounded, synchronously (for callers that are synchronous end to end). */
export function readFileBoundedSync(file: string, o: BoundedReadOptions): Buffer {
  const name = o.name ?? file;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw openError(e, o, name);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw openError(Object.assign(new Error(), { code: 'EISDIR' }), o, name);
    if (stat.isFile() && stat.size > o.limit) throw tooLargeError(o, name, stat.size);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(CHUNK, o.limit + 1 - total);
      const buf = Buffer.allocUnsafe(want);
      let bytesRead: number;
      try {
        bytesRead = fs.readSync(fd, buf, 0, want, null);
      } catch (e) {
        throw openError(e, o, name);
      }
      if (bytesRead === 0) break;
      chunks.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > o.limit) throw tooLargeError(o, name, undefined);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a stream (standard input) to its end, refusing it once it passes `limit` bytes; stops reading then. */
export async function readStreamBounded(stream: AsyncIterable<unknown>, o: BoundedReadOptions): Promise<Buffer> {
  const name = o.name ?? 'standard input';
  const chunks: Buffer[] = [];
  let total = 0;
  // Leaving the loop early ends the iteration, which destroys the stream: nothing more is read.
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    total += buf.length;
    if (total > o.limit) throw tooLargeError(o, name, undefined);
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
