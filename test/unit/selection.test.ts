import { strict as assert } from 'node:assert';
import { groupedFolds } from '../../src/router/evaluate';
import { fitRidge, predictRidge } from '../../src/router/model/ridge';
import { Rng } from '../../src/router/model/rng';
import { selectPrompts } from '../../src/router/selection';

describe('selectPrompts: the prompts to label first', () => {
  // Three tight clusters of prompts in a 2-d feature space, the third far away.
  const points = [
    [0, 0],
    [0.1, 0],
    [0, 0.1],
    [0.1, 0.1],
    [5, 5],
    [5.1, 5],
    [5, 5.1],
    [20, 0],
    [20.1, 0],
  ];
  const flat = points.flat();

  it('covers every cluster before taking a second prompt from any (diverse)', () => {
    const picked = selectPrompts(3, flat, 2);
    const cluster = (i: number) => (i < 4 ? 'a' : i < 7 ? 'b' : 'c');
    assert.deepEqual(new Set(picked.map(cluster)), new Set(['a', 'b', 'c']));
    assert.deepEqual(selectPrompts(3, flat, 2), picked, 'deterministic');
  });

  it('prefers, among equally far prompts, those the router is unsure of', () => {
    const uncertainty = points.map((_, i) => (i === 7 ? 1 : 0));
    assert.ok(selectPrompts(3, flat, 2, { uncertainty }).includes(7));
    assert.ok(!selectPrompts(3, flat, 2).includes(7));
  });

  it('returns at most the prompts there are, none for K = 0', () => {
    assert.equal(selectPrompts(50, flat, 2).length, points.length);
    assert.equal(new Set(selectPrompts(50, flat, 2)).size, points.length);
    assert.deepEqual(selectPrompts(0, flat, 2), []);
  });
});

describe('ridge head and grouped folds', () => {
  it('recovers a linear signal in closed form', () => {
    const rng = new Rng(3);
    const m = 200;
    const x = new Float64Array(m * 3);
    const y = new Float64Array(m * 2);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < 3; j++) x[i * 3 + j] = rng.normal();
      y[i * 2] = 0.5 + 0.1 * x[i * 3]! - 0.05 * x[i * 3 + 2]!;
      y[i * 2 + 1] = 0.7;
    }
    const [model] = fitRidge(
      { x, y, m, p: 3, q: 2 },
      Array.from({ length: m }, (_, i) => i),
      [1e-6],
    );
    const out = predictRidge(model!, [1, 0, 1]);
    assert.ok(Math.abs(out[0]! - (0.5 + 0.1 - 0.05)) < 1e-4, String(out[0]));
    assert.ok(Math.abs(out[1]! - 0.7) < 1e-9);
  });

  it('keeps every row of a prompt in one fold', () => {
    const keys = ['a', 'b', 'c', 'a', 'b', 'c', 'd', 'e', 'a'];
    const folds = groupedFolds(keys, 3, (xs) => new Rng(1).shuffle(xs));
    assert.equal(folds.flat().length, keys.length);
    for (const key of new Set(keys)) {
      const where = new Set(folds.map((f, i) => (f.some((r) => keys[r] === key) ? i : -1)).filter((i) => i >= 0));
      assert.equal(where.size, 1, `${key} is in one fold`);
    }
  });
});
