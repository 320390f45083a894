import { strict as assert } from 'node:assert';
import {
  BUCKETS,
  NEUTRAL,
  THRESHOLDS,
  VERDICT,
  bucketEdges,
  bucketOf,
  bucketTokens,
  heatValue,
  modelHeatFactor,
} from '../../../src/shared/presentation';
import type { TokenImpact } from '../../../src/router/types';

const token = (
  text: string,
  impact: Record<string, number>,
  cloudGain: Record<string, number>,
  start = 0,
): TokenImpact => ({ text, start, end: start + text.length, impact, cloudGain });

describe('heat buckets', () => {
  const edges = [0.02, 0.05, 0.09] as const;

  it('puts values in seven buckets, symmetric around neutral, edges inclusive upwards', () => {
    assert.equal(BUCKETS.length, 7);
    assert.equal(BUCKETS[NEUTRAL], 'neutral');
    const cases: Array<[number, string]> = [
      [0, 'neutral'],
      [0.0199, 'neutral'],
      [-0.0199, 'neutral'],
      [0.02, 'slightRaise'],
      [-0.02, 'slightLower'],
      [0.049, 'slightRaise'],
      [0.05, 'raise'],
      [-0.06, 'lower'],
      [0.09, 'strongRaise'],
      [-5, 'strongLower'],
      [Number.NaN, 'neutral'],
      [Number.POSITIVE_INFINITY, 'neutral'],
    ];
    for (const [value, bucket] of cases) assert.equal(BUCKETS[bucketOf(value, edges)], bucket, `value ${value}`);
  });

  it('scales the edges by the heat.scale setting, verdict edges apart from metric edges', () => {
    assert.deepEqual(bucketEdges('quality', 1), [...THRESHOLDS.metric]);
    assert.deepEqual(
      bucketEdges(VERDICT, 2),
      THRESHOLDS.verdict.map((x) => x * 2),
    );
    for (const t of [THRESHOLDS.metric, THRESHOLDS.verdict]) assert.ok(t[0] < t[1] && t[1] < t[2], 'edges increase');
  });

  it('reads a metric impact, and for the verdict minus the PRS-weighted cloud gain', () => {
    const t = token('hands', { quality: -0.2, alignment: 0.1 }, { quality: 0.3, alignment: -0.1 });
    assert.equal(heatValue(t, 'quality', {}), -0.2);
    assert.equal(heatValue(t, 'missing', {}), 0);
    // − (0.5·0.3 + 0.5·(−0.1)) = −0.1: the word pulls toward the cloud.
    assert.ok(Math.abs(heatValue(t, VERDICT, { quality: 0.5, alignment: 0.5 }) - -0.1) < 1e-12);
  });

  it("groups a prompt's tokens by bucket and leaves neutral words undrawn", () => {
    const tokens = [
      token('a', { q: 0 }, { q: 0 }, 0),
      token('cat', { q: 0.2 }, { q: 0 }, 2),
      token('blurry', { q: -0.06 }, { q: 0 }, 6),
    ];
    const grouped = bucketTokens(tokens, 'q', {}, 1);
    assert.equal(grouped.length, 7);
    assert.deepEqual(grouped[NEUTRAL], []);
    assert.deepEqual(grouped[BUCKETS.indexOf('strongRaise')], [{ start: 2, end: 5 }]);
    assert.deepEqual(grouped[BUCKETS.indexOf('lower')], [{ start: 6, end: 12 }]);
  });
});

describe('heat scale of a predictor', () => {
  it("scales the bucket edges by the predictor's own impact percentiles", () => {
    assert.equal(modelHeatFactor(undefined), 1);
    assert.equal(modelHeatFactor({ metric: [0.1, THRESHOLDS.metric[1] * 4, 0.5] }), 4);
    assert.equal(modelHeatFactor({ metric: [0, 0, 0] }), 1, 'a model with no impacts keeps the default');
    assert.equal(modelHeatFactor({ metric: [1, 100, 200] }), 20, 'clamped as the setting is');
  });
});
