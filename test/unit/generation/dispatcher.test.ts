import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Dispatcher,
  type DispatchConfig,
  type DispatchEvent,
  type DispatchItem,
} from '../../../src/generation/dispatcher';
import { BackendError } from '../../../src/backends/errors';
import { Ledger } from '../../../src/generation/ledger';
import type { Backend, GenerationRequest, GenerationResult, QualityScorer } from '../../../src/backends/types';
import { CancelledError } from '../../../src/router/errors';
import { validatePolicy } from '../../../src/router/policy';
import type { Normalisation } from '../../../src/router/prs';
import type { Prediction } from '../../../src/router/types';

/** An in-memory backend: `behave` decides each call's fate. */
class Fake implements Backend {
  calls: GenerationRequest[] = [];
  readonly model = 'fake-model';
  constructor(
    readonly name: string,
    readonly side: 'edge' | 'cloud',
    private readonly price: number,
    private readonly behave: (
      req: GenerationRequest,
      n: number,
    ) => Promise<Partial<GenerationResult> | void> | Partial<GenerationResult> | void = () => undefined,
  ) {}
  async generate(req: GenerationRequest, o: { signal?: AbortSignal } = {}): Promise<GenerationResult> {
    this.calls.push(req);
    const extra = await this.behave(req, this.calls.length);
    if (o.signal?.aborted) throw new BackendError('cancelled', this.name, 'cancelled');
    return {
      image: new Uint8Array([this.side === 'edge' ? 1 : 2]),
      mime: 'image/png',
      backend: this.name,
      model: this.model,
      cost: this.price,
      timings: { totalMs: 1 },
      ...extra,
    };
  }
  estimateCost(): number {
    return this.price;
  }
  async health() {
    return { ok: true, detail: 'fake' };
  }
}

const norm: Normalisation = {
  muEdge: { a: 0.5, b: 0.5 },
  muCloud: { a: 0.7, b: 0.7 },
  gamma: 1,
  weights: { a: 0.5, b: 0.5 },
};

function pred(prs: number, cloud = 0.7): Prediction {
  return { edge: { a: 0.5, b: 0.5 }, cloud: { a: cloud, b: cloud }, prs, pareto: 'cloud-dominates', tokens: [] };
}

function items(prs: number[]): DispatchItem[] {
  return prs.map((p, i) => ({
    id: `p${i + 1}`,
    request: { prompt: `prompt ${i + 1}`, width: 512, height: 512 },
    prediction: pred(p),
  }));
}

async function ledger(cap: number | null) {
  return (await Ledger.open({ file: join(mkdtempSync(join(tmpdir(), 'disp-')), 'ledger.json'), monthlyCap: cap }))
    .ledger;
}

function config(over: Partial<DispatchConfig>): DispatchConfig {
  return {
    mode: 'predict',
    policy: validatePolicy({ cloudShare: 0.5 }, 'test'),
    normalisation: norm,
    cascadeThreshold: null,
    hybridBand: 0.1,
    fallback: 'edge',
    ...over,
  };
}

describe('dispatcher: the cost policy in force', () => {
  it('predict: the prompts that gain most go to the cloud, within the share; the ledger records real costs', async () => {
    const edge = new Fake('comfyui', 'edge', 0);
    const cloud = new Fake('openai', 'cloud', 0.04, () => ({ cost: 0.035 }));
    const l = await ledger(10);
    const d = new Dispatcher(config({ edge, cloud, ledger: l }));
    const out = await d.run(items([0.1, 0.2, 0.3, 0.4, 0.6, 0.7]));
    // ρ = 0.5 over 6 prompts: α = the value with 3 below it = 0.4, so PRS 0.1, 0.2 and 0.3 go to the cloud.
    assert.deepEqual(
      out.map((o) => o.route),
      ['cloud', 'cloud', 'cloud', 'edge', 'edge', 'edge'],
    );
    assert.match(out[0]!.why, /cloud gains most here \(PRS 0\.10 < α 0\.40/);
    assert.match(out[3]!.why, /cloud slightly better but not enough/);
    assert.match(out[4]!.why, /edge predicted at least as good/);
    assert.deepEqual([cloud.calls.length, edge.calls.length], [3, 3]);
    assert.equal((await l.status()).spent, 0.105);
  });

  it('predict: the money cap sends the rest to the edge, even with parallel generations', async () => {
    const edge = new Fake('comfyui', 'edge', 0);
    const cloud = new Fake('openai', 'cloud', 0.05, async () => {
      await new Promise((r) => setTimeout(r, 5));
    });
    const l = await ledger(0.1);
    const d = new Dispatcher(
      config({
        edge,
        cloud,
        ledger: l,
        policy: validatePolicy({ cloudShare: 1, monthlyCap: 0.1 }, 't'),
        concurrency: 6,
      }),
    );
    const out = await d.run(items([0.1, 0.1, 0.1, 0.1, 0.1, 0.1]));
    assert.equal(out.filter((o) => o.route === 'cloud').length, 2);
    assert.equal(out.filter((o) => o.route === 'edge').length, 4);
    assert.ok(out.some((o) => /money cap/.test(o.why)));
    const s = await l.status();
    assert.equal(s.spent, 0.1);
    assert.equal(s.reserved, 0);
  });

  it('plan: shows routes and the estimated cost with no backend call, stopping at the cap', async () => {
    const edge = new Fake('comfyui', 'edge', 0);
    const cloud = new Fake('stability', 'cloud', 0.03);
    const d = new Dispatcher(
      config({
        edge,
        cloud,
        ledger: await ledger(0.05),
        policy: validatePolicy({ cloudShare: 0.5, monthlyCap: 0.05 }, 't'),
      }),
    );
    const plan = d.plan(items([0.05, 0.1, 0.2, 0.9]), 0);
    assert.deepEqual(
      plan.entries.map((e) => e.action),
      ['cloud', 'edge', 'edge', 'edge'],
    );
    assert.match(plan.entries[1]!.why, /money cap/);
    assert.equal(plan.estimatedCost, 0.03);
    // Cascade: nothing expected, at most ρ·n = 2 escalations bound the cost.
    const c = new Dispatcher(config({ mode: 'cascade', edge, cloud })).plan(items([0.05, 0.1, 0.2, 0.9]));
    assert.deepEqual([c.estimatedCost, c.maxCost, c.escalationBudget], [0, 0.06, 2]);
    assert.equal(edge.calls.length + cloud.calls.length, 0);
  });

  it("renders a prompt on its own backend where its file names one, in place of the run's on that side", async () => {
    const edge = new Fake('comfyui', 'edge', 0);
    const own = new Fake('a1111', 'edge', 0);
    const cloud = new Fake('openai', 'cloud', 0.04);
    const [a, b] = items([0.9, 0.9]);
    const d = new Dispatcher(config({ edge, cloud, ledger: await ledger(5) }));
    const out = await d.run([a!, { ...b!, backends: { edge: own } }]);
    assert.deepEqual(
      out.map((o) => o.result?.backend),
      ['comfyui', 'a1111'],
    );
    assert.deepEqual([edge.calls.length, own.calls.length, cloud.calls.length], [1, 1, 0]);
    // A run with no edge of its own: the file's backend serves its prompt; a prompt with no backend at all is refused.
    const cloudOnly = new Dispatcher(
      config({ cloud, ledger: await ledger(5), policy: validatePolicy({ cloudShare: 0 }, 't') }),
    );
    assert.equal((await cloudOnly.run([{ ...a!, backends: { edge: own } }]))[0]!.result?.backend, 'a1111');
    const none = new Dispatcher(config({}));
    assert.throws(() => none.plan(items([0.5])), /prompt p1: neither an edge nor a cloud backend is configured/);
  });

  it('cascade: measures each edge image and escalates those below the threshold, within the share budget', async () => {
    const edge = new Fake('a1111', 'edge', 0);
    const cloud = new Fake('fal', 'cloud', 0.025);
    const quality: Record<string, number> = { 'prompt 1': 0.2, 'prompt 2': 0.9, 'prompt 3': 0.3, 'prompt 4': 0.1 };
    const scorer: QualityScorer = async (image, prompt) =>
      image[0] === 2 ? { a: 0.95, b: 0.95 } : { a: quality[prompt]!, b: quality[prompt]! };
    const l = await ledger(5);
    const events: DispatchEvent[] = [];
    const d = new Dispatcher(config({ mode: 'cascade', edge, cloud, ledger: l, scorer, cascadeThreshold: 0.5 }));
    const out = await d.run(items([0.5, 0.5, 0.5, 0.5]), { onEvent: (e) => events.push(e) });
    // Three fall short, but ρ = 0.5 of 4 prompts allows two escalations.
    assert.deepEqual(
      out.map((o) => o.route),
      ['cloud', 'edge', 'cloud', 'edge'],
    );
    assert.match(out[0]!.why, /measured edge quality 0\.20 below the threshold 0\.50: escalated/);
    assert.match(out[1]!.why, /meets the threshold/);
    assert.match(
      out[3]!.why,
      /cloud share budget is used up \(2 of 4 cascaded prompts this month escalated, share 50%\)/,
    );
    assert.deepEqual((await l.status()).cascade, { cascaded: 4, escalated: 2 });
    assert.deepEqual(out[0]!.measured, { a: 0.95, b: 0.95 }, 'the final cloud image is measured too');
    assert.equal(out[0]!.attempts.length, 2);
    assert.equal(edge.calls.length, 4);
    assert.equal((await l.status()).spent, 0.05);
    assert.equal(events.filter((e) => e.type === 'escalate').length, 2);
  });

  it("cascade one prompt at a time (as the editor generates) escalates within the month's share, counted in the ledger", async () => {
    const edge = new Fake('a1111', 'edge', 0);
    const cloud = new Fake('fal', 'cloud', 0.025);
    const scorer: QualityScorer = async (image) => (image[0] === 2 ? { a: 0.95, b: 0.95 } : { a: 0.1, b: 0.1 });
    const l = await ledger(5);
    const policy = validatePolicy({ cloudShare: 0.3 }, 't');
    const routes: string[] = [];
    for (let i = 0; i < 7; i++) {
      // A new dispatcher each time, as each editor command makes one: only the ledger remembers.
      const d = new Dispatcher(
        config({ mode: 'cascade', edge, cloud, ledger: l, scorer, cascadeThreshold: 0.5, policy }),
      );
      const plan = d.plan(items([0.5]), 0, (await l.status()).cascade);
      const [o] = await d.run(items([0.5]));
      routes.push(`${o!.route}:${plan.escalationBudget}`);
    }
    // ⌈0.3·n⌉ escalations after n cascades: the 1st, 4th and 7th; each plan bounds its cost by what is left.
    assert.deepEqual(routes, ['cloud:1', 'edge:0', 'edge:0', 'cloud:1', 'edge:0', 'edge:0', 'cloud:1']);
    assert.deepEqual((await l.status()).cascade, { cascaded: 7, escalated: 3 });
  });

  it('cascade takes an escalation back when the money cap stops it', async () => {
    const edge = new Fake('a1111', 'edge', 0);
    const cloud = new Fake('fal', 'cloud', 0.05);
    const scorer: QualityScorer = async () => ({ a: 0.1, b: 0.1 });
    const l = await ledger(0.01);
    const d = new Dispatcher(
      config({
        mode: 'cascade',
        edge,
        cloud,
        ledger: l,
        scorer,
        cascadeThreshold: 0.5,
        policy: validatePolicy({ cloudShare: 1, monthlyCap: 0.01 }, 't'),
      }),
    );
    const [o] = await d.run(items([0.5]));
    assert.equal(o!.route, 'edge');
    assert.match(o!.why, /monthly money cap is reached: kept the edge image/);
    assert.deepEqual((await l.status()).cascade, { cascaded: 1, escalated: 0 });
  });

  it('cascade without a threshold compares the measured edge with the predicted cloud at α', async () => {
    const edge = new Fake('a1111', 'edge', 0);
    const cloud = new Fake('fal', 'cloud', 0.025);
    const scorer: QualityScorer = async () => ({ a: 0.45, b: 0.45 });
    const d = new Dispatcher(
      config({
        mode: 'cascade',
        edge,
        cloud,
        ledger: await ledger(5),
        scorer,
        policy: validatePolicy({ cloudShare: 1 }, 't'),
      }),
    );
    const out = await d.run(items([0.6]));
    // α = 0.5 (share 1); measured PRS = σ((0.45 − 0.7)/0.2) ≈ 0.22 < α.
    assert.equal(out[0]!.route, 'cloud');
    assert.equal(out[0]!.escalation!.basis, 'prs');
    assert.ok(out[0]!.escalation!.value < 0.25);
  });

  it('cascade with no scorer says so once and keeps the edge images', async () => {
    const edge = new Fake('comfyui', 'edge', 0);
    const cloud = new Fake('openai', 'cloud', 0.04);
    const events: DispatchEvent[] = [];
    const d = new Dispatcher(config({ mode: 'cascade', edge, cloud, ledger: await ledger(5) }));
    const out = await d.run(items([0.1, 0.2]), { onEvent: (e) => events.push(e) });
    assert.deepEqual(
      out.map((o) => [o.route, o.unmeasured]),
      [
        ['edge', true],
        ['edge', true],
      ],
    );
    const warnings = events.filter((e) => e.type === 'warning');
    assert.equal(warnings.length, 1);
    assert.match((warnings[0] as { message: string }).message, /no metric scorer is available/);
    assert.equal(cloud.calls.length, 0);
  });

  it('hybrid: cascades only the uncertain prompts, routes the rest by prediction', async () => {
    const edge = new Fake('comfyui', 'edge', 0);
    const cloud = new Fake('bfl', 'cloud', 0.04);
    const scorer: QualityScorer = async () => ({ a: 0.9, b: 0.9 });
    const d = new Dispatcher(
      config({ mode: 'hybrid', edge, cloud, ledger: await ledger(5), scorer, hybridBand: 0.05 }),
    );
    // α = 0.3 (three values below it); 0.27, 0.3 and 0.34 lie within 0.05 of it.
    const out = await d.run(items([0.05, 0.1, 0.27, 0.3, 0.34, 0.9]));
    assert.deepEqual(
      out.map((o) => o.plan.action),
      ['cloud', 'cloud', 'cascade', 'cascade', 'cascade', 'edge'],
    );
    // The measured edge images beat the predicted cloud: none escalates.
    assert.deepEqual(
      out.map((o) => o.route),
      ['cloud', 'cloud', 'edge', 'edge', 'edge', 'edge'],
    );
    assert.match(out[2]!.plan.why, /uncertain prediction \(\|PRS 0\.27 − α 0\.30\| ≤ 0\.05\)/);
    assert.match(out[2]!.why, /measured edge image good enough/);
  });

  it('falls back to the edge when the cloud fails; releases a call the provider did not take, books every other', async () => {
    const edge = new Fake('comfyui', 'edge', 0);
    const refused = new Fake('openai', 'cloud', 0.04, () => {
      throw new BackendError('bad-request', 'openai', 'HTTP 400', { status: 400, notTaken: true });
    });
    const l1 = await ledger(5);
    const out1 = await new Dispatcher(config({ edge, cloud: refused, ledger: l1 })).run(items([0.1, 0.9]));
    assert.equal(out1[0]!.route, 'edge');
    assert.match(out1[0]!.why, /the cloud failed \(openai: HTTP 400\), so the edge rendered it/);
    assert.equal((await l1.status()).spent, 0);

    const broken = new Fake('openai', 'cloud', 0.04, () => {
      throw new BackendError('server', 'openai', 'HTTP 500');
    });
    const l0 = await ledger(5);
    const events: DispatchEvent[] = [];
    const out0 = await new Dispatcher(config({ edge, cloud: broken, ledger: l0 })).run(items([0.1, 0.9]), {
      onEvent: (e) => events.push(e),
    });
    assert.equal(out0[0]!.route, 'edge');
    assert.equal(out0[0]!.cost, 0.04, 'a 5xx may hide a job that runs: booked');
    assert.equal((await l0.status()).spent, 0.04);
    assert.ok(
      events.some((e) => e.type === 'warning' && /stays booked at \$0\.040/.test(e.message)),
      'the console says the booking stays',
    );

    const taken = new Fake('replicate', 'cloud', 0.04, () => {
      throw new BackendError('timeout', 'replicate', 'did not finish', { accepted: true });
    });
    const l2 = await ledger(5);
    const out2 = await new Dispatcher(config({ edge, cloud: taken, ledger: l2 })).run(items([0.1, 0.9]));
    assert.equal(out2[0]!.route, 'edge');
    assert.equal(out2[0]!.cost, 0.04);
    assert.equal((await l2.status()).spent, 0.04, 'counted as spent at the estimate');
  });

  it('no fallback after a content-filter refusal or with fallback none', async () => {
    const edge = new Fake('comfyui', 'edge', 0);
    const filtered = new Fake('stability', 'cloud', 0.03, () => {
      throw new BackendError('content-filter', 'stability', 'flagged');
    });
    const out = await new Dispatcher(config({ edge, cloud: filtered, ledger: await ledger(5) })).run(items([0.1, 0.9]));
    assert.equal(out[0]!.route, undefined);
    assert.match(out[0]!.why, /no image: stability: flagged/);
    assert.equal(edge.calls.length, 1, 'only the edge-routed prompt ran on the edge');

    const broken = new Fake('comfyui', 'edge', 0, () => {
      throw new BackendError('unreachable', 'comfyui', 'cannot reach');
    });
    const cloud = new Fake('openai', 'cloud', 0.04);
    const none = await new Dispatcher(config({ edge: broken, cloud, ledger: await ledger(5), fallback: 'none' })).run(
      items([0.9]),
    );
    assert.equal(none[0]!.error!.message, 'comfyui: cannot reach');
    const both = await new Dispatcher(config({ edge: broken, cloud, ledger: await ledger(5), fallback: 'both' })).run(
      items([0.9]),
    );
    assert.equal(both[0]!.route, 'cloud');
    assert.match(both[0]!.why, /the edge failed .* so the cloud rendered it/);
  });

  it('a prompt sent to one side renders there or nowhere: no fallback, no edge render at the cap', async () => {
    const forced = (side: 'edge' | 'cloud', prs: number): DispatchItem => ({
      ...items([prs])[0]!,
      force: { side, why: `"# route: ${side}" in the file` },
    });
    // The cap stops the forced cloud call: the edge, though set, is not used instead.
    const edge = new Fake('comfyui', 'edge', 0);
    const cloud = new Fake('openai', 'cloud', 0.04);
    const capped = await new Dispatcher(config({ edge, cloud, ledger: await ledger(0.01), fallback: 'both' })).run([
      forced('cloud', 0.9),
    ]);
    assert.equal(capped[0]!.route, undefined);
    assert.match(
      capped[0]!.why,
      /"# route: cloud" in the file asks for the cloud, but the monthly money cap is reached/,
    );
    assert.equal(edge.calls.length, 0);
    // A failing forced edge does not move to the cloud, whatever the fallback setting.
    const broken = new Fake('comfyui', 'edge', 0, () => {
      throw new BackendError('unreachable', 'comfyui', 'cannot reach');
    });
    const down = await new Dispatcher(config({ edge: broken, cloud, ledger: await ledger(5), fallback: 'both' })).run([
      forced('edge', 0.1),
    ]);
    assert.equal(down[0]!.error!.message, 'comfyui: cannot reach');
    assert.equal(cloud.calls.length, 0);
    // With both sides set, the plan's words say what the policy alone would do with them (as the editor's verdict does).
    assert.match(down[0]!.plan.why, /^"# route: edge" in the file \(the policy alone would say (edge|cloud): /);
    assert.doesNotMatch(down[0]!.plan.why, /no cloud backend configured/);
  });

  it('cancellation stops the batch with CancelledError after reporting what finished', async () => {
    const ctl = new AbortController();
    const edge = new Fake('comfyui', 'edge', 0, (_r, n) => {
      if (n === 2) ctl.abort();
    });
    const seen: string[] = [];
    const d = new Dispatcher(config({ edge }));
    await assert.rejects(
      d.run(items([0.9, 0.9, 0.9]), {
        signal: ctl.signal,
        onOutcome: (o) => void seen.push(`${o.id}:${o.route ?? o.error?.message}`),
      }),
      CancelledError,
    );
    assert.deepEqual(seen, ['p1:edge', 'p2:comfyui: cancelled']);
  });

  it('refuses to spend on a paid cloud without a ledger, and predict mode without predictions', async () => {
    await assert.rejects(
      new Dispatcher(config({ cloud: new Fake('openai', 'cloud', 0.04) })).run(items([0.1])),
      /needs the money ledger/,
    );
    const d = new Dispatcher(config({ edge: new Fake('comfyui', 'edge', 0) }));
    assert.throws(
      () => d.plan([{ id: 'x', request: { prompt: 'x', width: 1, height: 1 } }]),
      /predict mode needs a prediction/,
    );
  });
});
