import assert from 'node:assert/strict';
import { paretoSentence, prsVerdict, sentence } from '../../../webview/lib/words';

const metrics = [
  { id: 'quality', label: 'Quality' },
  { id: 'alignment', label: 'Alignment' },
  { id: 'detail', label: 'Detail' },
];

describe('panel words', () => {
  it('says the Pareto relation and, where neither dominates, who wins where', () => {
    assert.match(
      paretoSentence('cloud-dominates', {}, {}, metrics),
      /^The cloud is predicted at least as good on every metric/,
    );
    assert.match(paretoSentence('edge-dominates', {}, {}, metrics), /^The edge is predicted/);
    assert.equal(paretoSentence('equal', {}, {}, metrics), 'Edge and cloud are predicted equal on every metric.');
    assert.equal(
      paretoSentence(
        'incomparable',
        { quality: 0.6, alignment: 0.8, detail: 0.7 },
        { quality: 0.7, alignment: 0.7, detail: 0.75 },
        metrics,
      ),
      'Neither dominates: the edge is predicted better on Alignment, the cloud on Quality and Detail.',
    );
    // Differences under half a hundredth are ties, not wins.
    assert.equal(
      paretoSentence('incomparable', { quality: 0.6 }, { quality: 0.603 }, metrics),
      'Neither dominates: each is predicted better on some metrics.',
    );
  });

  it("turns the engine's phrase into a sentence", () => {
    assert.equal(
      sentence('edge predicted at least as good (PRS 0.51 ≥ 0.5)'),
      'Edge predicted at least as good (PRS 0.51 ≥ 0.5)',
    );
    assert.equal(sentence('no cloud budget'), 'No cloud budget.');
    assert.equal(sentence('  '), '');
  });

  it('reads PRS against 0.5', () => {
    assert.equal(prsVerdict(0.7), 'edge expected better');
    assert.equal(prsVerdict(0.2), 'cloud expected better');
    assert.equal(prsVerdict(0.5), 'no difference expected');
  });
});
