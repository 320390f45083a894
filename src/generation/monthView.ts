import type { CascadeTally } from '../router/policy';
import type { LedgerEntry, LedgerStatus } from './ledgerStore';

/**
 * One month of a ledger as the outside world sees it: what `routet2i ledger --json` prints and what the gateway's
 * `GET /v1/ledger` answers (plus, there, the caller's key). One function builds it for both faces, and one reads it
 * back (the editor's gateway client), so the shape cannot drift between them.
 */

/** An open reservation, without the owner's process details (a JSON file's pid and host, a replica's lease). */
export interface ReservationView {
  id: string;
  backend: string;
  estimate: number;
  at: string;
  note?: string;
  key?: string;
}

export interface MonthView {
  /** Where the ledger lives: a file path, or the database without its password. */
  ledger: string;
  month: string;
  spent: number;
  reserved: number;
  cap: number | null;
  /** What may still be committed this month; null without a cap (JSON has no Infinity). */
  left: number | null;
  cascade: CascadeTally;
  entries: LedgerEntry[];
  reservations: ReservationView[];
}

export function monthView(
  where: string,
  m: {
    status: LedgerStatus;
    entries: readonly LedgerEntry[];
    reservations: readonly { id: string; backend: string; estimate: number; at: string; note?: string; key?: string }[];
  },
): MonthView {
  const s = m.status;
  return {
    ledger: where,
    month: s.month,
    spent: s.spent,
    reserved: s.reserved,
    cap: s.cap,
    left: Number.isFinite(s.left) ? s.left : null,
    cascade: { cascaded: s.cascade.cascaded, escalated: s.cascade.escalated },
    entries: [...m.entries],
    reservations: m.reservations.map((r) => ({
      id: r.id,
      backend: r.backend,
      estimate: r.estimate,
      at: r.at,
      ...(r.note ? { note: r.note } : {}),
      ...(r.key ? { key: r.key } : {}),
    })),
  };
}

/** The month's figures from a view (left back to Infinity without a cap), as the editor's status and Budget tab use. */
export function statusOf(v: MonthView): LedgerStatus {
  return {
    month: v.month,
    spent: v.spent,
    reserved: v.reserved,
    cap: v.cap,
    left: v.left === null ? Infinity : v.left,
    cascade: v.cascade,
  };
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';

/**
 * Checks a month view read from elsewhere (a gateway's reply); throws a one-line message naming the first bad field.
 * Unknown fields are dropped, so what the editor keeps is exactly the view.
 */
export function parseMonthView(raw: unknown): MonthView {
  const o = raw as Record<string, unknown> | null;
  const fail = (field: string): never => {
    throw new Error(`the ledger reply has no valid "${field}"`);
  };
  if (!o || typeof o !== 'object' || Array.isArray(o)) fail('month');
  const r = o as Record<string, unknown>;
  if (!isStr(r.ledger)) fail('ledger');
  if (!isStr(r.month) || !/^\d{4}-\d{2}$/.test(r.month)) fail('month');
  if (!isNum(r.spent)) fail('spent');
  if (!isNum(r.reserved)) fail('reserved');
  if (!(r.cap === null || isNum(r.cap))) fail('cap');
  if (!(r.left === null || isNum(r.left))) fail('left');
  const c = r.cascade as Record<string, unknown> | undefined;
  if (!c || !isNum(c.cascaded) || !isNum(c.escalated)) fail('cascade');
  if (!Array.isArray(r.entries)) fail('entries');
  if (!Array.isArray(r.reservations)) fail('reservations');
  const entries = (r.entries as unknown[]).map((e) => {
    const x = e as Record<string, unknown>;
    if (!x || !isStr(x.id) || !isStr(x.backend) || !isNum(x.cost) || !isNum(x.estimate) || !isStr(x.at))
      fail('entries');
    const entry: LedgerEntry = {
      id: x.id as string,
      backend: x.backend as string,
      cost: x.cost as number,
      estimate: x.estimate as number,
      at: x.at as string,
    };
    if (isStr(x.note)) entry.note = x.note;
    if (isStr(x.key)) entry.key = x.key;
    if (x.reconciled === true) entry.reconciled = true;
    return entry;
  });
  return {
    ...monthView(r.ledger as string, {
      status: statusOf({
        month: r.month as string,
        spent: r.spent as number,
        reserved: r.reserved as number,
        cap: r.cap as number | null,
        left: r.left as number | null,
        cascade: { cascaded: c!.cascaded as number, escalated: c!.escalated as number },
      } as MonthView),
      entries,
      reservations: (r.reservations as unknown[]).map((e) => {
        const x = e as Record<string, unknown>;
        if (!x || !isStr(x.id) || !isStr(x.backend) || !isNum(x.estimate) || !isStr(x.at)) fail('reservations');
        return {
          id: x.id as string,
          backend: x.backend as string,
          estimate: x.estimate as number,
          at: x.at as string,
          ...(isStr(x.note) ? { note: x.note } : {}),
          ...(isStr(x.key) ? { key: x.key } : {}),
        };
      }),
    }),
    // A capped month's `left` is kept as the gateway computed it.
    left: r.left as number | null,
  };
}
