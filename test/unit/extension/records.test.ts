import { strict as assert } from 'node:assert';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGallery, readLedgerEntries } from '../../../src/extension/panel/records';
import { Ledger } from '../../../src/generation/ledger';
import { saveOutcome } from '../../../src/generation/output';
import type { DispatchOutcome } from '../../../src/generation/dispatcher';
import { makePng } from '../../support/png';
import { tempDirs } from '../../support/tmp';

function outcome(id: string, route: 'edge' | 'cloud', cost: number): DispatchOutcome {
  const request = { prompt: `prompt ${id}`, width: 64, height: 64 };
  const result = {
    image: makePng(4, 4, [200, 10, 10]),
    mime: 'image/png',
    backend: route === 'edge' ? 'a1111' : 'openai',
    model: 'm',
    cost,
    timings: { totalMs: 10 },
  };
  return {
    id,
    request,
    plan: { id, action: route, why: 'planned', estimate: cost, maxEstimate: cost },
    route,
    why: 'because',
    result,
    attempts: [{ side: route, backend: result.backend, ok: true, cost, estimate: cost, role: 'planned', result }],
    cost,
  };
}

describe('generation records', () => {
  const tmp = tempDirs();

  it('reads the gallery from the sidecars, newest first, skipping files that are not ours', async () => {
    const dir = tmp();
    await saveOutcome(dir, outcome('a', 'edge', 0), {
      mode: 'predict',
      budget: 0.3,
      alpha: 0.4,
      predicted: { edge: { q: 0.5 }, cloud: { q: 0.7 }, prs: 0.3, pareto: 'cloud-dominates' },
    });
    await new Promise((r) => setTimeout(r, 5));
    await saveOutcome(dir, outcome('b', 'cloud', 0.04), { mode: 'predict', budget: 0.3, alpha: 0.4 });
    writeFileSync(join(dir, 'notes.json'), '{"hello": 1}');
    writeFileSync(join(dir, 'broken.json'), '{');
    writeFileSync(join(dir, 'orphan.json'), JSON.stringify({ version: 1, image: 'gone.png', route: 'edge' }));
    const items = await readGallery(dir, 10);
    assert.deepEqual(
      items.map((i) => i.id),
      ['b', 'a'],
    );
    assert.equal(items[0]!.route, 'cloud');
    assert.equal(items[0]!.cost, 0.04);
    assert.equal(items[0]!.image, join(dir, 'b.png'));
    assert.deepEqual(items[1]!.predicted, { edge: { q: 0.5 }, cloud: { q: 0.7 }, prs: 0.3 });
    assert.equal((await readGallery(dir, 1)).length, 1);
    assert.deepEqual(await readGallery(join(dir, 'missing'), 10), []);
  });

  it('shows only images inside the output folder, whatever a sidecar says', async () => {
    const outside = tmp();
    writeFileSync(join(outside, 'secret.png'), 'not for the gallery');
    const dir = tmp();
    await saveOutcome(dir, outcome('a', 'edge', 0), { mode: 'predict', budget: 0.3, alpha: 0.4 });
    const sidecar = (image: string) =>
      JSON.stringify({ version: 1, image, route: 'edge', id: image, createdAt: '2026-11-01T00:00:00Z' });
    writeFileSync(join(dir, 'up.json'), sidecar('../../../../../../etc/passwd'));
    writeFileSync(join(dir, 'absolute.json'), sidecar(join(outside, 'secret.png')));
    symlinkSync(join(outside, 'secret.png'), join(dir, 'link.png'));
    writeFileSync(join(dir, 'link.json'), sidecar('link.png'));
    writeFileSync(join(dir, 'self.json'), sidecar('.'));
    const items = await readGallery(dir, 10);
    assert.deepEqual(
      items.map((i) => i.id),
      ['a'],
    );
  });

  it("reads this month's ledger entries newest first, and nothing from a missing or foreign file", async () => {
    const dir = tmp();
    const file = join(dir, 'ledger.json');
    const now = new Date('2026-11-26T10:00:00Z');
    const { ledger } = await Ledger.open({ file, monthlyCap: null, now: () => now });
    for (const cost of [0.01, 0.02]) {
      const r = (await ledger.reserve(cost, { backend: 'openai', note: String(cost) }))!;
      await ledger.settle(r.id, cost);
    }
    assert.deepEqual(
      (await readLedgerEntries(file, '2026-11')).map((e) => e.cost),
      [0.02, 0.01],
    );
    assert.deepEqual(await readLedgerEntries(file, '2026-10'), []);
    assert.deepEqual(await readLedgerEntries(join(dir, 'none.json'), '2026-11'), []);
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'l.json'), '{"version": 2}');
    assert.deepEqual(await readLedgerEntries(join(dir, 'x', 'l.json'), '2026-11'), []);
  });
});
