import assert from 'node:assert/strict';
import type { TokenView } from '../../../src/shared/panel/protocol';
import {
  bucketFor as heatBucket,
  heatValue as tokenValue,
  metricLabel as labelOf,
} from '../../../src/shared/presentation';
import { describeToken, effectiveMetric, heatSegments, legendEnds } from '../../../webview/lib/heat';

const metricLabel = (id: string, metrics: Array<{ id: string; label: string }>): string => labelOf(metrics, id);

const metrics = [
  { id: 'quality', label: 'Quality' },
  { id: 'alignment', label: 'Alignment' },
];
const weights = { quality: 0.5, alignment: 0.5 };

function token(
  text: string,
  start: number,
  impact: Record<string, number>,
  cloudGain: Record<string, number> = {},
): TokenView {
  return { text, start, end: start + text.length, impact, cloudGain };
}

describe('panel heat strip', () => {
  it('buckets values as the editor does: seven buckets, the verdict on its own wider edges, times the heat scale', () => {
    assert.deepEqual(
      [-0.2, -0.05, -0.049, -0.02, -0.019, 0, 0.019, 0.02, 0.05, 0.09].map((v) => heatBucket(v, 'quality')),
      [
        'strongLower',
        'lower',
        'slightLower',
        'slightLower',
        'neutral',
        'neutral',
        'neutral',
        'slightRaise',
        'raise',
        'strongRaise',
      ],
    );
    assert.equal(heatBucket(0.05, 'verdict'), 'slightRaise');
    assert.equal(heatBucket(0.05, 'quality', 2), 'slightRaise');
    assert.equal(heatBucket(Number.NaN, 'quality'), 'neutral');
  });

  it("reads a metric's impact, or the pull on PRS for the verdict", () => {
    const t = token('portrait', 0, { quality: -0.02, alignment: 0.01 }, { quality: 0.3, alignment: 0.1 });
    assert.equal(tokenValue(t, 'quality', weights), -0.02);
    assert.equal(tokenValue(t, 'unknown', weights), 0);
    // The cloud gains more from it than the edge: it pulls the verdict towards the cloud.
    assert.ok(Math.abs(tokenValue(t, 'verdict', weights) - -0.2) < 1e-12);
  });

  it('cuts the prompt into segments that spell it exactly, tokens and the text between them', () => {
    const prompt = 'a (red roses:1.2), soft light';
    const tokens = [
      token('light', 24, { quality: 0.1 }),
      token('red', 3, { quality: -0.03 }),
      token('roses', 7, { quality: 0 }),
    ];
    const segments = heatSegments(prompt, tokens, 'quality', weights);
    assert.equal(segments.map((s) => s.text).join(''), prompt);
    assert.deepEqual(
      segments.map((s) => [s.text, s.token ?? null, s.bucket ?? null]),
      [
        ['a (', null, null],
        ['red', 1, 'slightLower'],
        [' ', null, null],
        ['roses', 2, 'neutral'],
        [':1.2), soft ', null, null],
        ['light', 0, 'strongRaise'],
      ],
    );
    for (let i = 1; i < segments.length; i++) assert.equal(segments[i]!.start, segments[i - 1]!.end);
  });

  it('leaves out tokens that overlap or fall outside the prompt, keeping their text', () => {
    const prompt = 'old fisherman';
    const tokens = [
      token('old', 0, {}),
      token('ld fish', 1, {}),
      token('fisherman', 4, {}),
      token('x', 40, {}),
      { ...token('y', 2, {}), end: 2 },
    ];
    const segments = heatSegments(prompt, tokens, 'quality', weights);
    assert.equal(segments.map((s) => s.text).join(''), prompt);
    assert.deepEqual(
      segments.filter((s) => s.token !== undefined).map((s) => s.text),
      ['old', 'fisherman'],
    );
    assert.deepEqual(heatSegments('', [], 'quality', weights), []);
    assert.deepEqual(heatSegments('no tokens', [], 'quality', weights), [{ text: 'no tokens', start: 0, end: 9 }]);
  });

  it("says what a word does in the editor's words, for a screen reader", () => {
    const t = token('weathered', 0, { quality: 0.1, alignment: -0.004 }, { quality: -0.2, alignment: -0.2 });
    assert.equal(
      describeToken(t, 'quality', metrics, weights),
      "\u201cweathered\u201d strongly raises the edge's Quality (+0.10)",
    );
    assert.equal(
      describeToken(t, 'alignment', metrics, weights),
      "\u201cweathered\u201d hardly changes the edge's Alignment (\u00b10.00)",
    );
    assert.equal(
      describeToken(t, 'verdict', metrics, weights),
      '\u201cweathered\u201d strongly favours the edge (+0.20)',
    );
    const lowers = token('portrait', 0, { quality: -0.06 }, { quality: 0.1, alignment: 0 });
    assert.equal(
      describeToken(lowers, 'quality', metrics, weights),
      "\u201cportrait\u201d lowers the edge's Quality (\u22120.06)",
    );
    assert.equal(
      describeToken(lowers, 'verdict', metrics, weights),
      '\u201cportrait\u201d slightly favours the cloud (\u22120.05)',
    );
  });

  it("names metrics and the legend's ends, and falls back to the verdict for a metric the prompt lacks", () => {
    assert.equal(metricLabel('verdict', metrics), 'Verdict (edge vs cloud)');
    assert.equal(metricLabel('alignment', metrics), 'Alignment');
    assert.deepEqual(legendEnds('quality', metrics), { low: 'lowers Quality', high: 'raises Quality' });
    assert.deepEqual(legendEnds('verdict', metrics), { low: 'favours cloud', high: 'favours edge' });
    assert.equal(effectiveMetric('quality', metrics), 'quality');
    assert.equal(effectiveMetric('sharpness', metrics), 'verdict');
    assert.equal(effectiveMetric('verdict', []), 'verdict');
  });
});
