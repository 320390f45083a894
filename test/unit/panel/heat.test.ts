import assert from 'node:assert/strict';
import type { TokenView } from '../../../src/extension/panel/protocol';
import { describeToken, effectiveMetric, heatLevel, heatSegments, legendEnds, tokenValue } from '../../../webview/lib/heat';

const metrics = [
  { id: 'quality', label: 'Quality' },
  { id: 'alignment', label: 'Alignment' },
];
const weights = { quality: 0.5, alignment: 0.5 };

function token(text: string, start: number, impact: Record<string, number>, cloudGain: Record<string, number> = {}): TokenView {
  return { text, start, end: start + text.length, impact, cloudGain };
}

describe('panel heat strip', () => {
  it('buckets impacts into five levels, symmetric around zero', () => {
    assert.deepEqual([-0.2, -0.05, -0.049, -0.01, -0.0099, 0, 0.0099, 0.01, 0.049, 0.05, 0.3].map((v) => heatLevel(v)), [-2, -2, -1, -1, 0, 0, 0, 1, 1, 2, 2]);
    assert.equal(heatLevel(Number.NaN), 0);
    assert.equal(heatLevel(0.02, { mild: 0.03, strong: 0.1 }), 0);
  });

  it('reads a metric\'s impact, or the pull on PRS for the verdict', () => {
    const t = token('portrait', 0, { quality: -0.02, alignment: 0.01 }, { quality: 0.3, alignment: 0.1 });
    assert.equal(tokenValue(t, 'quality', weights), -0.02);
    assert.equal(tokenValue(t, 'unknown', weights), 0);
    // The cloud gains more from it than the edge: it pulls the verdict towards the cloud.
    assert.ok(Math.abs(tokenValue(t, 'verdict', weights) - -0.2) < 1e-12);
    assert.equal(Object.is(tokenValue(token('a', 0, {}, {}), 'verdict', weights), -0), false);
  });

  it('cuts the prompt into segments that spell it exactly, tokens and the text between them', () => {
    const prompt = 'a (red roses:1.2), soft light';
    const tokens = [token('light', 24, { quality: 0.06 }), token('red', 3, { quality: -0.03 }), token('roses', 7, { quality: 0 })];
    const segments = heatSegments(prompt, tokens, 'quality', weights);
    assert.equal(segments.map((s) => s.text).join(''), prompt);
    assert.deepEqual(
      segments.map((s) => [s.text, s.token ?? null, s.level ?? null]),
      [['a (', null, null], ['red', 1, -1], [' ', null, null], ['roses', 2, 0], [':1.2), soft ', null, null], ['light', 0, 2]],
    );
    for (let i = 1; i < segments.length; i++) assert.equal(segments[i]!.start, segments[i - 1]!.end);
  });

  it('leaves out tokens that overlap or fall outside the prompt, keeping their text', () => {
    const prompt = 'old fisherman';
    const tokens = [token('old', 0, {}), token('ld fish', 1, {}), token('fisherman', 4, {}), { ...token('x', 40, {}) }, { ...token('y', 2, {}), end: 2 }];
    const segments = heatSegments(prompt, tokens, 'quality', weights);
    assert.equal(segments.map((s) => s.text).join(''), prompt);
    assert.deepEqual(segments.filter((s) => s.token !== undefined).map((s) => s.text), ['old', 'fisherman']);
    assert.deepEqual(heatSegments('', [], 'quality', weights), []);
    assert.deepEqual(heatSegments('no tokens', [], 'quality', weights), [{ text: 'no tokens', start: 0, end: 9 }]);
  });

  it('says what a word does, in words a screen reader reads', () => {
    const t = token('weathered', 0, { quality: 0.061, alignment: -0.004 }, { quality: -0.1, alignment: -0.1 });
    assert.equal(describeToken(t, 'quality', metrics, weights), '\u201cweathered\u201d strongly raises Quality (+0.06)');
    assert.equal(describeToken(t, 'alignment', metrics, weights), '\u201cweathered\u201d barely affects Alignment (\u00b10.00)');
    assert.equal(describeToken(t, 'verdict', metrics, weights), '\u201cweathered\u201d strongly favours the edge (+0.10)');
    const lowers = token('portrait', 0, { quality: -0.02 }, { quality: 0.04, alignment: 0 });
    assert.equal(describeToken(lowers, 'quality', metrics, weights), '\u201cportrait\u201d slightly lowers Quality (\u22120.02)');
    assert.equal(describeToken(lowers, 'verdict', metrics, weights), '\u201cportrait\u201d slightly favours the cloud (\u22120.02)');
  });

  it('names the legend\'s ends and falls back to the verdict for a metric the prompt lacks', () => {
    assert.deepEqual(legendEnds('quality', metrics), { low: 'lowers Quality', high: 'raises Quality' });
    assert.deepEqual(legendEnds('verdict', metrics), { low: 'favours cloud', high: 'favours edge' });
    assert.equal(effectiveMetric('quality', metrics), 'quality');
    assert.equal(effectiveMetric('sharpness', metrics), 'verdict');
    assert.equal(effectiveMetric('verdict', []), 'verdict');
  });
});
