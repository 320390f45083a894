import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startOpenAI } from '../../fixtures/servers/openai';
import {
  get,
  GATEWAY_KEY,
  post,
  serveInProcess,
  SMALL_KEY,
  until,
  writeGatewayConfig,
  type InProcessGateway,
} from '../../support/gateway';
import { runCommand } from '../../support/runCommand';
import type { TestServer } from '../../support/server';

/**
 * The gateway on one machine (JSON ledger), in front of loopback providers that speak OpenAI's Images API
 * (test/fixtures/servers/openai.ts): the cloud charges $0.04 for every image it answers.
 */
describe('gateway: OpenAI Images API on one machine', function () {
  this.timeout(60_000);
  let edge: { server: TestServer };
  let cloud: { server: TestServer; png: Buffer };
  let dir: string;
  let gw: InProcessGateway;
  const cloudCalls = () => cloud.server.to('POST', '/v1/images/generations').length;

  before(async () => {
    edge = await startOpenAI();
    cloud = await startOpenAI({ key: 'sk-provider-secret-123456' });
    dir = mkdtempSync(join(tmpdir(), 'routet2i-gw-'));
    writeGatewayConfig(dir, {
      edgeUrl: edge.server.url,
      cloudUrl: cloud.server.url,
      monthlyCap: 0.2,
      fallback: 'none',
    });
    gw = await serveInProcess(dir, []);
  });
  after(async () => {
    const r = await gw?.stop();
    assert.equal(r?.code, 0, r?.stderr);
    await edge?.server.close();
    await cloud?.server.close();
  });

  it('generates an image for the official openai client, with the route in a header and a routet2i object', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: GATEWAY_KEY, maxRetries: 0 });
    const { data: reply, response } = await client.images
      .generate({ model: 'cloud', prompt: 'a lighthouse at dusk, oil painting', size: '1024x1024' })
      .withResponse();
    assert.equal(response.headers.get('x-routet2i-route'), 'cloud');
    const b64 = reply.data?.[0]?.b64_json;
    assert.ok(b64);
    assert.deepEqual(Buffer.from(b64, 'base64'), cloud.png);
    const r = (reply as unknown as { routet2i: any }).routet2i;
    assert.equal(r.route, 'cloud');
    assert.equal(r.backend, 'openai');
    assert.equal(r.cost, 0.04);
    assert.ok(r.prs >= 0 && r.prs <= 1);
    assert.ok(r.predicted.edge && r.predicted.cloud);
    assert.match(r.why, /asked for model "cloud"/);
  });

  it('lets the policy decide with model auto, and says why', async () => {
    const res = await post(`${gw.url}/v1/images/generations`, { prompt: 'a cat', model: 'auto' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(['edge', 'cloud'].includes(res.headers.get('x-routet2i-route')!));
    assert.equal(res.body.routet2i.route, res.headers.get('x-routet2i-route'));
    assert.ok(res.body.routet2i.why.length > 0);
    assert.equal(typeof res.body.routet2i.alpha, 'number');
  });

  it('answers 402 in OpenAI error shape when the cap would be passed, and the provider is not called', async () => {
    // The cap is $0.20: spend what is left, then one more.
    const left = (await get(`${gw.url}/v1/ledger`)).body.left as number;
    for (let i = 0; i + 0.04 <= left + 1e-9; i += 0.04)
      assert.equal((await post(`${gw.url}/v1/images/generations`, { prompt: 'x', model: 'cloud' })).status, 200);
    const before = cloudCalls();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: GATEWAY_KEY, maxRetries: 0 });
    await assert.rejects(client.images.generate({ model: 'cloud', prompt: 'one too many' }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 402);
      assert.equal(e.code, 'monthly_cap_reached');
      assert.match(e.message, /monthly money cap \(\$0\.20\)/);
      return true;
    });
    assert.equal(cloudCalls(), before);
    const ledger = (await get(`${gw.url}/v1/ledger`)).body;
    assert.equal(ledger.spent, 0.2);
    assert.equal(ledger.left, 0);
    assert.equal(ledger.reservations.length, 0);
  });

  it('answers GET /v1/ledger in exactly the shape `routet2i ledger --json` prints for the same ledger', async () => {
    // The month above holds five settled cloud calls: the gateway and the CLI read the same file.
    const served = (await get(`${gw.url}/v1/ledger`)).body;
    const printed = await runCommand(['ledger', '--config', 'routet2i.config.json', '--json'], { cwd: dir });
    assert.equal(printed.code, 0, printed.stderr);
    // The gateway adds the caller's key (its own month); everything else is the same object, key for key.
    assert.equal(served.key.key, 'team');
    delete served.key;
    assert.deepEqual(served, JSON.parse(printed.stdout));
    assert.equal(served.entries.length, 5);
    assert.deepEqual(Object.keys(served), [
      'ledger',
      'month',
      'spent',
      'reserved',
      'cap',
      'left',
      'cascade',
      'entries',
      'reservations',
    ]);
  });

  it('keeps a key to its own monthly cap', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'routet2i-gw-'));
    writeGatewayConfig(dir2, { edgeUrl: edge.server.url, cloudUrl: cloud.server.url, monthlyCap: 10 });
    const other = await serveInProcess(dir2, []);
    try {
      for (let i = 0; i < 2; i++)
        assert.equal(
          (await post(`${other.url}/v1/images/generations`, { prompt: 'x', model: 'cloud' }, SMALL_KEY)).status,
          200,
        );
      const res = await post(`${other.url}/v1/images/generations`, { prompt: 'x', model: 'cloud' }, SMALL_KEY);
      assert.equal(res.status, 402);
      assert.equal(res.body.error.code, 'key_cap_reached');
      assert.equal(
        (await post(`${other.url}/v1/images/generations`, { prompt: 'x', model: 'cloud' })).status,
        200,
        'another key still has the month',
      );
      const mine = (await get(`${other.url}/v1/ledger`, SMALL_KEY)).body.key;
      assert.deepEqual({ spent: mine.spent, cap: mine.cap, left: mine.left }, { spent: 0.08, cap: 0.08, left: 0 });
    } finally {
      await other.stop();
    }
  });

  it("passes the provider's 429 on with Retry-After, and its refusal of a prompt as a 400", async () => {
    const dir5 = mkdtempSync(join(tmpdir(), 'routet2i-gw-'));
    writeGatewayConfig(dir5, {
      edgeUrl: edge.server.url,
      cloudUrl: cloud.server.url,
      monthlyCap: 10,
      fallback: 'none',
    });
    const gw = await serveInProcess(dir5, []);
    try {
      const before = cloudCalls();
      cloud.server.fault('POST', '/v1/images/generations', {
        status: 429,
        body: {
          error: {
            message: 'Rate limit reached for images per minute.',
            type: 'requests',
            code: 'rate_limit_exceeded',
          },
        },
        headers: { 'retry-after': '7' },
      });
      const limited = await post(`${gw.url}/v1/images/generations`, { prompt: 'x', model: 'cloud' });
      assert.equal(limited.status, 429, JSON.stringify(limited.body));
      assert.equal(limited.headers.get('retry-after'), '7');
      assert.equal(limited.body.error.code, 'rate_limit_exceeded');
      const refused = await post(`${gw.url}/v1/images/generations`, { prompt: 'something forbidden', model: 'cloud' });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'content_policy_violation');
      assert.equal(cloudCalls() - before, 2);
    } finally {
      await gw.stop();
    }
  });

  it('with model auto at the cap, the edge renders and the routet2i object says why', async () => {
    const dir4 = mkdtempSync(join(tmpdir(), 'routet2i-gw-'));
    writeGatewayConfig(dir4, {
      edgeUrl: edge.server.url,
      cloudUrl: cloud.server.url,
      monthlyCap: 0,
      fallback: 'edge',
      budget: 1,
    });
    const other = await serveInProcess(dir4, []);
    try {
      const res = await post(`${other.url}/v1/images/generations`, {
        prompt: 'a detailed map of an imaginary city with labelled districts',
        model: 'auto',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.headers.get('x-routet2i-route'), 'edge');
      assert.match(res.body.routet2i.why, /cap/);
      assert.equal(res.body.routet2i.cost, 0);
    } finally {
      await other.stop();
    }
  });

  it('refuses a missing or wrong key with 401, and never logs a key', async () => {
    for (const key of [null, 'gw-wrong-key-000000000000000']) {
      const res = await post(`${gw.url}/v1/images/generations`, { prompt: 'x' }, key);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'invalid_api_key');
    }
    const log = gw.log();
    assert.ok(!log.includes(GATEWAY_KEY) && !log.includes('gw-wrong-key') && !log.includes('sk-provider-secret'), log);
    assert.match(log, /POST \/v1\/images\/generations 401/);
  });

  it('turns bad requests into one-line 400s, and bounds the body', async () => {
    const url = `${gw.url}/v1/images/generations`;
    const cases: [unknown, RegExp][] = [
      [{ model: 'cloud' }, /"prompt" must be/],
      [{ prompt: 'x', n: 0 }, /"n" must be/],
      [{ prompt: 'x', size: '10x10' }, /"size" must be/],
      [{ prompt: 'x', response_format: 'url' }, /b64_json only/],
      [{ prompt: 'x', model: 'nope' }, /unknown model "nope"/],
      [{ prompt: 'x', colour: 'red' }, /Unrecognized request argument supplied: colour/],
    ];
    for (const [body, pattern] of cases) {
      const res = await post(url, body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.type, 'invalid_request_error');
      assert.match(res.body.error.message, pattern);
    }
    const bad = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
      body: '{"prompt": ',
    });
    assert.equal(bad.status, 400);
    const big = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x'.repeat(2 << 20) }),
    }).catch((e: Error) => e);
    assert.ok(big instanceof Error || big.status === 413, 'an over-size body is refused');
  });

  it('routes one prompt or a list as route --json does', async () => {
    const res = await post(`${gw.url}/v1/route`, {
      prompt: ['a red car', 'a detailed map of an imaginary city with labelled districts'],
      budget: 0.5,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.prompts.length, 2);
    for (const p of res.body.prompts) {
      assert.ok(['edge', 'cloud'].includes(p.route));
      assert.ok(typeof p.prs === 'number' && Array.isArray(p.tokens));
    }
    assert.equal(res.body.budget, 0.5);
  });

  it('serves health and Prometheus metrics: requests by route and outcome, latency, spend, cap left', async () => {
    assert.equal((await get(`${gw.url}/healthz`, null)).status, 200);
    const m = (await get(`${gw.url}/metrics`, null)).text;
    assert.match(
      m,
      /routet2i_gateway_requests_total\{endpoint="\/v1\/images\/generations",route="cloud",outcome="ok"\} \d+/,
    );
    assert.match(
      m,
      /routet2i_gateway_requests_total\{endpoint="\/v1\/images\/generations",route="none",outcome="monthly_cap_reached"\} 1/,
    );
    assert.match(
      m,
      /routet2i_gateway_request_duration_seconds_bucket\{le="0\.005",endpoint="\/v1\/images\/generations",outcome="ok"\}/,
    );
    assert.match(m, /routet2i_gateway_spend_usd_total\{backend="openai"\} 0\.2/);
    assert.match(m, /routet2i_month_cap_left_usd 0/);
  });

  it('cancels the backend call when the client goes away, and keeps the call booked', async () => {
    const dir3 = mkdtempSync(join(tmpdir(), 'routet2i-gw-'));
    writeGatewayConfig(dir3, { edgeUrl: edge.server.url, cloudUrl: cloud.server.url, monthlyCap: 10 });
    const other = await serveInProcess(dir3, []);
    try {
      cloud.server.fault('POST', '/v1/images/generations', 'hang');
      const before = cloudCalls();
      const client = new AbortController();
      const pending = post(
        `${other.url}/v1/images/generations`,
        { prompt: 'x', model: 'cloud' },
        GATEWAY_KEY,
        client.signal,
      ).catch((e: Error) => e);
      await until(() => cloudCalls() > before, 'the provider to receive the call');
      client.abort();
      assert.ok((await pending) instanceof Error);
      // The provider may have taken the job: it stays booked (at the estimate), never released.
      const ledger = await until(async () => {
        const l = (await get(`${other.url}/v1/ledger`)).body;
        return l.reservations.length === 0 && l.entries.length === 1 ? l : undefined;
      }, 'the cancelled call to be settled');
      assert.equal(ledger.spent, 0.04);
      await until(() => /POST \/v1\/images\/generations 499/.test(other.log()), 'the gateway to log the cancellation');
      const file = JSON.parse(readFileSync(join(dir3, '.routet2i', 'ledger.json'), 'utf8'));
      assert.equal(Object.values(file.months as Record<string, { entries: unknown[] }>)[0]!.entries.length, 1);
    } finally {
      await other.stop();
    }
  });
});
