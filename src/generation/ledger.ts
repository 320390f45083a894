import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../router/atomicWrite';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { RouteT2IError } from '../router/errors';
import { mayEscalate, type CascadeTally } from '../router/policy';
import { FileLock, diskProblem, pidAlive } from './fileLock';
import type { KeyLimit, KeyStatus, LedgerEntry, LedgerStatus, ReserveMeta } from './ledgerStore';

export type { LedgerEntry, LedgerStatus } from './ledgerStore';

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
  /** The gateway key the call was made for (its id, never the key). */
  key?: string;
}

export interface MonthRecord {
  entries: LedgerEntry[];
  reservations: Record<string, Reservation>;
  /** Cascade's cloud share this month: measured edge images and escalations (absent until the first cascade). */
  cascade?: CascadeTally;
}

export interface LedgerData {
  version: 1;
  months: Record<string, MonthRecord>;
}

export interface LedgerOptions {
  file: string;
  /** Monthly cap in USD; null for none (spending is still recorded). */
  monthlyCap: number | null;
  now?: () => Date;
  /** A lock older than this is taken as left behind by a crash (a lock is held for one read and write). */
  staleLockMs?: number;
  /** How long to wait for the lock before giving up; always longer than `staleLockMs`, so a leftover is broken first. */
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

/** What one gateway key has spent and holds reserved this month. */
function keyCommitted(month: MonthRecord, key: string): number {
  return sum([
    ...month.entries.filter((e) => e.key === key).map((e) => e.cost),
    ...Object.values(month.reservations)
      .filter((r) => r.key === key)
      .map((r) => r.estimate),
  ]);
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
  private readonly lock: FileLock;

  private constructor(private readonly options: LedgerOptions) {
    this.pid = options.pid ?? process.pid;
    this.host = options.host ?? hostname();
    this.now = options.now ?? (() => new Date());
    this.isAlive = options.isAlive ?? pidAlive;
    this.lock = new FileLock(`${options.file}.lock`, { pid: this.pid, host: this.host, isAlive: this.isAlive });
    const cap = options.monthlyCap;
    if (cap !== null && !(typeof cap === 'number' && Number.isFinite(cap) && cap >= 0)) {
      throw new RouteT2IError(
        'bad-policy',
        `the monthly cap must be a non-negative amount in USD (got ${JSON.stringify(cap)})`,
      );
    }
  }

  /** Opens (or creates) the ledger and reconciles reservations left by crashed processes. */
  static async open(options: LedgerOptions): Promise<{ ledger: Ledger; reconciled: LedgerEntry[] }> {
    const ledger = new Ledger(options);
    await fs.mkdir(dirname(options.file), { recursive: true });
    const reconciled = await ledger.reconcile();
    return { ledger, reconciled };
  }

  /** A ledger to read and maintain explicitly (`routet2i ledger`): nothing is reconciled or written by opening it. */
  static at(options: LedgerOptions): Ledger {
    return new Ledger(options);
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

  get where(): string {
    return this.options.file;
  }

  /**
   * Reserves `estimate` USD for one call, or returns null when spent + reserved + estimate would pass
   * the cap. Atomic across processes.
   */
  async reserve(estimate: number, meta: ReserveMeta): Promise<Reservation | null> {
    if (!(Number.isFinite(estimate) && estimate >= 0))
      throw new RouteT2IError(
        'bad-estimate',
        `${meta.backend}: the estimated cost must be a non-negative amount (got ${estimate})`,
      );
    return this.update((data) => {
      const month = this.month(data);
      const committed = sum([
        ...month.entries.map((e) => e.cost),
        ...Object.values(month.reservations).map((r) => r.estimate),
      ]);
      if (this.cap !== null && committed + estimate > this.cap + EPS) return null;
      const key = meta.key;
      if (key && key.cap !== null && keyCommitted(month, key.id) + estimate > key.cap + EPS) return null;
      const r: Reservation = {
        id: randomBytes(8).toString('hex'),
        backend: meta.backend,
        estimate,
        at: this.now().toISOString(),
        pid: this.pid,
        host: this.host,
      };
      if (meta.note) r.note = meta.note;
      if (key) r.key = key.id;
      month.reservations[r.id] = r;
      return r;
    });
  }

  /** Turns a reservation into a charge of `cost` USD. */
  async settle(id: string, cost: number): Promise<void> {
    if (!(Number.isFinite(cost) && cost >= 0))
      throw new RouteT2IError('bad-cost', `a settled cost must be a non-negative amount (got ${cost})`);
    await this.update((data) => {
      for (const month of Object.values(data.months)) {
        const r = month.reservations[id];
        if (r) {
          delete month.reservations[id];
          const entry: LedgerEntry = {
            id,
            backend: r.backend,
            cost,
            estimate: r.estimate,
            at: this.now().toISOString(),
          };
          if (r.note) entry.note = r.note;
          if (r.key) entry.key = r.key;
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
    return (await this.details()).status;
  }

  /** One month as recorded (default this one): its figures, entries and open reservations, for `routet2i ledger`. */
  async details(
    key = monthKey(this.now()),
  ): Promise<{ status: LedgerStatus; entries: LedgerEntry[]; reservations: Reservation[] }> {
    const data = await this.read();
    const month = data.months[key] ?? { entries: [], reservations: {} };
    const spent = sum(month.entries.map((e) => e.cost));
    const reserved = sum(Object.values(month.reservations).map((r) => r.estimate));
    const cascade = { cascaded: month.cascade?.cascaded ?? 0, escalated: month.cascade?.escalated ?? 0 };
    const left = this.cap === null ? Infinity : Math.max(0, Math.round((this.cap - spent - reserved) * 1e9) / 1e9);
    return {
      status: { month: key, spent, reserved, cap: this.cap, left, cascade },
      entries: month.entries,
      reservations: Object.values(month.reservations),
    };
  }

  /**
   * Makes a damaged ledger usable again: every readable entry and reservation is kept in a new file, the damaged one is
   * renamed aside (never deleted), and what could not be kept is returned in words. Undefined when the file is sound.
   */
  async repair(): Promise<{ movedTo: string; entries: number; reservations: number; dropped: string[] } | undefined> {
    const token = await this.takeLock();
    try {
      let text: string;
      try {
        text = await fs.readFile(this.file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      if (!ledgerProblem(text)) return undefined;
      const { data, dropped } = salvageLedger(text);
      const movedTo = `${this.file}.damaged-${this.now().toISOString().replace(/[:.]/g, '-')}`;
      await fs.rename(this.file, movedTo);
      await this.write(data);
      const months = Object.values(data.months);
      return {
        movedTo,
        entries: months.reduce((a, m) => a + m.entries.length, 0),
        reservations: months.reduce((a, m) => a + Object.keys(m.reservations).length, 0),
        dropped,
      };
    } finally {
      await this.lock.release(token);
    }
  }

  /** One gateway key's month. */
  async keyStatus(key: KeyLimit): Promise<KeyStatus> {
    const data = await this.read();
    const m = monthKey(this.now());
    const month = data.months[m] ?? { entries: [], reservations: {} };
    const spent = sum(month.entries.filter((e) => e.key === key.id).map((e) => e.cost));
    const reserved = sum(
      Object.values(month.reservations)
        .filter((r) => r.key === key.id)
        .map((r) => r.estimate),
    );
    return {
      key: key.id,
      month: m,
      spent,
      reserved,
      cap: key.cap,
      left: key.cap === null ? Infinity : Math.max(0, Math.round((key.cap - spent - reserved) * 1e9) / 1e9),
    };
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
          const entry: LedgerEntry = {
            id: r.id,
            backend: r.backend,
            cost: r.estimate,
            estimate: r.estimate,
            at: this.now().toISOString(),
            reconciled: true,
          };
          if (r.note) entry.note = r.note;
          if (r.key) entry.key = r.key;
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
    const problem = ledgerProblem(text);
    if (problem) throw this.damaged(problem);
    return JSON.parse(text) as LedgerData;
  }

  private damaged(why: string): RouteT2IError {
    // Refusing is the safe side: with an unreadable ledger we cannot know what was spent.
    return new RouteT2IError(
      'ledger-damaged',
      `the ledger ${this.file} is damaged (${why}); no cloud call is made until it is fixed`,
      `restore it, or run \`routet2i ledger --repair\`, which keeps every readable record and moves the damaged file aside`,
    );
  }

  private async write(data: LedgerData): Promise<void> {
    await writeLedgerFile(this.file, data);
  }

  /** Read–modify–write under the lock; the change is written only when `change` returns. */
  private async update<T>(change: (data: LedgerData) => T): Promise<T> {
    const token = await this.takeLock();
    try {
      const data = await this.read();
      const out = change(data);
      await this.write(data);
      return out;
    } finally {
      await this.lock.release(token);
    }
  }

  private async takeLock(): Promise<string> {
    const staleMs = this.options.staleLockMs ?? 10_000;
    const timeoutMs = this.options.lockTimeoutMs ?? Math.max(30_000, staleMs + 1000);
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const token = await this.lock.tryTake();
      if (token) return token;
      // A lock whose owner is gone (a crash, a closed pipe) or that cannot be read is broken at once; any other
      // after `staleMs`, which is shorter than the wait: a leftover never makes a run give up.
      if (await this.lock.breakIfStale(staleMs)) continue;
      if (Date.now() > deadline) {
        throw new RouteT2IError(
          'ledger-busy',
          `the ledger ${this.file} stayed locked for ${Math.round(timeoutMs / 1000)} s`,
          `if no other RouteT2I is running, delete ${this.lock.file}`,
        );
      }
      await sleep(Math.min(50, 2 + attempt) + Math.random() * 5);
    }
  }
}

/** Writes a ledger file atomically (temporary file, fsync, rename); a full disk or a size limit is named. */
export async function writeLedgerFile(file: string, data: LedgerData): Promise<void> {
  try {
    await writeFileAtomic(file, JSON.stringify(data, null, 1) + '\n');
  } catch (e) {
    throw diskProblem(e, `the ledger ${file}`) ?? e;
  }
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isAmount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function isDate(v: unknown): boolean {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

/** What is wrong with one entry, or undefined. */
function entryProblem(e: unknown): string | undefined {
  if (!isObject(e)) return `is ${e === null ? 'null' : Array.isArray(e) ? 'a list' : typeof e}, not an object`;
  if (typeof e.id !== 'string' || !e.id) return 'has no id';
  if (typeof e.backend !== 'string') return 'has no backend';
  if (!isAmount(e.cost)) return `has no valid cost (${JSON.stringify(e.cost) ?? 'none'})`;
  if (!isAmount(e.estimate)) return `has no valid estimate (${JSON.stringify(e.estimate) ?? 'none'})`;
  if (!isDate(e.at)) return 'has no valid time';
  return undefined;
}

function reservationProblem(key: string, r: unknown): string | undefined {
  if (!isObject(r)) return `is ${r === null ? 'null' : Array.isArray(r) ? 'a list' : typeof r}, not an object`;
  if (r.id !== key) return 'does not carry its own id';
  if (typeof r.backend !== 'string') return 'has no backend';
  if (!isAmount(r.estimate)) return `has no valid estimate (${JSON.stringify(r.estimate) ?? 'none'})`;
  if (!isDate(r.at)) return 'has no valid time';
  if (!Number.isInteger(r.pid) || typeof r.host !== 'string') return 'has no owner (pid and host)';
  return undefined;
}

function cascadeProblem(c: unknown): string | undefined {
  if (c === undefined) return undefined;
  if (!(
    isObject(c) &&
    Number.isInteger(c.cascaded) &&
    Number.isInteger(c.escalated) &&
    (c.escalated as number) >= 0 &&
    (c.cascaded as number) >= (c.escalated as number)
  ))
    return 'is malformed';
  return undefined;
}

/**
 * Everything a ledger file must be, checked strictly (an empty list where an object belongs, a null entry, a number too
 * large to be finite: each would silently disable the cap or lose money). Undefined when the text is a valid ledger.
 */
export function ledgerProblem(text: string): string | undefined {
  if (text.trim() === '') return 'it is empty';
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch {
    return 'it is not valid JSON';
  }
  if (!isObject(d)) return 'it is not a RouteT2I ledger';
  if (d.version !== 1)
    return 'version' in d
      ? `it has version ${JSON.stringify(d.version)}, this RouteT2I reads version 1`
      : 'it is not a RouteT2I ledger (no version)';
  if (!isObject(d.months))
    return `"months" must be an object keyed by month (got ${Array.isArray(d.months) ? 'a list' : (JSON.stringify(d.months) ?? 'nothing')})`;
  for (const [k, m] of Object.entries(d.months)) {
    if (!MONTH.test(k)) return `"${k}" is not a month (YYYY-MM)`;
    if (!isObject(m)) return `month ${k} is ${m === null ? 'null' : 'not an object'}`;
    if (!Array.isArray(m.entries)) return `month ${k}: "entries" must be a list`;
    if (!isObject(m.reservations))
      return `month ${k}: "reservations" must be an object keyed by reservation id (got ${Array.isArray(m.reservations) ? 'a list' : (JSON.stringify(m.reservations) ?? 'nothing')})`;
    for (const [i, e] of m.entries.entries()) {
      const p = entryProblem(e);
      if (p) return `month ${k}: entry ${i + 1} ${p}`;
    }
    for (const [id, r] of Object.entries(m.reservations)) {
      const p = reservationProblem(id, r);
      if (p) return `month ${k}: reservation ${id} ${p}`;
    }
    const c = cascadeProblem(m.cascade);
    if (c) return `month ${k}: the cascade tally ${c}`;
  }
  return undefined;
}

/**
 * The readable part of a damaged ledger, and what could not be kept (in words). Nothing that may be money is dropped
 * silently: the caller prints `dropped`, and the original stays beside the new file.
 */
export function salvageLedger(text: string): { data: LedgerData; dropped: string[] } {
  const data: LedgerData = { version: 1, months: {} };
  const dropped: string[] = [];
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch {
    return { data, dropped: ['the whole file (it is not valid JSON)'] };
  }
  const months = isObject(d) && isObject(d.months) ? d.months : undefined;
  if (!months) return { data, dropped: ['the whole file (it has no "months" object)'] };
  for (const [k, m] of Object.entries(months)) {
    if (!MONTH.test(k) || !isObject(m)) {
      dropped.push(`month "${k}" (not a month record)`);
      continue;
    }
    const out: MonthRecord = { entries: [], reservations: {} };
    const entries = Array.isArray(m.entries) ? m.entries : [];
    if (!Array.isArray(m.entries)) dropped.push(`month ${k}: its "entries" (not a list)`);
    entries.forEach((e, i) => {
      const p = entryProblem(e);
      if (p) dropped.push(`month ${k}: entry ${i + 1} (${p})`);
      else out.entries.push(e as LedgerEntry);
    });
    if (isObject(m.reservations)) {
      for (const [id, r] of Object.entries(m.reservations)) {
        const p = reservationProblem(id, r);
        if (p) dropped.push(`month ${k}: reservation ${id} (${p})`);
        else out.reservations[id] = r as Reservation;
      }
    } else if (m.reservations !== undefined) dropped.push(`month ${k}: its "reservations" (not an object keyed by id)`);
    if (m.cascade !== undefined) {
      if (cascadeProblem(m.cascade)) dropped.push(`month ${k}: the cascade tally (malformed)`);
      else out.cascade = m.cascade as CascadeTally;
    }
    data.months[k] = out;
  }
  return { data, dropped };
}
