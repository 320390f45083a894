import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { RouteT2IError } from '../router/errors';
import { mayEscalate, type CascadeTally } from '../router/policy';

/**
 * The money ledger: one JSON file per workspace, months keyed `YYYY-MM` (UTC). Before a cloud call the
 * dispatcher reserves the call's estimated cost; after it, it settles the real cost (or releases the
 * reservation when nothing was charged). The cap holds because every change happens under a lock file
 * and counts spent + reserved, in this process and in any other that shares the file.
 *
 * Crash rule (the safe one): a reservation whose owner process is gone — on this host, its pid no longer
 * runs; from any host, it is older than `staleReservationMs` (a day) — is settled at its estimate, as if the
 * call had been charged, because the provider may well have charged it. Money is never "found" by a
 * crash; at worst the ledger over-counts by estimates that did not turn into charges.
 *
 * The cap holds exactly as long as estimates are upper bounds of charges: every backend's estimate is
 * (see the backends' `estimateCost`).
 */

export interface Reservation {
  id: string;
  backend: string;
  estimate: number;
  at: string;
  pid: number;
  host: string;
  note?: string;
}

export interface LedgerEntry {
  id: string;
  backend: string;
  cost: number;
  estimate: number;
  at: string;
  note?: string;
  /** Settled at its estimate when its owner was found gone (a crash between reserve and settle). */
  reconciled?: boolean;
}

interface MonthRecord {
  entries: LedgerEntry[];
  reservations: Record<string, Reservation>;
  /** Cascade's cloud share this month: measured edge images and escalations (absent until the first cascade). */
  cascade?: CascadeTally;
}

interface LedgerData {
  version: 1;
  months: Record<string, MonthRecord>;
}

export interface LedgerStatus {
  month: string;
  spent: number;
  reserved: number;
  cap: number | null;
  /** What may still be committed this month; Infinity without a cap. */
  left: number;
  /** Cascaded prompts this month and how many of them escalated to the cloud. */
  cascade: CascadeTally;
}

export interface LedgerOptions {
  file: string;
  /** Monthly cap in USD; null for none (spending is still recorded). */
  monthlyCap: number | null;
  now?: () => Date;
  /** A lock older than this is taken as left behind by a crash. */
  staleLockMs?: number;
  /** How long to wait for the lock before giving up. */
  lockTimeoutMs?: number;
  /** A reservation older than this is reconciled whoever made it (another host's pids cannot be checked). */
  staleReservationMs?: number;
  /** Identity of this process (tests simulate other processes). */
  pid?: number;
  host?: string;
  /** Whether a pid on this host still runs. */
  isAlive?: (pid: number) => boolean;
}

const EPS = 1e-9;

export function monthKey(d: Date): string {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sum(xs: number[]): number {
  return Math.round(xs.reduce((a, b) => a + b, 0) * 1e9) / 1e9;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class Ledger {
  private readonly pid: number;
  private readonly host: string;
  private readonly now: () => Date;
  private readonly isAlive: (pid: number) => boolean;
  private readonly lockFile: string;

  private constructor(private readonly options: LedgerOptions) {
    this.pid = options.pid ?? process.pid;
    this.host = options.host ?? hostname();
    this.now = options.now ?? (() => new Date());
    this.isAlive = options.isAlive ?? pidAlive;
    this.lockFile = `${options.file}.lock`;
    const cap = options.monthlyCap;
    if (cap !== null && !(typeof cap === 'number' && Number.isFinite(cap) && cap >= 0)) {
      throw new RouteT2IError('bad-policy', `the monthly cap must be a non-negative amount in USD (got ${JSON.stringify(cap)})`);
    }
  }

  /** Opens (or creates) the ledger and reconciles reservations left by crashed processes. */
  static async open(options: LedgerOptions): Promise<{ ledger: Ledger; reconciled: LedgerEntry[] }> {
    const ledger = new Ledger(options);
    await fs.mkdir(dirname(options.file), { recursive: true });
    const reconciled = await ledger.reconcile();
    return { ledger, reconciled };
  }

  /** This month's figures without taking the lock or writing anything (for a dry run). */
  static async peek(options: LedgerOptions): Promise<LedgerStatus> {
    return new Ledger(options).status();
  }

  get file(): string {
    return this.options.file;
  }

  get cap(): number | null {
    return this.options.monthlyCap;
  }

  /**
   * Reserves `estimate` USD for one call, or returns null when spent + reserved + estimate would pass
   * the cap. Atomic across processes.
   */
  async reserve(estimate: number, meta: { backend: string; note?: string }): Promise<Reservation | null> {
    if (!(Number.isFinite(estimate) && estimate >= 0)) throw new RouteT2IError('bad-estimate', `${meta.backend}: the estimated cost must be a non-negative amount (got ${estimate})`);
    return this.update((data) => {
      const month = this.month(data);
      const committed = sum([...month.entries.map((e) => e.cost), ...Object.values(month.reservations).map((r) => r.estimate)]);
      if (this.cap !== null && committed + estimate > this.cap + EPS) return null;
      const r: Reservation = { id: randomBytes(8).toString('hex'), backend: meta.backend, estimate, at: this.now().toISOString(), pid: this.pid, host: this.host };
      if (meta.note) r.note = meta.note;
      month.reservations[r.id] = r;
      return r;
    });
  }

  /** Turns a reservation into a charge of `cost` USD. */
  async settle(id: string, cost: number): Promise<void> {
    if (!(Number.isFinite(cost) && cost >= 0)) throw new RouteT2IError('bad-cost', `a settled cost must be a non-negative amount (got ${cost})`);
    await this.update((data) => {
      for (const month of Object.values(data.months)) {
        const r = month.reservations[id];
        if (r) {
          delete month.reservations[id];
          const entry: LedgerEntry = { id, backend: r.backend, cost, estimate: r.estimate, at: this.now().toISOString() };
          if (r.note) entry.note = r.note;
          month.entries.push(entry);
          return;
        }
        // Reconciled meanwhile (we were taken for dead): put the real cost in place of the estimate.
        const e = month.entries.find((x) => x.id === id);
        if (e) {
          e.cost = cost;
          delete e.reconciled;
          return;
        }
      }
      throw new RouteT2IError('ledger-unknown', `no reservation ${id} in the ledger ${this.file}`);
    });
  }

  /** Drops a reservation: the call failed before anything could be charged. */
  async release(id: string): Promise<void> {
    await this.update((data) => {
      for (const month of Object.values(data.months)) {
        if (month.reservations[id]) {
          delete month.reservations[id];
          return;
        }
      }
    });
  }

  /**
   * Counts one cascaded prompt this month and, where it asks to escalate, decides under the lock whether this month's
   * cloud share allows it (so parallel generations and other processes cannot overshoot it). `allowed` is false when
   * the prompt did not ask.
   */
  async countCascade(cloudShare: number, wantsEscalation: boolean): Promise<{ allowed: boolean; tally: CascadeTally }> {
    return this.update((data) => {
      const month = this.month(data);
      const tally = (month.cascade ??= { cascaded: 0, escalated: 0 });
      tally.cascaded++;
      const allowed = wantsEscalation && mayEscalate(cloudShare, tally);
      if (allowed) tally.escalated++;
      return { allowed, tally: { ...tally } };
    });
  }

  /** Takes back an escalation that made no cloud image (the cap refused it, or the cloud failed). */
  async uncountEscalation(): Promise<void> {
    await this.update((data) => {
      const tally = this.month(data).cascade;
      if (tally && tally.escalated > 0) tally.escalated--;
    });
  }

  async status(): Promise<LedgerStatus> {
    const data = await this.read();
    const key = monthKey(this.now());
    const month = data.months[key] ?? { entries: [], reservations: {} };
    const spent = sum(month.entries.map((e) => e.cost));
    const reserved = sum(Object.values(month.reservations).map((r) => r.estimate));
    const cascade = { cascaded: month.cascade?.cascaded ?? 0, escalated: month.cascade?.escalated ?? 0 };
    return { month: key, spent, reserved, cap: this.cap, left: this.cap === null ? Infinity : Math.max(0, Math.round((this.cap - spent - reserved) * 1e9) / 1e9), cascade };
  }

  /** Settles, at their estimates, the reservations whose owners are gone (see the crash rule above). */
  async reconcile(): Promise<LedgerEntry[]> {
    const staleMs = this.options.staleReservationMs ?? 24 * 3600_000;
    return this.update((data) => {
      const done: LedgerEntry[] = [];
      const now = this.now().getTime();
      for (const month of Object.values(data.months)) {
        for (const r of Object.values(month.reservations)) {
          const ours = r.host === this.host && r.pid === this.pid;
          // No generation runs for a day: an older reservation is a leftover even if its pid was reused.
          const old = !(now - Date.parse(r.at) <= staleMs);
          const gone = old || (r.host === this.host && !ours && !this.isAlive(r.pid));
          if (!gone) continue;
          delete month.reservations[r.id];
          const entry: LedgerEntry = { id: r.id, backend: r.backend, cost: r.estimate, estimate: r.estimate, at: this.now().toISOString(), reconciled: true };
          if (r.note) entry.note = r.note;
          month.entries.push(entry);
          done.push(entry);
        }
      }
      return done;
    });
  }

  private month(data: LedgerData): MonthRecord {
    const key = monthKey(this.now());
    return (data.months[key] ??= { entries: [], reservations: {} });
  }

  private async read(): Promise<LedgerData> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, months: {} };
      throw e;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw this.damaged('it is not valid JSON');
    }
    const d = data as LedgerData;
    if (!d || typeof d !== 'object' || d.version !== 1 || !d.months || typeof d.months !== 'object') {
      throw this.damaged(d && typeof d === 'object' && 'version' in d && d.version !== 1 ? `it has version ${JSON.stringify(d.version)}, this RouteT2I reads version 1` : 'it is not a RouteT2I ledger');
    }
    for (const [k, m] of Object.entries(d.months)) {
      if (!/^\d{4}-\d{2}$/.test(k) || !m || !Array.isArray(m.entries) || !m.reservations || typeof m.reservations !== 'object') throw this.damaged(`month "${k}" is malformed`);
      for (const e of m.entries) if (!(typeof e.cost === 'number' && e.cost >= 0)) throw this.damaged(`an entry of ${k} has no valid cost`);
      for (const r of Object.values(m.reservations)) if (!(typeof r.estimate === 'number' && r.estimate >= 0)) throw this.damaged(`a reservation of ${k} has no valid estimate`);
      const c = m.cascade;
      if (c !== undefined && !(c && Number.isInteger(c.cascaded) && Number.isInteger(c.escalated) && c.escalated >= 0 && c.cascaded >= c.escalated)) throw this.damaged(`the cascade tally of ${k} is malformed`);
    }
    return d;
  }

  private damaged(why: string): RouteT2IError {
    // Refusing is the safe side: with an unreadable ledger we cannot know what was spent.
    return new RouteT2IError('ledger-damaged', `the ledger ${this.file} is damaged (${why}); no cloud call is made until it is fixed`, 'restore it, or move it aside to start a new ledger (this forgets what was spent this month)');
  }

  private async write(data: LedgerData): Promise<void> {
    const tmp = `${this.file}.${this.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(data, null, 1) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(tmp, this.file);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  /** Read–modify–write under the lock; the change is written only when `change` returns. */
  private async update<T>(change: (data: LedgerData) => T): Promise<T> {
    const token = await this.lock();
    try {
      const data = await this.read();
      const out = change(data);
      await this.write(data);
      return out;
    } finally {
      await this.unlock(token);
    }
  }

  private async lock(): Promise<string> {
    const token = JSON.stringify({ pid: this.pid, host: this.host, at: Date.now(), nonce: randomBytes(6).toString('hex') });
    const deadline = Date.now() + (this.options.lockTimeoutMs ?? 15_000);
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.writeFile(this.lockFile, token, { flag: 'wx' });
        return token;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      await this.breakIfStale();
      if (Date.now() > deadline) {
        throw new RouteT2IError('ledger-busy', `the ledger ${this.file} stayed locked for ${Math.round((this.options.lockTimeoutMs ?? 15_000) / 1000)} s`, `if no other RouteT2I is running, delete ${this.lockFile}`);
      }
      await sleep(Math.min(50, 2 + attempt) + Math.random() * 5);
    }
  }

  /**
   * Removes a lock left by a crash: its owner's pid is gone (same host) or it is older than
   * `staleLockMs`. The lock is first renamed aside and checked to be the one judged stale, so two
   * processes breaking the same lock cannot remove a fresh one.
   */
  private async breakIfStale(): Promise<void> {
    let text: string;
    let mtime: number;
    try {
      text = await fs.readFile(this.lockFile, 'utf8');
      mtime = (await fs.stat(this.lockFile)).mtimeMs;
    } catch {
      return;
    }
    let owner: { pid?: number; host?: string; at?: number } = {};
    try {
      owner = JSON.parse(text);
    } catch {
      // A half-written lock: judge it by its age alone.
    }
    const age = Date.now() - Math.max(mtime, typeof owner.at === 'number' ? owner.at : 0);
    const dead = owner.host === this.host && typeof owner.pid === 'number' && owner.pid !== this.pid && !this.isAlive(owner.pid);
    if (!dead && age < (this.options.staleLockMs ?? 30_000)) return;
    const aside = `${this.lockFile}.${randomBytes(4).toString('hex')}.stale`;
    try {
      await fs.rename(this.lockFile, aside);
    } catch {
      return;
    }
    const moved = await fs.readFile(aside, 'utf8').catch(() => '');
    if (moved !== text) {
      // We moved someone's fresh lock: put it back (unless yet another lock appeared, which then wins).
      await fs.link(aside, this.lockFile).catch(() => undefined);
    }
    await fs.rm(aside, { force: true });
  }

  private async unlock(token: string): Promise<void> {
    try {
      if ((await fs.readFile(this.lockFile, 'utf8')) === token) await fs.rm(this.lockFile, { force: true });
    } catch {
      // Already gone.
    }
  }
}
