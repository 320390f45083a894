import { strict as assert } from 'node:assert';
import { VERDICT } from '../../../src/shared/presentation';
import {
  hoverMarkdown,
  lensTitle,
  removeTitle,
  statusText,
  weakTokenMessage,
} from '../../../src/extension/language/texts';
import { signed } from '../../../src/shared/presentation';
import { policyView, verdictOf } from '../../../src/extension/verdict/verdict';
import { DEFAULT_POLICY } from '../../../src/router/policy';
import type { Prediction } from '../../../src/router/types';

const metrics = [
  { id: 'quality', label: 'Quality' },
  { id: 'alignment', label: 'Alignment' },
];
const weights = { quality: 0.5, alignment: 0.5 };
const prediction: Prediction = {
  edge: { quality: 0.6, alignment: 0.64 },
  cloud: { quality: 0.74, alignment: 0.74 },
  prs: 0.31,
  pareto: 'cloud-dominates',
  tokens: [
    {
      text: 'hands',
      start: 0,
      end: 5,
      impact: { quality: -0.21, alignment: -0.05 },
      cloudGain: { quality: 0.3, alignment: 0.02 },
    },
  ],
};
const view = policyView({ ...DEFAULT_POLICY, cloudShare: 0.3 }, [0.4, 0.5, 0.6], {
  committed: 0,
  cloudPrice: 0.04,
  cloudConfigured: true,
  edgeConfigured: true,
});

describe('what the editor says', () => {
  it('writes the CodeLens verdict as the issue shows it', () => {
    const v = verdictOf(prediction, weights, view);
    assert.equal(v.route, 'cloud', `α ${view.alpha}`);
    assert.equal(lensTitle(v), 'edge 0.62 · cloud 0.74 · cloud better, PRS 0.31 → cloud');
    const forced = verdictOf(prediction, weights, view, 'edge');
    assert.equal(forced.route, 'edge');
    assert.match(lensTitle(forced), /→ edge \(set in file\)$/);
    assert.match(forced.why, /"# route: edge" in the file \(the policy alone would say cloud/);
  });

  it('says what Generate will do in cascade and hybrid modes: the edge first, the cloud if the measured image falls short', () => {
    const cascade = policyView({ ...DEFAULT_POLICY, cloudShare: 0.3 }, [0.4, 0.5, 0.6], {
      committed: 0,
      cloudPrice: 0.04,
      cloudConfigured: true,
      edgeConfigured: true,
      mode: 'cascade',
      hybridBand: 0.1,
    });
    const v = verdictOf(prediction, weights, cascade);
    assert.equal(v.route, 'edge');
    assert.equal(v.cascade, true);
    assert.equal(lensTitle(v), 'edge 0.62 · cloud 0.74 · cloud better, PRS 0.31 → edge, cloud if short');
    assert.match(statusText(v), /cascade · PRS 0\.31$/);
    assert.match(
      v.why,
      /^cascade: the edge renders first and the cloud redoes it if the measured quality falls short \(the prediction alone would say cloud: /,
    );
    // A `# route:` line still wins; no cloud backend means nothing to escalate to.
    assert.equal(verdictOf(prediction, weights, cascade, 'cloud').cascade, undefined);
    assert.equal(verdictOf(prediction, weights, { ...cascade, cloudConfigured: false }).cascade, undefined);
    // Hybrid cascades only where |PRS − α| ≤ band.
    const hybrid = { ...cascade, mode: 'hybrid' as const };
    const near = verdictOf({ ...prediction, prs: hybrid.alpha + 0.05 }, weights, hybrid);
    assert.equal(near.cascade, true);
    assert.match(near.why, /^uncertain prediction \(\|PRS \d\.\d\d − α \d\.\d\d\| ≤ 0\.1\), so cascade: /);
    const far = verdictOf({ ...prediction, prs: 0.95, pareto: 'edge-dominates' }, weights, hybrid);
    assert.equal(far.cascade, undefined);
    assert.equal(far.route, 'edge');
  });

  it("routes to the edge once the month's money cap would be passed", () => {
    const capped = policyView({ ...DEFAULT_POLICY, cloudShare: 0.3, monthlyCap: 1 }, [0.4, 0.5, 0.6], {
      committed: 0.99,
      cloudPrice: 0.04,
      cloudConfigured: true,
      edgeConfigured: true,
    });
    const v = verdictOf(prediction, weights, capped);
    assert.equal(v.route, 'edge');
    assert.match(v.why, /money cap/);
  });

  it('titles the remove quick fix with the predicted change', () => {
    const before = verdictOf(prediction, weights, view);
    const after = verdictOf({ ...prediction, edge: { quality: 0.66, alignment: 0.66 }, prs: 0.38 }, weights, view);
    assert.equal(removeTitle('hands', before, after), 'Remove "hands" (edge quality 0.62 → 0.66, PRS 0.31 → 0.38)');
  });

  it("tells a weak word's metrics, worst first, and the cloud's advantage", () => {
    assert.equal(
      weakTokenMessage(prediction.tokens[0]!, metrics, weights),
      '"hands" is a weak word for the edge model: it lowers Quality −0.21, Alignment −0.05; the cloud handles it better (+0.16).',
    );
  });

  it("renders the hover as a table of every metric with the prompt's estimates and route", () => {
    const md = hoverMarkdown(
      prediction.tokens[0]!,
      prediction,
      verdictOf(prediction, weights, view),
      metrics,
      weights,
      { metric: VERDICT, scale: 1 },
    );
    assert.match(md, /^\*\*hands\*\* strongly favours the cloud \(heat −0\.16\)/);
    // Cells after the first are padded (a hover draws tables without padding).
    assert.match(
      md,
      /\| metric \| &nbsp;&nbsp;word impact \| &nbsp;&nbsp;cloud gain \| &nbsp;&nbsp;edge \| &nbsp;&nbsp;cloud \|/,
    );
    const cells = md.replaceAll('&nbsp;', '');
    assert.match(cells, /\| Quality \| −0\.21 \| \+0\.30 \| 0\.60 \| 0\.74 \|/);
    assert.match(cells, /\| Alignment \| −0\.05 \| \+0\.02 \| 0\.64 \| 0\.74 \|/);
    assert.match(md, /PRS \*\*0\.31\*\* · cloud better on every metric → \*\*cloud\*\*/);
    const byMetric = hoverMarkdown(
      prediction.tokens[0]!,
      prediction,
      verdictOf(prediction, weights, view),
      metrics,
      weights,
      { metric: 'quality', scale: 1 },
    );
    assert.match(byMetric, /^\*\*hands\*\* strongly lowers the edge's Quality/);
  });

  it('signs numbers with a real minus and no "−0.00"', () => {
    assert.equal(signed(-0.214), '−0.21');
    assert.equal(signed(0.3), '+0.30');
    assert.equal(signed(-0.0001), '±0.00');
  });
});
