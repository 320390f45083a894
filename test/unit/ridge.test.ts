import { strict as assert } from 'node:assert';
import { LexicalEncoder } from '../../src/router/encoders';
import { renderModelCard } from '../../src/router/model/card';
import { fitPredictor, prepareData } from '../../src/router/training';
import { syntheticPairs } from '../support/pairs';
import {
  ridgeStats,
  ridgeStatsFromSums,
  ridgeSums,
  solveRidge,
  subtractSums,
  type RidgeData,
} from '../../src/router/model/ridge';
import { innerFolds } from '../../src/router/model/ridgeSelect';
import { Rng } from '../../src/router/model/rng';

/** Random data: sparse count-like columns, a dense column, a constant column; some targets missing. */
function data(m: number, seed = 5): RidgeData {
  const rng = new Rng(seed);
  const p = 5;
  const q = 2;
  const x = new Float64Array(m * p);
  const y = new Float64Array(m * q);
  for (let i = 0; i < m; i++) {
    x[i * p] = rng.next() < 0.3 ? 1 + Math.floor(rng.next() * 3) : 0;
    x[i * p + 1] = rng.normal();
    x[i * p + 2] = 0.1 * rng.normal() + 3;
    x[i * p + 3] = 2; // constant
    x[i * p + 4] = rng.next() < 0.1 ? 1 : 0;
    y[i * q] = 0.3 * x[i * p]! - 0.2 * x[i * p + 1]! + 0.1 * rng.normal();
    y[i * q + 1] = i % 7 === 0 ? NaN : 0.5 + 0.1 * x[i * p + 2]! + 0.05 * rng.normal();
  }
  return { x, y, m, p, q };
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

describe('ridge statistics and solve', () => {
  it('the statistics of a pool minus a fold equal those computed on the rest directly', () => {
    const d = data(120);
    const all = Array.from({ length: d.m }, (_, i) => i);
    const fold = all.filter((i) => i % 4 === 1);
    const rest = all.filter((i) => i % 4 !== 1);
    const direct = ridgeStats(d, rest);
    const viaSums = ridgeStatsFromSums(subtractSums(ridgeSums(d, all), ridgeSums(d, fold)));
    close(viaSums.mean, direct.mean, 1e-9, 'mean');
    close(viaSums.sd, direct.sd, 1e-9, 'sd');
    close(viaSums.gram, direct.gram, 1e-7, 'gram');
    close(viaSums.xty, direct.xty, 1e-7, 'xty');
    close(viaSums.ymean, direct.ymean, 1e-12, 'ymean');
    assert.equal(direct.sd[3], 1, 'a constant column gets sd 1');
    assert.equal(direct.gram[3 * 5 + 3], 0, 'and contributes nothing');
  });

  it('a missing target is the mean of the present ones (no pull either way)', () => {
    const d = data(70);
    const rows = Array.from({ length: d.m }, (_, i) => i);
    const present = rows.filter((i) => !Number.isNaN(d.y[i * 2 + 1]!));
    const s = ridgeStats(d, rows);
    const ys = present.map((i) => d.y[i * 2 + 1]!);
    assert.ok(Math.abs(s.ymean[1]! - ys.reduce((a, b) => a + b, 0) / ys.length) < 1e-12);
    // Σ z_j (y − ȳ) over present rows, with z from all rows' mean and sd.
    for (let j = 0; j < 5; j++) {
      let e = 0;
      for (const i of present) e += ((d.x[i * 5 + j]! - s.mean[j]!) / s.sd[j]!) * (d.y[i * 2 + 1]! - s.ymean[1]!);
      assert.ok(Math.abs(s.xty[j * 2 + 1]! - e) < 1e-8, `xty column ${j}`);
    }
  });

  it('a column weighted 0 gets coefficient 0, and the rest equal a fit without that column', () => {
    const d = data(150);
    const rows = Array.from({ length: d.m }, (_, i) => i);
    const dropped = solveRidge(ridgeStats(d, rows), 3, [1, 0, 1, 1, 1]);
    assert.equal(dropped.coef[1], 0);
    assert.equal(dropped.coef[5 + 1], 0);
    // The same data without column 1.
    const keep = [0, 2, 3, 4];
    const x = new Float64Array(d.m * 4);
    for (let i = 0; i < d.m; i++) keep.forEach((j, c) => (x[i * 4 + c] = d.x[i * 5 + j]!));
    const small = solveRidge(ridgeStats({ ...d, x, p: 4 }, rows), 3);
    for (let t = 0; t < 2; t++)
      close(
        keep.map((j) => dropped.coef[t * 5 + j]! / dropped.scale[j]!),
        keep.map((_, c) => small.coef[t * 4 + c]! / small.scale[c]!),
        1e-9,
        `target ${t}`,
      );
    // A half weight is a 4× penalty: the coefficient shrinks, but not to 0.
    const half = solveRidge(ridgeStats(d, rows), 3, [1, 0.5, 1, 1, 1]);
    const full = solveRidge(ridgeStats(d, rows), 3);
    assert.ok(Math.abs(half.coef[1]!) > 0 && Math.abs(half.coef[1]!) < Math.abs(full.coef[1]!));
  });
});

describe('inner folds of the ridge choice', () => {
  it('keep every row of a repeated prompt in one fold, and cover each row once', () => {
    const keys = Array.from({ length: 60 }, (_, i) => `prompt ${i % 20}`);
    const rows = Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 5 !== 0);
    const folds = innerFolds(rows, 5, 1, keys);
    assert.deepEqual(
      folds.flat().sort((a, b) => a - b),
      rows.map((_, j) => j),
    );
    for (const fold of folds) {
      const inFold = new Set(fold.map((j) => keys[rows[j]!]));
      for (const other of folds)
        if (other !== fold) for (const j of other) assert.ok(!inFold.has(keys[rows[j]!]), 'a prompt in two folds');
    }
  });

  it('are plain K-fold when every prompt is distinct', () => {
    const keys = Array.from({ length: 30 }, (_, i) => `p${i}`);
    const rows = keys.map((_, i) => i);
    const folds = innerFolds(rows, 5, 2, keys);
    assert.equal(folds.length, 5);
    assert.ok(folds.every((f) => f.length === 6));
  });
});

describe('model card provenance', function () {
  this.timeout(120_000);
  it('names the labels and the model pair the training pairs record, and nothing where they record none', async () => {
    const encoder = new LexicalEncoder();
    const plain = syntheticPairs(40, 2);
    const recorded = plain.map((p) => ({
      ...p,
      labels: { kind: 'human', dataset: 'GenAI-Bench' },
      models: { edge: 'sd2.1', cloud: 'dalle3' },
    }));
    const card = async (pairs: typeof plain) => {
      const data = await prepareData(pairs, encoder);
      const { predictor } = fitPredictor(data, encoder, { name: 'card' });
      return { card: renderModelCard(predictor.file), file: predictor.file };
    };
    const withProvenance = await card(recorded);
    assert.deepEqual(withProvenance.file.training.data.pair, { edge: 'sd2.1', cloud: 'dalle3' });
    assert.match(withProvenance.card, /\| labels \| human ratings \(GenAI-Bench\) \|/);
    assert.match(withProvenance.card, /\| model pair \| sd2\.1 \(edge\) → dalle3 \(cloud\) \|/);
    const without = await card(plain);
    assert.doesNotMatch(without.card, /\| labels \||\| model pair \|/);
  });
});
