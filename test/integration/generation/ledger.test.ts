import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ledger, monthKey } from '../../../src/generation/ledger';
import { RouteT2IError } from '../../../src/router/errors';

const run = promisify(execFile);
const WORKER = join(__dirname, '../../fixtures/ledger-worker.ts');

function worker(args: (string | number)[]): Promise<{ stdout: string }> {
  return run(process.execPath, ['--require', 'tsx/cjs', WORKER, ...args.map(String)], {
    cwd: join(__dirname, '../../..'),
  });
}

function tmpLedger(): string {
  return join(mkdtempSync(join(tmpdir(), 'ledger-')), '.routet2i', 'ledger.json');
}

describe('money ledger', () => {
  it('never lets concurrent reservations pass the cap (one process, 60 at once)', async () => {
    const { ledger } = await Ledger.open({ file: tmpLedger(), monthlyCap: 1 });
    const got = await Promise.all(Array.from({ length: 60 }, () => ledger.reserve(0.07, { backend: 'openai' })));
    const won = got.filter((r) => r !== null);
    assert.equal(won.length, 14); // 14 × 0.07 = 0.98 ≤ 1 < 1.05
    const s = await ledger.status();
    assert.equal(s.reserved, 0.98);
    assert.equal(s.spent, 0);
    assert.ok(Math.abs(s.left - 0.02) < 1e-9);
  });

  it('settles real costs and releases failures, freeing the difference', async () => {
    const { ledger } = await Ledger.open({ file: tmpLedger(), monthlyCap: 0.1 });
    const a = (await ledger.reserve(0.04, { backend: 'openai' }))!;
    const b = (await ledger.reserve(0.04, { backend: 'openai' }))!;
    assert.equal(await ledger.reserve(0.04, { backend: 'openai' }), null);
    await ledger.settle(a.id, 0.03);
    await ledger.release(b.id);
    const s = await ledger.status();
    assert.deepEqual([s.spent, s.reserved], [0.03, 0]);
    assert.ok(await ledger.reserve(0.07, { backend: 'bfl' }));
    await assert.rejects(ledger.settle('nope', 1), /no reservation nope/);
  });

  it('holds the cap across processes sharing the file', async function () {
    this.timeout(60_000);
    const file = tmpLedger();
    await Ledger.open({ file, monthlyCap: 1 });
    const startAt = Date.now() + 2500;
    const outs = await Promise.all([1, 2, 3].map(() => worker([file, 1, 0.05, 12, 'spend', startAt])));
    const won = outs.reduce((n, o) => n + JSON.parse(o.stdout).won, 0);
    assert.equal(won, 20, '20 × 0.05 = the cap exactly; 36 tried');
    const { ledger } = await Ledger.open({ file, monthlyCap: 1 });
    const s = await ledger.status();
    assert.equal(s.spent, 1);
    assert.equal(s.reserved, 0);
    assert.deepEqual(readdirSync(join(file, '..')).sort(), ['ledger.json'], 'no temp or lock files left');
  });

  it('reconciles a crash between reserve and settle as spent at the estimate', async function () {
    this.timeout(30_000);
    const file = tmpLedger();
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', WORKER, file, '1', '0.3', '1', 'crash'], {
      cwd: join(__dirname, '../../..'),
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise((r) => child.on('exit', r));
    const { id } = JSON.parse(out);
    const before = JSON.parse(readFileSync(file, 'utf8'));
    assert.ok(before.months[monthKey(new Date())].reservations[id], 'the crashed process left its reservation');
    const { ledger, reconciled } = await Ledger.open({ file, monthlyCap: 1 });
    assert.deepEqual(
      reconciled.map((e) => [e.id, e.cost, e.reconciled]),
      [[id, 0.3, true]],
    );
    const s = await ledger.status();
    assert.deepEqual([s.spent, s.reserved], [0.3, 0]);
  });

  it("keeps a live process's reservation and another host's, until they are a day old", async () => {
    const file = tmpLedger();
    const now = new Date('2025-03-10T12:00:00Z');
    const other = await Ledger.open({ file, monthlyCap: 5, host: 'laptop-b', pid: 4242, now: () => now });
    await other.ledger.reserve(1, { backend: 'fal' });
    const live = await Ledger.open({ file, monthlyCap: 5, pid: 77, host: 'here', isAlive: () => true, now: () => now });
    await live.ledger.reserve(1, { backend: 'fal' });
    // An hour later, from this host: the remote one is not stale yet, the local owner is alive.
    const later = new Date(now.getTime() + 3600_000);
    const again = await Ledger.open({
      file,
      monthlyCap: 5,
      host: 'here',
      pid: 78,
      isAlive: () => true,
      now: () => later,
    });
    assert.equal(again.reconciled.length, 0);
    // A day and more later both are leftovers, whatever their pids say now (a pid may have been reused).
    const dayAfter = new Date(now.getTime() + 25 * 3600_000);
    const last = await Ledger.open({
      file,
      monthlyCap: 5,
      host: 'here',
      pid: 79,
      isAlive: () => true,
      now: () => dayAfter,
    });
    assert.deepEqual(
      last.reconciled.map((e) => e.backend),
      ['fal', 'fal'],
    );
    assert.equal((await last.ledger.status()).spent, 2);
  });

  it('recovers a lock left by a dead process and a lock too old to be live', async () => {
    const file = tmpLedger();
    const { ledger } = await Ledger.open({ file, monthlyCap: 1, isAlive: (pid) => pid !== 999_999 });
    const { hostname } = await import('node:os');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 999_999, host: hostname(), at: Date.now() }));
    const started = Date.now();
    assert.ok(await ledger.reserve(0.1, { backend: 'openai' }));
    assert.ok(Date.now() - started < 2000);
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', at: Date.now() - 60_000 }));
    const { utimesSync } = await import('node:fs');
    utimesSync(`${file}.lock`, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    assert.ok(await ledger.reserve(0.1, { backend: 'openai' }));
    assert.equal(existsSync(`${file}.lock`), false);
  });

  it('gives up with a clear error when a live lock is never released', async () => {
    const file = tmpLedger();
    const { ledger } = await Ledger.open({ file, monthlyCap: 1, lockTimeoutMs: 150 });
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', at: Date.now() }));
    await assert.rejects(
      ledger.reserve(0.1, { backend: 'openai' }),
      (e: RouteT2IError) => e.code === 'ledger-busy' && /stayed locked/.test(e.message),
    );
  });

  it('refuses to spend on a damaged ledger, naming the file', async () => {
    const file = tmpLedger();
    await Ledger.open({ file, monthlyCap: 1 });
    writeFileSync(file, '{"version": 1, "months": {"2025-01": {"entries": [{"cost": "lots"}], "reservations": {}}}}');
    await assert.rejects(
      Ledger.open({ file, monthlyCap: 1 }),
      (e: RouteT2IError) => e.code === 'ledger-damaged' && e.message.includes(file),
    );
    writeFileSync(file, '{"version": 1, "mon');
    await assert.rejects(Ledger.open({ file, monthlyCap: 1 }), /not valid JSON/);
  });

  it('starts each month afresh (UTC months)', async () => {
    const file = tmpLedger();
    let now = new Date('2025-01-31T23:59:00Z');
    const { ledger } = await Ledger.open({ file, monthlyCap: 0.1, now: () => now });
    const r = (await ledger.reserve(0.1, { backend: 'openai' }))!;
    assert.equal(await ledger.reserve(0.01, { backend: 'openai' }), null);
    now = new Date('2025-02-01T00:01:00Z');
    await ledger.settle(r.id, 0.1);
    assert.ok(await ledger.reserve(0.1, { backend: 'openai' }));
    const data = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(data.months).sort(), ['2025-01', '2025-02']);
    assert.equal(data.months['2025-01'].entries[0].cost, 0.1);
  });

  it('without a cap it still records spending', async () => {
    const { ledger } = await Ledger.open({ file: tmpLedger(), monthlyCap: null });
    const r = (await ledger.reserve(50, { backend: 'openai' }))!;
    await ledger.settle(r.id, 49.5);
    const s = await ledger.status();
    assert.equal(s.spent, 49.5);
    assert.equal(s.left, Infinity);
  });

  it("keeps cascade's cloud share for the month: one prompt at a time, in parallel, taken back, and checked on read", async () => {
    const file = tmpLedger();
    let now = new Date('2025-03-10T12:00:00Z');
    const { ledger } = await Ledger.open({ file, monthlyCap: null, now: () => now });
    // ρ = 0.3, every prompt falling short, generated one at a time as the editor does: the 1st, 4th and 7th escalate (⌈0.3·10⌉ = 3).
    const allowed: boolean[] = [];
    for (let i = 0; i < 10; i++) allowed.push((await ledger.countCascade(0.3, true)).allowed);
    assert.deepEqual(allowed.map((a, i) => (a ? i + 1 : 0)).filter(Boolean), [1, 4, 7]);
    assert.deepEqual((await ledger.status()).cascade, { cascaded: 10, escalated: 3 });
    // A prompt that met the bar counts as cascaded and is never "allowed".
    assert.equal((await ledger.countCascade(0.3, false)).allowed, false);
    // Taken back when no cloud image came of it.
    await ledger.uncountEscalation();
    assert.deepEqual((await ledger.status()).cascade, { cascaded: 11, escalated: 2 });
    // Twenty at once in a new month: exactly ⌈0.3·20⌉ = 6 escalate, whatever the interleaving.
    now = new Date('2025-04-01T00:00:00Z');
    const burst = await Promise.all(Array.from({ length: 20 }, () => ledger.countCascade(0.3, true)));
    assert.equal(burst.filter((b) => b.allowed).length, 6);
    assert.deepEqual((await ledger.status()).cascade, { cascaded: 20, escalated: 6 });
    const data = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(data.months['2025-03'].cascade, { cascaded: 11, escalated: 2 });
    // A tally that cannot be true is a damaged ledger.
    data.months['2025-04'].cascade = { cascaded: 2, escalated: 5 };
    writeFileSync(file, JSON.stringify(data));
    await assert.rejects(
      ledger.status(),
      (e: RouteT2IError) => e.code === 'ledger-damaged' && /2025-04: the cascade tally/.test(e.message),
    );
  });

  describe('strict validation: a damaged file is named and nothing is spent until it is repaired', () => {
    const month = monthKey(new Date());
    const entry = { id: 'e1', backend: 'openai', cost: 0.04, estimate: 0.04, at: new Date().toISOString() };
    const cases: [string, string, RegExp][] = [
      [
        '"months": []',
        JSON.stringify({ version: 1, months: [] }),
        /"months" must be an object keyed by month \(got a list\)/,
      ],
      [
        '"reservations": []',
        JSON.stringify({ version: 1, months: { [month]: { entries: [entry], reservations: [] } } }),
        /"reservations" must be an object keyed by reservation id \(got a list\)/,
      ],
      [
        'a null entry',
        JSON.stringify({ version: 1, months: { [month]: { entries: [entry, null], reservations: {} } } }),
        /entry 2 is null, not an object/,
      ],
      ['a null month', JSON.stringify({ version: 1, months: { [month]: null } }), /is null/],
      [
        '1e999',
        `{"version": 1, "months": {"${month}": {"entries": [{"id": "e1", "backend": "openai", "cost": 1e999, "estimate": 0.04, "at": "${entry.at}"}], "reservations": {}}}}`,
        /entry 1 has no valid cost \(null\)/,
      ],
      ['an empty file', '', /it is empty/],
    ];
    for (const [name, text, why] of cases) {
      it(name, async () => {
        const file = tmpLedger();
        await Ledger.open({ file, monthlyCap: 1 });
        writeFileSync(file, text);
        const damaged = (e: RouteT2IError) =>
          e.code === 'ledger-damaged' &&
          e.message.includes(file) &&
          why.test(e.message) &&
          /routet2i ledger --repair/.test(e.hint ?? '');
        await assert.rejects(Ledger.open({ file, monthlyCap: 1 }), damaged);
        const ledger = Ledger.at({ file, monthlyCap: 1 });
        await assert.rejects(ledger.reserve(0.01, { backend: 'openai' }), damaged);
        assert.equal(readFileSync(file, 'utf8'), text, 'nothing written over it');
      });
    }

    it('--repair keeps every readable record, moves the damaged file aside and says what it dropped', async () => {
      const file = tmpLedger();
      await Ledger.open({ file, monthlyCap: 1 });
      const reservation = {
        id: 'r1',
        backend: 'bfl',
        estimate: 0.05,
        at: new Date().toISOString(),
        pid: 1,
        host: 'elsewhere',
      };
      const text = JSON.stringify({
        version: 1,
        months: {
          [month]: { entries: [entry, null, { ...entry, id: 'e3', cost: 'lots' }], reservations: { r1: reservation } },
        },
      });
      writeFileSync(file, text);
      const ledger = Ledger.at({ file, monthlyCap: 1 });
      const done = await ledger.repair();
      assert.ok(done);
      assert.equal(readFileSync(done.movedTo, 'utf8'), text, 'the damaged file is kept as it was');
      assert.deepEqual([done.entries, done.reservations], [1, 1]);
      assert.equal(done.dropped.length, 2);
      assert.match(done.dropped.join('\n'), /entry 2 \(is null.*\n.*entry 3 \(has no valid cost/);
      const s = await ledger.status();
      assert.deepEqual([s.spent, s.reserved], [0.04, 0.05]);
      assert.equal(await ledger.repair(), undefined, 'a sound ledger needs nothing');
    });
  });

  it('recovers an empty lock (a process killed while taking it) before a waiting run gives up', async () => {
    const file = tmpLedger();
    const { ledger } = await Ledger.open({ file, monthlyCap: 1, lockTimeoutMs: 20_000 });
    writeFileSync(`${file}.lock`, '');
    const { utimesSync } = await import('node:fs');
    const old = new Date(Date.now() - 5000);
    utimesSync(`${file}.lock`, old, old);
    assert.ok(await ledger.reserve(0.1, { backend: 'openai' }));
    assert.equal(existsSync(`${file}.lock`), false);
  });

  it('breaks a stale lock by default before the default wait gives up', async () => {
    const file = tmpLedger();
    const { ledger } = await Ledger.open({ file, monthlyCap: 1 });
    writeFileSync(
      `${file}.lock`,
      JSON.stringify({ pid: 4242, host: 'another-host', at: Date.now() - 60_000, nonce: 'x' }),
    );
    const { utimesSync } = await import('node:fs');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    assert.ok(await ledger.reserve(0.1, { backend: 'openai' }));
  });

  it('a process killed while holding the lock (a closed pipe, kill -9) does not block the next run', async () => {
    const file = tmpLedger();
    await Ledger.open({ file, monthlyCap: 1 });
    // The worker reserves, then dies at once: its lock, if any, and its reservation stay behind.
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', WORKER, file, '1', '0.3', '1', 'crash'], {
      cwd: join(__dirname, '../../..'),
    });
    await new Promise((r) => child.on('close', r));
    const { hostname } = await import('node:os');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: child.pid, host: hostname(), at: Date.now(), nonce: 'x' }));
    const { ledger, reconciled } = await Ledger.open({ file, monthlyCap: 1, lockTimeoutMs: 20_000 });
    assert.equal(reconciled.length, 1, 'its reservation counts as spent');
    assert.ok(await ledger.reserve(0.1, { backend: 'openai' }));
  });
});
