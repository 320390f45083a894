import assert from 'node:assert/strict';
import {
  anchorFor,
  curveArea,
  curveAt,
  curveDomain,
  curvePath,
  pct,
  pctText,
  prsTopLabels,
  ticks,
} from '../../../webview/lib/chart';

describe('panel charts', () => {
  it('places values on an axis in percent, clamped to it', () => {
    assert.equal(pct(0.25), 25);
    assert.equal(pct(-1), 0);
    assert.equal(pct(3), 100);
    assert.equal(pct(5, 0, 10), 50);
    assert.equal(pct(Number.NaN), 0);
    assert.equal(pct(1, 1, 1), 0);
    assert.equal(pctText(1 / 3), '33.33%');
  });

  it('draws the quality curve in a 100 × 100 box, y down, sorted by share', () => {
    const curve = [
      { share: 1, pgr: 1 },
      { share: 0, pgr: 0 },
      { share: 0.5, pgr: 0.6 },
    ];
    assert.equal(curvePath(curve), 'M0 100 L50 40 L100 0');
    assert.equal(curveArea(curve), 'M0 100 L50 40 L100 0 L100 100 L0 100 Z');
    assert.equal(curvePath([{ share: 0, pgr: 0 }]), '');
    assert.equal(curveArea([]), '');
  });

  it("widens the y range when the router overshoots, and keeps 0 as the area's base", () => {
    const curve = [
      { share: 0, pgr: -0.2 },
      { share: 0.5, pgr: 1.3 },
      { share: 1, pgr: 1 },
    ];
    assert.deepEqual(curveDomain(curve), { lo: -0.2, hi: 1.3 });
    assert.equal(curvePath(curve), 'M0 100 L50 0 L100 20');
    // y = 0 sits at (1.3 − 0) / 1.5 of the height from the top.
    assert.match(curveArea(curve), / L100 86\.67 L0 86\.67 Z$/);
  });

  it('reads the curve between its points', () => {
    const curve = [
      { share: 0, pgr: 0 },
      { share: 0.2, pgr: 0.4 },
      { share: 1, pgr: 1 },
    ];
    assert.equal(curveAt(curve, 0.1), 0.2);
    assert.equal(curveAt(curve, 0.2), 0.4);
    assert.ok(Math.abs(curveAt(curve, 0.6)! - 0.7) < 1e-12);
    assert.equal(curveAt(curve, 1.2), undefined);
    assert.equal(curveAt([], 0.5), undefined);
  });

  it('keeps the 0.5 and α labels apart, and merges them when α is 0.5', () => {
    assert.deepEqual(prsTopLabels(0.2), [
      { x: 50, anchor: 'middle', text: '0.5' },
      { x: 20, anchor: 'middle', text: '\u03b1 0.20' },
    ]);
    assert.deepEqual(prsTopLabels(0.45), [
      { x: 45, anchor: 'end', text: '\u03b1 0.45' },
      { x: 50, anchor: 'start', text: '0.5' },
    ]);
    assert.deepEqual(prsTopLabels(0.5), [{ x: 50, anchor: 'middle', text: '\u03b1 = 0.5' }]);
    assert.deepEqual(prsTopLabels(0.02)[1], { x: 2, anchor: 'start', text: '\u03b1 0.02' });
    assert.equal(anchorFor(97), 'end');
  });

  it('spaces ticks evenly, ends included', () => {
    assert.deepEqual(ticks(0, 1, 0.25), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(ticks(0, 0.3, 0.1).length, 4);
  });
});
