import type { CascadeTally } from '../router/policy';

/**
 * What every money ledger offers, whichever store holds it: the JSON file of one machine (ledger.ts) or a PostgreSQL
 * database shared by a team's gateway replicas (ledgerPostgres.ts). The metered call and the faces depend on this,
 * never on a store. The rule is the same in both: reserve an upper bound before a paid call (refused when spent +
 * reserved + estimate would pass the cap), settle the real cost after it, release only when the provider said it
 * did not take the job, and settle at their estimates the reservations whose owner is gone.
 */
export interface MoneyLedger {
  /** Monthly cap in USD; null for none. */
  readonly cap: number | null;
  /** Where the ledger lives, for messages: a file path, or the database without its password. */
  readonly where: string;
  reserve(estimate: number, meta: ReserveMeta): Promise<{ id: string; estimate: number } | null>;
  settle(id: string, cost: number): Promise<void>;
  release(id: string): Promise<void>;
  countCascade(cloudShare: number, wantsEscalation: boolean): Promise<{ allowed: boolean; tally: CascadeTally }>;
  uncountEscalation(): Promise<void>;
  status(): Promise<LedgerStatus>;
  reconcile(): Promise<LedgerEntry[]>;
}

export interface ReserveMeta {
  backend: string;
  note?: string;
  /** A gateway key the call is made for, with that key's own monthly cap (null: none, its spending is still kept). */
  key?: KeyLimit;
}

export interface KeyLimit {
  /** A stable, non-secret id of the key (never the key itself). */
  id: string;
  cap: number | null;
}

/** One gateway key's month. */
export interface KeyStatus {
  key: string;
  month: string;
  spent: number;
  reserved: number;
  cap: number | null;
  left: number;
}

/**
 * What the gateway keeps beside the money so that its replicas hold no state: the recent PRS values that calibrate α
 * and each key's spending.
 */
export interface GatewayStore {
  readonly ledger: MoneyLedger;
  /** Appends PRS values of routed prompts (oldest first). */
  recordPrs(values: readonly number[]): Promise<void>;
  /** The most recent `limit` PRS values, oldest first. */
  recentPrs(limit: number): Promise<number[]>;
  keyStatus(key: KeyLimit): Promise<KeyStatus>;
  /** This month's entries and open reservations, newest last (for `GET /v1/ledger`). */
  month(): Promise<{
    status: LedgerStatus;
    entries: LedgerEntry[];
    reservations: { id: string; backend: string; estimate: number; at: string; note?: string }[];
  }>;
  close(): Promise<void>;
}

/** A ledger that books every reservation for one gateway key. */
export function forKey(ledger: MoneyLedger, key: KeyLimit | undefined): MoneyLedger {
  if (!key) return ledger;
  return {
    get cap() {
      return ledger.cap;
    },
    get where() {
      return ledger.where;
    },
    reserve: (estimate, meta) => ledger.reserve(estimate, { ...meta, key }),
    settle: (id, cost) => ledger.settle(id, cost),
    release: (id) => ledger.release(id),
    countCascade: (share, wants) => ledger.countCascade(share, wants),
    uncountEscalation: () => ledger.uncountEscalation(),
    status: () => ledger.status(),
    reconcile: () => ledger.reconcile(),
  };
}

/** One settled call (or a reservation settled at its estimate when its owner was gone). */
export interface LedgerEntry {
  id: string;
  backend: string;
  cost: number;
  estimate: number;
  at: string;
  note?: string;
  key?: string;
  /** Settled at its estimate when its owner was found gone (a crash between reserve and settle). */
  reconciled?: boolean;
}

/** A month's figures. */
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
