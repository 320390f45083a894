import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Pool, type PoolClient } from 'pg';
import { RouteT2IError } from '../router/errors';
import { mayEscalate, type CascadeTally } from '../router/policy';
import { monthKey, type LedgerEntry, type LedgerStatus } from './ledger';
import type { GatewayStore, KeyLimit, KeyStatus, MoneyLedger, ReserveMeta } from './ledgerStore';

/**
 * The money ledger on PostgreSQL, for gateway replicas that share one budget. The rule is the JSON ledger's
 * (ledgerStore.ts); the database makes it atomic: every change is one transaction that first locks the month's row (and
 * the key's), so the cap check and the booking cannot interleave between replicas.
 *
 * Owners: each replica holds a lease (a row with an expiry, renewed every third of it). Its reservations are its own
 * while the lease lasts; once it has lapsed (the replica crashed, hung, or lost the database for longer than the
 * lease), any other replica settles them at their estimates — the provider may well have charged them. A replica that
 * was only slow settles its real cost over the estimate afterwards, as in the JSON ledger.
 *
 * A lost connection (the database restarted) is retried until `reconnectMs`; every operation is idempotent by the
 * reservation's id (made here, before the first try), so an answer lost with the connection cannot book twice.
 *
 * Schema: tables prefixed `routet2i_`, created and migrated here under an advisory lock, versioned in
 * `routet2i_schema_version`. Money is `numeric` (exact decimal sums), read back as float8.
 */

export interface PostgresLedgerOptions {
  /** postgres://user[:password]@host[:port]/database */
  url: string;
  monthlyCap: number | null;
  /** How long a replica's reservations stay its own without a renewal. */
  leaseMs?: number;
  /** How long an operation keeps retrying a lost connection. */
  reconnectMs?: number;
  /** Most connections this replica opens. */
  poolSize?: number;
  now?: () => Date;
  /** Called with a one-line message when the database is unreachable or comes back (never the password). */
  onWarning?: (message: string) => void;
}

const EPS = '1e-9';

/** Each migration takes the schema from version i to i + 1. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE routet2i_months (
    month text PRIMARY KEY,
    spent numeric NOT NULL DEFAULT 0,
    reserved numeric NOT NULL DEFAULT 0,
    cascaded integer NOT NULL DEFAULT 0,
    escalated integer NOT NULL DEFAULT 0
  );
  CREATE TABLE routet2i_key_months (
    key_id text NOT NULL,
    month text NOT NULL,
    spent numeric NOT NULL DEFAULT 0,
    reserved numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, month)
  );
  CREATE TABLE routet2i_replicas (
    id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    lease_until timestamptz NOT NULL
  );
  CREATE TABLE routet2i_reservations (
    id text PRIMARY KEY,
    month text NOT NULL,
    backend text NOT NULL,
    estimate numeric NOT NULL CHECK (estimate >= 0),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    replica text NOT NULL,
    key_id text,
    note text
  );
  CREATE INDEX routet2i_reservations_replica ON routet2i_reservations (replica);
  CREATE TABLE routet2i_entries (
    id text PRIMARY KEY,
    month text NOT NULL,
    backend text NOT NULL,
    cost numeric NOT NULL CHECK (cost >= 0),
    estimate numeric NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    key_id text,
    note text,
    reconciled boolean NOT NULL DEFAULT false
  );
  CREATE INDEX routet2i_entries_month ON routet2i_entries (month, at);
  CREATE TABLE routet2i_prs (
    seq bigserial PRIMARY KEY,
    prs double precision NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
  );

  -- Books a reservation: 'ok', 'cap' (the month's cap refuses) or 'key-cap'. Locks: replica row, month row, key row.
  CREATE FUNCTION routet2i_reserve(p_id text, p_month text, p_backend text, p_estimate numeric, p_note text,
      p_replica text, p_host text, p_pid integer, p_lease_ms integer, p_cap numeric, p_key text, p_key_cap numeric)
  RETURNS text LANGUAGE plpgsql AS $$
  DECLARE m routet2i_months; k routet2i_key_months;
  BEGIN
    -- Reserving renews the lease: a reservation is never made under a lapsed one.
    INSERT INTO routet2i_replicas (id, host, pid, lease_until)
      VALUES (p_replica, p_host, p_pid, clock_timestamp() + p_lease_ms * interval '1 millisecond')
      ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until;
    INSERT INTO routet2i_months (month) VALUES (p_month) ON CONFLICT DO NOTHING;
    SELECT * INTO m FROM routet2i_months WHERE month = p_month FOR UPDATE;
    -- A retry of a call whose answer was lost with the connection.
    IF EXISTS (SELECT 1 FROM routet2i_reservations WHERE id = p_id) OR EXISTS (SELECT 1 FROM routet2i_entries WHERE id = p_id) THEN
      RETURN 'ok';
    END IF;
    IF p_cap IS NOT NULL AND m.spent + m.reserved + p_estimate > p_cap + ${EPS} THEN RETURN 'cap'; END IF;
    IF p_key IS NOT NULL THEN
      INSERT INTO routet2i_key_months (key_id, month) VALUES (p_key, p_month) ON CONFLICT DO NOTHING;
      SELECT * INTO k FROM routet2i_key_months WHERE key_id = p_key AND month = p_month FOR UPDATE;
      IF p_key_cap IS NOT NULL AND k.spent + k.reserved + p_estimate > p_key_cap + ${EPS} THEN RETURN 'key-cap'; END IF;
      UPDATE routet2i_key_months SET reserved = reserved + p_estimate WHERE key_id = p_key AND month = p_month;
    END IF;
    INSERT INTO routet2i_reservations (id, month, backend, estimate, replica, key_id, note)
      VALUES (p_id, p_month, p_backend, p_estimate, p_replica, p_key, p_note);
    UPDATE routet2i_months SET reserved = reserved + p_estimate WHERE month = p_month;
    RETURN 'ok';
  END $$;

  -- Turns a reservation (or an entry reconciled meanwhile, or one already settled by a lost try) into a charge.
  CREATE FUNCTION routet2i_settle(p_id text, p_cost numeric) RETURNS text LANGUAGE plpgsql AS $$
  DECLARE r routet2i_reservations; e routet2i_entries;
  BEGIN
    SELECT * INTO r FROM routet2i_reservations WHERE id = p_id;
    IF FOUND THEN
      PERFORM 1 FROM routet2i_months WHERE month = r.month FOR UPDATE;
      PERFORM 1 FROM routet2i_key_months WHERE key_id = r.key_id AND month = r.month FOR UPDATE;
      DELETE FROM routet2i_reservations WHERE id = p_id;
      IF FOUND THEN
        INSERT INTO routet2i_entries (id, month, backend, cost, estimate, key_id, note)
          VALUES (r.id, r.month, r.backend, p_cost, r.estimate, r.key_id, r.note);
        UPDATE routet2i_months SET reserved = reserved - r.estimate, spent = spent + p_cost WHERE month = r.month;
        UPDATE routet2i_key_months SET reserved = reserved - r.estimate, spent = spent + p_cost WHERE key_id = r.key_id AND month = r.month;
        RETURN 'settled';
      END IF;
    END IF;
    SELECT * INTO e FROM routet2i_entries WHERE id = p_id;
    IF NOT FOUND THEN RETURN 'unknown'; END IF;
    PERFORM 1 FROM routet2i_months WHERE month = e.month FOR UPDATE;
    PERFORM 1 FROM routet2i_key_months WHERE key_id = e.key_id AND month = e.month FOR UPDATE;
    SELECT * INTO e FROM routet2i_entries WHERE id = p_id FOR UPDATE;
    UPDATE routet2i_entries SET cost = p_cost, reconciled = false WHERE id = p_id;
    UPDATE routet2i_months SET spent = spent - e.cost + p_cost WHERE month = e.month;
    UPDATE routet2i_key_months SET spent = spent - e.cost + p_cost WHERE key_id = e.key_id AND month = e.month;
    RETURN 'settled';
  END $$;

  CREATE FUNCTION routet2i_release(p_id text) RETURNS void LANGUAGE plpgsql AS $$
  DECLARE r routet2i_reservations;
  BEGIN
    SELECT * INTO r FROM routet2i_reservations WHERE id = p_id;
    IF NOT FOUND THEN RETURN; END IF;
    PERFORM 1 FROM routet2i_months WHERE month = r.month FOR UPDATE;
    PERFORM 1 FROM routet2i_key_months WHERE key_id = r.key_id AND month = r.month FOR UPDATE;
    DELETE FROM routet2i_reservations WHERE id = p_id;
    IF FOUND THEN
      UPDATE routet2i_months SET reserved = reserved - r.estimate WHERE month = r.month;
      UPDATE routet2i_key_months SET reserved = reserved - r.estimate WHERE key_id = r.key_id AND month = r.month;
    END IF;
  END $$;

  -- Settles at their estimates the reservations of replicas whose lease has lapsed (or that are gone).
  CREATE FUNCTION routet2i_reconcile(p_replica text) RETURNS SETOF routet2i_entries LANGUAGE plpgsql AS $$
  DECLARE r routet2i_reservations; e routet2i_entries;
  BEGIN
    FOR r IN
      SELECT res.* FROM routet2i_reservations res LEFT JOIN routet2i_replicas p ON p.id = res.replica
      WHERE res.replica <> p_replica AND (p.id IS NULL OR p.lease_until < clock_timestamp())
      ORDER BY res.month, res.key_id, res.id
    LOOP
      PERFORM 1 FROM routet2i_months WHERE month = r.month FOR UPDATE;
      PERFORM 1 FROM routet2i_key_months WHERE key_id = r.key_id AND month = r.month FOR UPDATE;
      DELETE FROM routet2i_reservations WHERE id = r.id;
      CONTINUE WHEN NOT FOUND; -- settled by its owner meanwhile
      INSERT INTO routet2i_entries (id, month, backend, cost, estimate, key_id, note, reconciled)
        VALUES (r.id, r.month, r.backend, r.estimate, r.estimate, r.key_id, r.note, true) RETURNING * INTO e;
      UPDATE routet2i_months SET reserved = reserved - r.estimate, spent = spent + r.estimate WHERE month = r.month;
      UPDATE routet2i_key_months SET reserved = reserved - r.estimate, spent = spent + r.estimate WHERE key_id = r.key_id AND month = r.month;
      RETURN NEXT e;
    END LOOP;
    -- Replicas gone for a day with nothing left to settle are forgotten.
    DELETE FROM routet2i_replicas p WHERE p.lease_until < clock_timestamp() - interval '1 day'
      AND NOT EXISTS (SELECT 1 FROM routet2i_reservations res WHERE res.replica = p.id);
  END $$;
  `,
];

/** Connection failures worth retrying: the server restarting, the network, a refused or broken connection. */
function transient(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  const code = err?.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code))
    return true;
  // 08: connection exception; 57P01–57P03: admin shutdown, crash shutdown, cannot connect now; 40001/40P01: retry.
  if (/^08/.test(code) || ['57P01', '57P02', '57P03', '40001', '40P01', '53300'].includes(code)) return true;
  // 'timeout exceeded when trying to connect': every pooled connection was busy (a burst of requests), not an error.
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i.test(
    err?.message ?? '',
  );
}

/** The URL with its password hidden, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

function num(x: unknown): number {
  return Math.round(Number(x) * 1e9) / 1e9;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface EntryRow {
  id: string;
  backend: string;
  cost: string;
  estimate: string;
  at: Date;
  note: string | null;
  reconciled: boolean;
}

function entryOf(row: EntryRow): LedgerEntry {
  const e: LedgerEntry = {
    id: row.id,
    backend: row.backend,
    cost: num(row.cost),
    estimate: num(row.estimate),
    at: new Date(row.at).toISOString(),
  };
  if (row.note) e.note = row.note;
  if (row.reconciled) e.reconciled = true;
  return e;
}

export class PostgresLedger implements MoneyLedger, GatewayStore {
  readonly replica: string;
  private readonly pool: Pool;
  private readonly leaseMs: number;
  private readonly reconnectMs: number;
  private readonly now: () => Date;
  private renewTimer?: NodeJS.Timeout;
  private closed = false;
  private unreachable = false;

  private constructor(private readonly options: PostgresLedgerOptions) {
    const cap = options.monthlyCap;
    if (cap !== null && !(typeof cap === 'number' && Number.isFinite(cap) && cap >= 0)) {
      throw new RouteT2IError(
        'bad-policy',
        `the monthly cap must be a non-negative amount in USD (got ${JSON.stringify(cap)})`,
      );
    }
    this.leaseMs = options.leaseMs ?? 30_000;
    this.reconnectMs = options.reconnectMs ?? 30_000;
    this.now = options.now ?? (() => new Date());
    this.replica = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection the server dropped (a restart) must not crash the process: the next query gets a new one.
    this.pool.on('error', () => undefined);
  }

  /** Connects, creates or migrates the schema, takes this replica's lease and settles what lapsed replicas left. */
  static async open(options: PostgresLedgerOptions): Promise<{ ledger: PostgresLedger; reconciled: LedgerEntry[] }> {
    const ledger = new PostgresLedger(options);
    try {
      await ledger.retry('connect', () => ledger.migrate());
      await ledger.renew();
      const reconciled = await ledger.reconcile();
      ledger.renewTimer = setInterval(() => void ledger.heartbeat(), Math.max(50, Math.floor(ledger.leaseMs / 3)));
      ledger.renewTimer.unref();
      return { ledger, reconciled };
    } catch (e) {
      await ledger.pool.end().catch(() => undefined);
      throw e;
    }
  }

  get cap(): number | null {
    return this.options.monthlyCap;
  }

  get where(): string {
    return safeUrl(this.options.url);
  }

  get ledger(): MoneyLedger {
    return this;
  }

  async reserve(
    estimate: number,
    meta: ReserveMeta,
  ): Promise<{ id: string; estimate: number; backend: string } | null> {
    if (!(Number.isFinite(estimate) && estimate >= 0))
      throw new RouteT2IError(
        'bad-estimate',
        `${meta.backend}: the estimated cost must be a non-negative amount (got ${estimate})`,
      );
    const id = randomBytes(8).toString('hex');
    const key = meta.key;
    const { rows } = await this.retry('reserve', () =>
      this.pool.query<{ r: string }>(
        'SELECT routet2i_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) AS r',
        [
          id,
          monthKey(this.now()),
          meta.backend,
          estimate,
          meta.note ?? null,
          this.replica,
          hostname(),
          process.pid,
          this.leaseMs,
          this.cap,
          key?.id ?? null,
          key?.cap ?? null,
        ],
      ),
    );
    return rows[0]!.r === 'ok' ? { id, estimate, backend: meta.backend } : null;
  }

  async settle(id: string, cost: number): Promise<void> {
    if (!(Number.isFinite(cost) && cost >= 0))
      throw new RouteT2IError('bad-cost', `a settled cost must be a non-negative amount (got ${cost})`);
    const { rows } = await this.retry('settle', () =>
      this.pool.query<{ r: string }>('SELECT routet2i_settle($1, $2) AS r', [id, cost]),
    );
    if (rows[0]!.r === 'unknown')
      throw new RouteT2IError('ledger-unknown', `no reservation ${id} in the ledger ${this.where}`);
  }

  async release(id: string): Promise<void> {
    await this.retry('release', () => this.pool.query('SELECT routet2i_release($1)', [id]));
  }

  async reconcile(): Promise<LedgerEntry[]> {
    const { rows } = await this.retry('reconcile', () =>
      this.pool.query<EntryRow>('SELECT * FROM routet2i_reconcile($1)', [this.replica]),
    );
    return rows.map(entryOf);
  }

  /** The month's row locked, the policy's own rule (mayEscalate) applied, the tally written: one transaction. */
  async countCascade(cloudShare: number, wantsEscalation: boolean): Promise<{ allowed: boolean; tally: CascadeTally }> {
    return this.transaction('cascade', async (c) => {
      const month = monthKey(this.now());
      await c.query('INSERT INTO routet2i_months (month) VALUES ($1) ON CONFLICT DO NOTHING', [month]);
      const { rows } = await c.query<{ cascaded: number; escalated: number }>(
        'SELECT cascaded, escalated FROM routet2i_months WHERE month = $1 FOR UPDATE',
        [month],
      );
      const tally = { cascaded: rows[0]!.cascaded + 1, escalated: rows[0]!.escalated };
      const allowed = wantsEscalation && mayEscalate(cloudShare, tally);
      if (allowed) tally.escalated++;
      await c.query('UPDATE routet2i_months SET cascaded = $2, escalated = $3 WHERE month = $1', [
        month,
        tally.cascaded,
        tally.escalated,
      ]);
      return { allowed, tally };
    });
  }

  async uncountEscalation(): Promise<void> {
    await this.retry('cascade', () =>
      this.pool.query('UPDATE routet2i_months SET escalated = escalated - 1 WHERE month = $1 AND escalated > 0', [
        monthKey(this.now()),
      ]),
    );
  }

  async status(): Promise<LedgerStatus> {
    const month = monthKey(this.now());
    const { rows } = await this.retry('status', () =>
      this.pool.query<{ spent: string; reserved: string; cascaded: number; escalated: number }>(
        'SELECT spent, reserved, cascaded, escalated FROM routet2i_months WHERE month = $1',
        [month],
      ),
    );
    const row = rows[0];
    const spent = row ? num(row.spent) : 0;
    const reserved = row ? num(row.reserved) : 0;
    const cap = this.cap;
    return {
      month,
      spent,
      reserved,
      cap,
      left: cap === null ? Infinity : Math.max(0, num(cap - spent - reserved)),
      cascade: { cascaded: row?.cascaded ?? 0, escalated: row?.escalated ?? 0 },
    };
  }

  async keyStatus(key: KeyLimit): Promise<KeyStatus> {
    const month = monthKey(this.now());
    const { rows } = await this.retry('status', () =>
      this.pool.query<{ spent: string; reserved: string }>(
        'SELECT spent, reserved FROM routet2i_key_months WHERE key_id = $1 AND month = $2',
        [key.id, month],
      ),
    );
    const spent = rows[0] ? num(rows[0].spent) : 0;
    const reserved = rows[0] ? num(rows[0].reserved) : 0;
    return {
      key: key.id,
      month,
      spent,
      reserved,
      cap: key.cap,
      left: key.cap === null ? Infinity : Math.max(0, num(key.cap - spent - reserved)),
    };
  }

  async month(): Promise<Awaited<ReturnType<GatewayStore['month']>>> {
    const month = monthKey(this.now());
    // One snapshot: read separately, a settle landing between the reads showed an entry and its reservation at once.
    const { row, entries, reservations } = await this.transaction('status', async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const totals = await c.query<{ spent: string; reserved: string; cascaded: number; escalated: number }>(
        'SELECT spent, reserved, cascaded, escalated FROM routet2i_months WHERE month = $1',
        [month],
      );
      const e = await c.query<EntryRow>('SELECT * FROM routet2i_entries WHERE month = $1 ORDER BY at, id', [month]);
      const r = await c.query<{ id: string; backend: string; estimate: string; at: Date; note: string | null }>(
        'SELECT id, backend, estimate, at, note FROM routet2i_reservations WHERE month = $1 ORDER BY at, id',
        [month],
      );
      return { row: totals.rows[0], entries: e.rows, reservations: r.rows };
    });
    const spent = row ? num(row.spent) : 0;
    const reserved = row ? num(row.reserved) : 0;
    const cap = this.cap;
    const status: LedgerStatus = {
      month,
      spent,
      reserved,
      cap,
      left: cap === null ? Infinity : Math.max(0, num(cap - spent - reserved)),
      cascade: { cascaded: row?.cascaded ?? 0, escalated: row?.escalated ?? 0 },
    };
    return {
      status,
      entries: entries.map(entryOf),
      reservations: reservations.map((r) => ({
        id: r.id,
        backend: r.backend,
        estimate: num(r.estimate),
        at: new Date(r.at).toISOString(),
        ...(r.note ? { note: r.note } : {}),
      })),
    };
  }

  async recordPrs(values: readonly number[]): Promise<void> {
    const finite = values.filter((v) => Number.isFinite(v));
    if (!finite.length) return;
    await this.retry('history', () =>
      this.pool.query('INSERT INTO routet2i_prs (prs) SELECT unnest($1::float8[])', [finite]),
    );
  }

  async recentPrs(limit: number): Promise<number[]> {
    const { rows } = await this.retry('history', () =>
      this.pool.query<{ prs: number }>(
        'SELECT prs FROM (SELECT seq, prs FROM routet2i_prs ORDER BY seq DESC LIMIT $1) t ORDER BY seq',
        [limit],
      ),
    );
    return rows.map((r) => r.prs);
  }

  /** Gives up the lease: what is still reserved is settled by the others at its estimates. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewTimer);
    await this.pool
      .query('UPDATE routet2i_replicas SET lease_until = clock_timestamp() WHERE id = $1', [this.replica])
      .catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  /** Stops renewing without a word, as a killed replica would (tests). */
  async abandon(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewTimer);
    await this.pool.end().catch(() => undefined);
  }

  private async renew(): Promise<void> {
    await this.retry('lease', () =>
      this.pool.query(
        `INSERT INTO routet2i_replicas (id, host, pid, lease_until) VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond')
         ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until`,
        [this.replica, hostname(), process.pid, this.leaseMs],
      ),
    );
  }

  private heartbeatRunning = false;

  /** Renews the lease and settles what lapsed replicas left; a failure waits for the next beat. */
  private async heartbeat(): Promise<void> {
    if (this.heartbeatRunning || this.closed) return;
    this.heartbeatRunning = true;
    try {
      await this.pool.query(
        `INSERT INTO routet2i_replicas (id, host, pid, lease_until) VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond')
         ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until`,
        [this.replica, hostname(), process.pid, this.leaseMs],
      );
      const { rows } = await this.pool.query<EntryRow>('SELECT * FROM routet2i_reconcile($1)', [this.replica]);
      if (this.unreachable) this.options.onWarning?.(`ledger: the database ${this.where} is reachable again`);
      this.unreachable = false;
      if (rows.length)
        this.options.onWarning?.(
          `ledger: ${rows.length} reservation${rows.length === 1 ? '' : 's'} of a replica whose lease lapsed counted as spent at the estimate`,
        );
    } catch (e) {
      if (!this.unreachable && !this.closed)
        this.options.onWarning?.(`ledger: cannot renew the lease on ${this.where} (${(e as Error).message}); retrying`);
      this.unreachable = true;
    } finally {
      this.heartbeatRunning = false;
    }
  }

  private async migrate(): Promise<void> {
    await this.transaction('migrate', async (c) => {
      // One replica migrates at a time; the others wait here and then find the work done.
      await c.query("SELECT pg_advisory_xact_lock(hashtext('routet2i_schema'))");
      await c.query('CREATE TABLE IF NOT EXISTS routet2i_schema_version (version integer NOT NULL)');
      const { rows } = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM routet2i_schema_version');
      const current = rows[0]?.v ?? 0;
      if (current > MIGRATIONS.length) {
        throw new RouteT2IError(
          'ledger-schema',
          `the ledger database ${this.where} has schema version ${current}; this RouteT2I knows up to ${MIGRATIONS.length}`,
          'upgrade RouteT2I on this replica',
        );
      }
      for (let v = current; v < MIGRATIONS.length; v++) {
        await c.query(MIGRATIONS[v]!);
        await c.query('INSERT INTO routet2i_schema_version (version) VALUES ($1)', [v + 1]);
      }
    });
  }

  private async transaction<T>(what: string, body: (c: PoolClient) => Promise<T>): Promise<T> {
    const once = async () => {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query('BEGIN');
        const out = await body(c);
        await c.query('COMMIT');
        return out;
      } catch (e) {
        broken = transient(e);
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release(broken);
      }
    };
    return this.retry(what, once);
  }

  /** Runs `op` until it succeeds, fails for a reason other than the connection, or `reconnectMs` has passed. */
  private async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.reconnectMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (e instanceof RouteT2IError) throw e;
        if (!transient(e) || this.closed) throw this.wrap(what, e);
        if (Date.now() >= deadline) {
          throw new RouteT2IError(
            'ledger-unavailable',
            `the ledger database ${this.where} stayed unreachable for ${Math.round(this.reconnectMs / 1000)} s (${(e as Error).message})`,
            'check that PostgreSQL runs and accepts connections',
          );
        }
        await sleep(Math.min(1000, 25 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  private wrap(what: string, e: unknown): Error {
    const err = e as { code?: string; message?: string };
    if (err?.code === '28P01' || err?.code === '28000')
      return new RouteT2IError('ledger-auth', `the ledger database ${this.where} refused the login (${err.message})`);
    if (err?.code === '3D000')
      return new RouteT2IError(
        'ledger-unavailable',
        `the ledger database ${this.where} does not exist (${err.message})`,
        'create it (createdb) or name another in --ledger',
      );
    return new RouteT2IError(
      'ledger-error',
      `the ledger database ${this.where} failed during ${what}: ${err?.message ?? String(e)}`,
    );
  }
}
