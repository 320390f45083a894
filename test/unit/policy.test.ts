import { strict as assert } from 'node:assert';
import {
  calibrateAlpha,
  decideRoute,
  escalationAllowance,
  mayEscalate,
  PrsHistory,
  routeBatch,
  validatePolicy,
  DEFAULT_POLICY,
} from '../../src/router/policy';
import { paretoRelation, paretoRelativeSuperiority, metricSuperiority } from '../../src/router/prs';

const metrics = [
  { id: 'a', label: 'A' },
  { id: 'b', label: 'B' },
];
const norm = { muEdge: { a: 0.5, b: 0.6 }, muCloud: { a: 0.7, b: 0.65 }, gamma: 1, weights: { a: 0.5, b: 0.5 } };

describe('PRS, Pareto and routing policy', () => {
  it('computes D_i and PRS as the formula says', () => {
    const d = metricSuperiority(0.6, 0.7, 'a', norm);
    assert.ok(Math.abs(d - 1 / (1 + Math.exp(0.1 / 0.2))) < 1e-12);
    const prs = paretoRelativeSuperiority({ a: 0.6, b: 0.7 }, { a: 0.7, b: 0.6 }, metrics, norm);
    const db = 1 / (1 + Math.exp(-0.1 / 0.05));
    assert.ok(Math.abs(prs - (0.5 * d + 0.5 * db)) < 1e-12);
    assert.equal(paretoRelativeSuperiority({ a: 0.5, b: 0.5 }, { a: 0.5, b: 0.5 }, metrics, norm), 0.5);
  });

  it('tells the strict Pareto relation', () => {
    assert.equal(paretoRelation({ a: 0.5, b: 0.5 }, { a: 0.6, b: 0.6 }, metrics), 'cloud-dominates');
    assert.equal(paretoRelation({ a: 0.7, b: 0.6 }, { a: 0.6, b: 0.6 }, metrics), 'edge-dominates');
    assert.equal(paretoRelation({ a: 0.7, b: 0.5 }, { a: 0.6, b: 0.6 }, metrics), 'incomparable');
    assert.equal(paretoRelation({ a: 0.6, b: 0.6 }, { a: 0.6, b: 0.6 }, metrics), 'equal');
  });

  it('calibrates α so that at most ⌊ρ·n⌋ prompts go to the cloud, never a prompt the edge wins', () => {
    const prs = [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.6, 0.7, 0.8, 0.9];
    for (const rho of [0, 0.1, 0.25, 0.3, 0.5, 0.8, 1]) {
      const { decisions } = routeBatch(prs, validatePolicy({ cloudShare: rho }, 'test'));
      const cloud = decisions.filter((d) => d.route === 'cloud');
      assert.ok(cloud.length <= Math.floor(rho * prs.length), `ρ=${rho}: ${cloud.length} to the cloud`);
      assert.ok(cloud.every((d) => d.prs < 0.5));
      if (rho <= 0.6) assert.equal(cloud.length, Math.floor(rho * prs.length + 1e-9), `ρ=${rho} fills its budget`);
    }
    assert.equal(calibrateAlpha(prs, 1), 0.5);
    assert.equal(calibrateAlpha([], 0.3), 0.5);
  });

  it('lets cascade escalate ⌈ρ·n⌉ of n measured prompts, the first shortfall at any ρ > 0', () => {
    const run = (share: number, n: number) => {
      const t = { cascaded: 0, escalated: 0 };
      const at: number[] = [];
      for (let i = 1; i <= n; i++) {
        t.cascaded++;
        if (mayEscalate(share, t)) {
          t.escalated++;
          at.push(i);
        }
      }
      return at;
    };
    assert.deepEqual(run(0.3, 10), [1, 4, 7]);
    assert.deepEqual(run(0.3, 11), [1, 4, 7, 11]);
    assert.deepEqual(run(0.5, 4), [1, 3]);
    assert.deepEqual(run(0, 5), []);
    assert.deepEqual(run(1, 3), [1, 2, 3]);
    assert.deepEqual(run(0.1, 10), [1]);
    // Floating point: 0.1·30 is 3.0000000000000004, still three.
    assert.equal(run(0.1, 30).length, 3);
    assert.equal(escalationAllowance(0.3, { cascaded: 0, escalated: 0 }, 1), 1);
    assert.equal(escalationAllowance(0.3, { cascaded: 1, escalated: 1 }, 2), 0);
    assert.equal(escalationAllowance(0.3, { cascaded: 1, escalated: 1 }, 10), 3);
    assert.equal(escalationAllowance(0.5, { cascaded: 0, escalated: 0 }, 4), 2);
    assert.equal(escalationAllowance(1, { cascaded: 5, escalated: 0 }, 2), 2, 'never more than the batch');
  });

  it('keeps a prompt on the edge when the money cap would be passed', () => {
    const config = validatePolicy({ cloudShare: 1, monthlyCap: 1 }, 'test');
    assert.equal(decideRoute(0.1, 0.5, 1, config, { committed: 0.95, cloudPrice: 0.04 }).route, 'cloud');
    const d = decideRoute(0.1, 0.5, 1, config, { committed: 0.97, cloudPrice: 0.04 });
    assert.deepEqual([d.route, d.reason], ['edge', 'money-cap']);
    assert.equal(decideRoute(0.6, 0.5, 1, config).reason, 'edge-predicted-better');
    assert.equal(decideRoute(0.4, 0.3, 1, config).reason, 'above-alpha');
  });

  it('validates policies with messages that name the source', () => {
    assert.throws(() => validatePolicy({ cloudShare: 2 }, 'settings.json'), /settings\.json: the cloud share/);
    assert.throws(() => validatePolicy({ monthlyCap: -1 }, 'x'), /monthly cap/);
    assert.throws(() => validatePolicy({ prices: { openai: Number.NaN } }, 'x'), /price of "openai"/);
    assert.deepEqual(validatePolicy({}, 'x').cloudShare, DEFAULT_POLICY.cloudShare);
  });

  it('keeps a bounded history seeded with a reference sample', () => {
    const h = new PrsHistory(3, [0.1, 0.2, 0.3, 0.4]);
    assert.deepEqual(h.snapshot(), [0.2, 0.3, 0.4]);
    h.push(0.9);
    h.push(Number.NaN);
    assert.equal(h.length, 3);
    assert.ok(h.snapshot().includes(0.9));
  });
});
