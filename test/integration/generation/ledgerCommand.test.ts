import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../../../src/generation/ledger';
import { runCommand } from '../../support/runCommand';

/** `routet2i ledger`: the month as the ledger holds it, reconcile and repair, with the ledger beside the config file. */

describe('routet2i ledger', () => {
  function workspace(): { dir: string; sub: string; file: string } {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-cmd-'));
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    writeFileSync(join(dir, 'routet2i.config.yaml'), 'monthlyCap: 1\nledger: money/ledger.json\n');
    return { dir, sub, file: join(dir, 'money', 'ledger.json') };
  }

  it("shows spent, reserved, cap and entries of the config file's ledger, from any folder", async () => {
    const { dir, sub, file } = workspace();
    const { ledger } = await Ledger.open({ file, monthlyCap: 1 });
    const a = (await ledger.reserve(0.04, { backend: 'openai', note: 'p1' }))!;
    await ledger.settle(a.id, 0.035);
    await ledger.reserve(0.05, { backend: 'bfl', note: 'p2' });
    const r = await runCommand(['ledger', '--config', '../routet2i.config.yaml', '--json'], { cwd: sub });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ledger, file);
    assert.deepEqual([out.spent, out.reserved, out.cap, out.left], [0.035, 0.05, 1, 0.915]);
    assert.deepEqual(
      out.entries.map((e: { note: string; cost: number }) => [e.note, e.cost]),
      [['p1', 0.035]],
    );
    assert.deepEqual(
      out.reservations.map((x: { note: string }) => x.note),
      ['p2'],
    );
    const text = await runCommand(['ledger'], { cwd: dir });
    assert.match(text.stdout, /spent \$0\.035, reserved \$0\.05, cap \$1\.00, left \$0\.92/);
    assert.match(text.stdout, /openai\s+\$0\.035\s+estimate \$0\.04\s+p1/);
  });

  it('--reconcile settles leftovers of runs that are gone, and says so', async () => {
    const { dir, file } = workspace();
    const { ledger } = await Ledger.open({ file, monthlyCap: 1, pid: 999_999, isAlive: () => true });
    await ledger.reserve(0.05, { backend: 'bfl', note: 'left behind' });
    const r = await runCommand(['ledger', '--reconcile'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Settled 1 leftover reservation at its estimate \(\$0\.05\)/);
    assert.match(r.stdout, /spent \$0\.05, reserved \$0\.00/);
  });

  it('names a damaged ledger and repairs it on request', async () => {
    const { dir, file } = workspace();
    mkdirSync(join(dir, 'money'));
    writeFileSync(file, '{"version": 1, "months": []}');
    const shown = await runCommand(['ledger'], { cwd: dir });
    assert.equal(shown.code, 1);
    assert.match(
      shown.stderr,
      /^routet2i ledger: the ledger .*ledger\.json is damaged \("months" must be an object keyed by month \(got a list\)\)/,
    );
    assert.doesNotMatch(shown.stderr, /\n\s+at /);
    const fixed = await runCommand(['ledger', '--repair'], { cwd: dir });
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stderr, /Moved the damaged ledger to .*ledger\.json\.damaged-/);
    assert.equal(readdirSync(join(dir, 'money')).filter((f) => f.includes('.damaged-')).length, 1);
    assert.ok(existsSync(file));
    assert.equal((await runCommand(['ledger'], { cwd: dir })).code, 0);
  });
});
