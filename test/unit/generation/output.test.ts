import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DispatchOutcome } from '../../../src/generation/dispatcher';
import { fileStem, saveOutcome } from '../../../src/generation/output';
import { parsePairs } from '../../../src/router/pairs';
import { RouteT2IError } from '../../../src/router/errors';
import { makePng } from '../../support/png';
import { tempDirs } from '../../support/tmp';

function outcome(id: string, colour: number): DispatchOutcome {
  const request = { prompt: `prompt ${id}`, width: 64, height: 64 };
  const result = {
    image: makePng(4, 4, [colour, 10, 10]),
    mime: 'image/png',
    backend: 'openai',
    model: 'm',
    cost: 0.04,
    timings: { totalMs: 10 },
  };
  return {
    id,
    request,
    plan: { id, action: 'cloud', why: 'planned', estimate: 0.04, maxEstimate: 0.04 },
    route: 'cloud',
    why: 'because',
    result,
    attempts: [{ side: 'cloud', backend: 'openai', ok: true, cost: 0.04, estimate: 0.04, role: 'planned', result }],
    cost: 0.04,
  };
}

describe('outputs and pairs that never collide', () => {
  const tmp = tempDirs();

  it('gives distinct ids distinct file names, even where they clean to the same text or differ only in case', () => {
    const ids = ['cat/1', 'cat_1', 'ﬁsh', 'fish', 'Cat_1', 'a.edge', 'a', 'x'.repeat(100), 'x'.repeat(101), '..', ''];
    const stems = ids.map(fileStem);
    assert.equal(new Set(stems.map((s) => s.toLowerCase())).size, ids.length);
    assert.equal(fileStem('cat_1'), 'cat_1', 'a plain id is its own name');
    assert.equal(fileStem('p1'), 'p1');
    for (const s of stems) assert.match(s, /^[\w-]+$/);
    assert.equal(fileStem('cat/1'), fileStem('cat/1'), 'stable across runs');
  });

  it('saves both images of ids that clean alike, and each sidecar names its own image', async () => {
    const dir = tmp();
    const a = await saveOutcome(dir, outcome('cat/1', 10), { mode: 'predict', budget: 0.3, alpha: 0.4 });
    const b = await saveOutcome(dir, outcome('cat_1', 200), { mode: 'predict', budget: 0.3, alpha: 0.4 });
    assert.notEqual(a.image, b.image);
    assert.equal(readdirSync(dir).length, 4);
    for (const [saved, id, colour] of [
      [a, 'cat/1', 10],
      [b, 'cat_1', 200],
    ] as const) {
      const side = JSON.parse(readFileSync(saved.sidecar, 'utf8')) as { id: string; image: string };
      assert.equal(side.id, id);
      assert.equal(join(dir, side.image), saved.image);
      assert.deepEqual(readFileSync(saved.image), makePng(4, 4, [colour, 10, 10]));
    }
  });

  it('train refuses a pairs file that repeats an id, naming it and both lines', () => {
    const line = (id: string) => JSON.stringify({ id, prompt: 'a cat', edge: { q: 0.5 }, cloud: { q: 0.6 } });
    assert.throws(
      () => parsePairs([line('p1'), line('p2'), line('p1')].join('\n'), 'pairs.jsonl'),
      (e: RouteT2IError) => e.code === 'bad-pairs' && /pairs\.jsonl:3: id "p1" repeats line 1/.test(e.message),
    );
    assert.equal(parsePairs([line('p1'), line('p2')].join('\n'), 'pairs.jsonl').length, 2);
  });
});
