import { strict as assert } from 'node:assert';
import { kFolds, routingCurve } from '../../src/router/evaluate';
import { Rng } from '../../src/router/model/rng';

describe('router evaluation (APGR, CPT, PGR)', () => {
  const edge = [0.5, 0.5, 0.5, 0.5];
  const cloud = [0.9, 0.7, 0.5, 0.3]; // gaps 0.4, 0.2, 0, −0.2: total 0.4

  it('computes the exact curve and its area for a known order', () => {
    const c = routingCurve([4, 3, 2, 1], edge, cloud);
    assert.deepEqual(
      Array.from(c.pgr).map((x) => Math.round(x * 1000) / 1000),
      [0, 1, 1.5, 1.5, 1],
    );
    // Trapezoids over shares 0, .25, .5, .75, 1.
    assert.ok(Math.abs(c.apgr - (0.5 + 1.25 + 1.5 + 1.25) / 4) < 1e-12);
    assert.ok(Math.abs(c.cpt50 - 0.125) < 1e-12, 'PGR reaches 0.5 halfway to the first prompt');
    assert.ok(Math.abs(c.pgr50 - 1.5) < 1e-12);
  });

  it('gives random routing (all tied) PGR(s) = s exactly', () => {
    const c = routingCurve([0, 0, 0, 0], edge, cloud);
    assert.ok(Math.abs(c.apgr - 0.5) < 1e-12);
    assert.ok(Math.abs(c.cpt50 - 0.5) < 1e-12);
    assert.ok(Math.abs(c.pgr50 - 0.5) < 1e-12);
  });

  it('routes ties as their average, whatever the input order', () => {
    const a = routingCurve([1, 1, 0, 0], edge, cloud);
    const b = routingCurve([0, 0, 1, 1], edge.slice().reverse(), cloud.slice().reverse());
    assert.ok(Math.abs(a.apgr - b.apgr) < 1e-12);
  });

  it('refuses data where the cloud is not better on average', () => {
    assert.throws(() => routingCurve([1, 2], [0.5, 0.5], [0.5, 0.4]), /not better than the edge on average/);
  });

  it('makes seeded folds of near-equal size covering every index once', () => {
    const folds = kFolds(11, 3, (xs) => new Rng(4).shuffle(xs));
    assert.deepEqual(folds.map((f) => f.length).sort(), [3, 4, 4]);
    assert.deepEqual(
      folds.flat().sort((a, b) => a - b),
      Array.from({ length: 11 }, (_, i) => i),
    );
    assert.deepEqual(
      kFolds(11, 3, (xs) => new Rng(4).shuffle(xs)),
      folds,
    );
    assert.throws(() => kFolds(2, 3, (xs) => xs), /at least 3 pairs/);
  });
});
