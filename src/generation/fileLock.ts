import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { RouteT2IError } from '../router/errors';

/**
 * Lock files shared by processes on one file system (the ledger's, held for one read-modify-write; the pairs file's,
 * held for a whole collect run). A lock is created whole: its owner is written to a temporary file that is then
 * hard-linked to the lock's name, which fails when the lock exists, so no reader ever sees a half-written lock. A lock
 * is left behind when its owner dies (a crash, a closed pipe, kill -9); it is judged stale when its owner's pid is
 * gone (same host), when it cannot be read (written by something else, or damaged) and is older than a moment, or
 * when it is older than `staleMs`.
 */

export interface LockOwner {
  pid: number;
  host: string;
  /** ms since the epoch, when it was taken. */
  at: number;
  nonce: string;
}

export interface LockIdentity {
  pid?: number;
  host?: string;
  /** Whether a pid on this host still runs (tests simulate other processes). */
  isAlive?: (pid: number) => boolean;
}

/** An unreadable lock older than this is a leftover: a lock of ours is complete from the moment it exists. */
const UNREADABLE_STALE_MS = 2000;

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A clear message for a write that failed because the disk is full or a size limit was reached; else undefined. */
export function diskProblem(e: unknown, file: string): RouteT2IError | undefined {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new RouteT2IError(
      'disk-full',
      `cannot write ${file}: the disk is full (${code})`,
      'free some space and run again',
    );
  if (code === 'EFBIG')
    return new RouteT2IError(
      'disk-full',
      `cannot write ${file}: the file-size limit was reached (EFBIG)`,
      'raise the limit (ulimit -f) or move the file to another disk',
    );
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
    return new RouteT2IError('no-write', `cannot write ${file} (${code})`, "check the folder's permissions");
  return undefined;
}

export class FileLock {
  readonly pid: number;
  readonly host: string;
  private readonly isAlive: (pid: number) => boolean;

  constructor(
    readonly file: string,
    who: LockIdentity = {},
  ) {
    this.pid = who.pid ?? process.pid;
    this.host = who.host ?? hostname();
    this.isAlive = who.isAlive ?? pidAlive;
  }

  /** Takes the lock if it is free; returns its token (for `release`), or undefined when someone holds it. */
  async tryTake(): Promise<string | undefined> {
    const owner: LockOwner = { pid: this.pid, host: this.host, at: Date.now(), nonce: randomBytes(6).toString('hex') };
    const token = JSON.stringify(owner);
    const tmp = `${this.file}.${this.pid}.${owner.nonce}.tmp`;
    try {
      await fs.writeFile(tmp, token);
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw diskProblem(e, this.file) ?? e;
    }
    try {
      await fs.link(tmp, this.file);
      return token;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw diskProblem(e, this.file) ?? e;
    } finally {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  /** Who holds the lock now: its owner, null when it cannot be read, undefined when there is no lock. */
  async holder(): Promise<{ owner: LockOwner | null; text: string; ageMs: number } | undefined> {
    let text: string;
    let mtime: number;
    try {
      text = await fs.readFile(this.file, 'utf8');
      mtime = (await fs.stat(this.file)).mtimeMs;
    } catch {
      return undefined;
    }
    let owner: LockOwner | null = null;
    try {
      const o = JSON.parse(text) as Partial<LockOwner>;
      if (o && typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.at === 'number')
        owner = o as LockOwner;
    } catch {
      owner = null;
    }
    return { owner, text, ageMs: Date.now() - Math.max(mtime, owner?.at ?? 0) };
  }

  /**
   * Removes the lock when it is stale (see above; `staleMs` undefined: a readable lock from another host is never
   * stale by age). The lock is renamed aside and checked to be the one judged, so two processes breaking the same lock
   * cannot remove a fresh one. Returns what it removed, for a message.
   */
  async breakIfStale(staleMs: number | undefined): Promise<string | undefined> {
    const h = await this.holder();
    if (!h) return undefined;
    const { owner, text, ageMs } = h;
    let why: string | undefined;
    if (!owner) why = ageMs >= UNREADABLE_STALE_MS ? 'an empty or unreadable lock' : undefined;
    else if (owner.host === this.host && owner.pid !== this.pid && !this.isAlive(owner.pid))
      why = `a lock of process ${owner.pid}, which is gone`;
    else if (staleMs !== undefined && ageMs >= staleMs) why = `a lock ${Math.round(ageMs / 1000)} s old`;
    if (!why) return undefined;
    const aside = `${this.file}.${randomBytes(4).toString('hex')}.stale`;
    try {
      await fs.rename(this.file, aside);
    } catch {
      return undefined;
    }
    const moved = await fs.readFile(aside, 'utf8').catch(() => '');
    if (moved !== text) {
      // We moved someone's fresh lock: put it back (unless yet another lock appeared, which then wins).
      await fs.link(aside, this.file).catch(() => undefined);
      await fs.rm(aside, { force: true });
      return undefined;
    }
    await fs.rm(aside, { force: true });
    return why;
  }

  /** Removes the lock if it is still ours. */
  async release(token: string): Promise<void> {
    try {
      if ((await fs.readFile(this.file, 'utf8')) === token) await fs.rm(this.file, { force: true });
    } catch {
      // Already gone.
    }
  }
}
