import { strict as assert } from 'node:assert';
import { Client } from 'pg';
import { PostgresLedger } from '../../../src/generation/ledgerPostgres';
import { RouteT2IError } from '../../../src/router/errors';
import { usePostgres } from '../../support/postgres';

/** Waits (bounded) until `check` returns a value other than undefined. */
async function until<T>(check: () => Promise<T | undefined>, what: string, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

describe('money ledger on PostgreSQL', function () {
  this.timeout(60_000);
  const cluster = usePostgres();
  let n = 0;
  const open: PostgresLedger[] = [];
  const fresh = async () => cluster().database(`ledger_${++n}`);
  const ledgerOn = async (url: string, extra: Partial<Parameters<typeof PostgresLedger.open>[0]> = {}) => {
    const { ledger } = await PostgresLedger.open({ url, monthlyCap: 1, ...extra });
    open.push(ledger);
    return ledger;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });

  it('creates its schema once, versioned, even when replicas start together', async () => {
    const url = await fresh();
    await Promise.all([ledgerOn(url), ledgerOn(url), ledgerOn(url)]);
    const rows = await query<{ version: number }>(url, 'SELECT version FROM routet2i_schema_version ORDER BY version');
    assert.deepEqual(
      rows.map((r) => r.version),
      [1],
    );
  });

  it('refuses a database whose schema is newer than this RouteT2I', async () => {
    const url = await fresh();
    await (await ledgerOn(url)).close();
    await query(url, 'INSERT INTO routet2i_schema_version (version) VALUES (99)');
    await assert.rejects(
      PostgresLedger.open({ url, monthlyCap: 1 }),
      (e: unknown) => e instanceof RouteT2IError && e.code === 'ledger-schema' && /version 99/.test(e.message),
    );
  });

  it('never lets concurrent reservations of two replicas pass the cap', async () => {
    const url = await fresh();
    const [a, b] = [await ledgerOn(url), await ledgerOn(url)];
    const got = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).reserve(0.07, { backend: 'openai' })),
    );
    assert.equal(got.filter((r) => r !== null).length, 14); // 14 × 0.07 = 0.98 ≤ 1 < 1.05
    const s = await b.status();
    assert.equal(s.reserved, 0.98);
    assert.equal(s.spent, 0);
    assert.ok(Math.abs(s.left - 0.02) < 1e-9);
  });

  it('settles real costs, releases refusals, and keeps each key under its own cap', async () => {
    const url = await fresh();
    const l = await ledgerOn(url);
    const key = { id: 'team-a', cap: 0.1 };
    const r1 = (await l.reserve(0.04, { backend: 'openai', key }))!;
    const r2 = (await l.reserve(0.04, { backend: 'openai', key }))!;
    assert.equal(await l.reserve(0.04, { backend: 'openai', key }), null, 'the key cap refuses a third');
    assert.ok(await l.reserve(0.04, { backend: 'openai' }), 'another key (or none) still has the month');
    await l.settle(r1.id, 0.03);
    await l.release(r2.id);
    assert.deepEqual(await l.keyStatus(key), {
      key: 'team-a',
      month: (await l.status()).month,
      spent: 0.03,
      reserved: 0,
      cap: 0.1,
      left: 0.07,
    });
    const s = await l.status();
    assert.equal(s.spent, 0.03);
    assert.equal(s.reserved, 0.04);
    const month = await l.month();
    assert.deepEqual(
      month.entries.map((e) => [e.cost, e.estimate]),
      [[0.03, 0.04]],
    );
    assert.equal(month.reservations.length, 1);
    await assert.rejects(
      l.settle('nope', 0.01),
      (e: unknown) => e instanceof RouteT2IError && e.code === 'ledger-unknown',
    );
  });

  it('settles at their estimates the reservations of a replica whose lease lapsed; a late settle puts the real cost in place', async () => {
    const url = await fresh();
    const dying = await ledgerOn(url, { leaseMs: 300 });
    const survivor = await ledgerOn(url, { leaseMs: 300 });
    const r = (await dying.reserve(0.05, { backend: 'bfl', note: 'p1' }))!;
    await survivor.reserve(0.02, { backend: 'bfl' });
    await dying.abandon(); // killed: no renewal, no goodbye
    // The survivor's own heartbeat settles it once the lease has lapsed.
    const entry = await until(
      async () => (await survivor.month()).entries.find((e) => e.id === r.id),
      'the lapsed reservation to be settled',
    );
    assert.equal(entry.cost, 0.05);
    assert.equal(entry.reconciled, true);
    assert.equal(entry.note, 'p1');
    let s = await survivor.status();
    assert.equal(s.spent, 0.05);
    assert.equal(s.reserved, 0.02, "the survivor's own reservation is untouched");
    // The call had been answered after all, for less: its settle replaces the estimate.
    await survivor.settle(r.id, 0.03);
    s = await survivor.status();
    assert.equal(s.spent, 0.03);
  });

  it('keeps PRS history and the cascade tally in the store', async () => {
    const url = await fresh();
    const [a, b] = [await ledgerOn(url), await ledgerOn(url)];
    await a.recordPrs([0.1, 0.2]);
    await b.recordPrs([0.3]);
    assert.deepEqual(await a.recentPrs(2), [0.2, 0.3]);
    const first = await a.countCascade(0.5, true);
    const second = await b.countCascade(0.5, true);
    assert.deepEqual([first.allowed, second.allowed], [true, false]);
    assert.deepEqual((await a.status()).cascade, { cascaded: 2, escalated: 1 });
    await b.uncountEscalation();
    assert.deepEqual((await a.status()).cascade, { cascaded: 2, escalated: 0 });
  });

  it('survives a database restart mid-run: every reservation is booked once, none lost', async () => {
    const url = await fresh();
    const [a, b] = [await ledgerOn(url, { monthlyCap: 100 }), await ledgerOn(url, { monthlyCap: 100 })];
    const settled: number[] = [];
    let restarted = false;
    const worker = async (l: PostgresLedger, k: number) => {
      for (let i = 0; i < 15; i++) {
        const r = await l.reserve(0.04, { backend: 'openai', note: `w${k}-${i}` });
        assert.ok(r);
        if (i === 5 && k === 0) {
          await cluster().restart('immediate');
          restarted = true;
        }
        await l.settle(r.id, 0.03);
        settled.push(0.03);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, k) => worker(k % 2 ? a : b, k)));
    assert.ok(restarted);
    const month = await a.month();
    assert.equal(month.entries.length, 8 * 15);
    assert.equal(new Set(month.entries.map((e) => e.note)).size, 8 * 15);
    assert.equal(month.reservations.length, 0);
    const s = await a.status();
    assert.equal(s.spent, Math.round(settled.reduce((x, y) => x + y, 0) * 1e9) / 1e9);
    assert.equal(s.reserved, 0);
  });

  it('says the database is unreachable, in one line, after its reconnect window', async () => {
    await assert.rejects(
      PostgresLedger.open({
        url: `postgres://postgres:secret@127.0.0.1:${cluster().port}/nosuchdb`,
        monthlyCap: 1,
        reconnectMs: 200,
      }),
      (e: unknown) => e instanceof RouteT2IError && /does not exist/.test(e.message) && !e.message.includes('secret'),
    );
  });
});
