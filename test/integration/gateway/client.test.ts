import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOpenAI } from '../../fixtures/servers/openai';
import { GatewayClient, GatewayError, gatewayOutcome } from '../../../src/generation/gatewayClient';
import { saveOutcome } from '../../../src/generation/output';
import { CancelledError } from '../../../src/router/errors';
import { calibrateAlpha } from '../../../src/router/policy';
import {
  get,
  GATEWAY_KEY,
  serveInProcess,
  SMALL_KEY,
  until,
  writeGatewayConfig,
  type InProcessGateway,
} from '../../support/gateway';
import type { TestServer } from '../../support/server';

/**
 * The editor's gateway client (src/generation/gatewayClient.ts) against a real `routet2i serve` on loopback, itself in
 * front of loopback providers that speak OpenAI's Images API (test/fixtures/servers/openai.ts; the cloud charges
 * $0.04 an image). Whatever the client says about money, the gateway's ledger is the judge.
 */
describe('gateway client: the editor generating through `routet2i serve`', function () {
  this.timeout(60_000);
  let edge: { server: TestServer; png: Buffer };
  let cloud: { server: TestServer; png: Buffer };
  let dir: string;
  let gw: InProcessGateway;
  const cloudCalls = () => cloud.server.to('POST', '/v1/images/generations').length;
  const client = (key: string | null = GATEWAY_KEY) => new GatewayClient({ url: gw.url, ...(key ? { key } : {}) });
  const rejects = async (p: Promise<unknown>, code: string): Promise<GatewayError> => {
    const e = await p.then(
      () => assert.fail(`expected ${code}`),
      (x: unknown) => x,
    );
    assert.ok(e instanceof GatewayError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(!e.message.includes(GATEWAY_KEY) && !e.message.includes(SMALL_KEY), 'no key in a message');
    return e;
  };

  before(async () => {
    edge = await startOpenAI();
    cloud = await startOpenAI({ key: 'sk-provider-secret-123456' });
    dir = mkdtempSync(join(tmpdir(), 'routet2i-gwc-'));
    writeGatewayConfig(dir, { edgeUrl: edge.server.url, cloudUrl: cloud.server.url, monthlyCap: 1, fallback: 'none' });
    gw = await serveInProcess(dir, []);
  });
  after(async () => {
    await gw?.stop();
    await edge?.server.close();
    await cloud?.server.close();
  });

  it('renders on the side the request names, and saves the image with a sidecar holding the routing', async () => {
    const request = { prompt: 'a lighthouse at dusk, oil painting', width: 512, height: 512, negative: 'blurry' };
    const reply = await client().generate(request, 'cloud');
    assert.deepEqual(Buffer.from(reply.images[0]!), cloud.png);
    assert.equal(reply.mime, 'image/png');
    assert.equal(reply.routet2i.route, 'cloud');
    assert.equal(reply.routet2i.cost, 0.04);
    assert.match(reply.routet2i.why, /asked for model "cloud"/);
    assert.equal(cloud.server.to('POST', '/v1/images/generations').at(-1)!.json!.prompt, request.prompt);

    const out = mkdtempSync(join(tmpdir(), 'routet2i-gwc-out-'));
    const outcome = gatewayOutcome('lighthouse-p1', request, reply, 12);
    const files = await saveOutcome(out, outcome, {
      mode: reply.routet2i.mode,
      budget: 0.3,
      alpha: reply.routet2i.alpha,
      gateway: { url: gw.url, id: reply.routet2i.id },
    });
    assert.deepEqual(readFileSync(files.image), cloud.png);
    const side = JSON.parse(readFileSync(files.sidecar, 'utf8'));
    assert.equal(side.route, 'cloud');
    assert.equal(side.backend, 'openai');
    assert.equal(side.cost, 0.04);
    assert.equal(side.negative, 'blurry');
    assert.equal(side.gateway.id, reply.routet2i.id);
    assert.match(side.why, /asked for model "cloud".* \(gateway gw-[0-9a-f]+\)$/);
  });

  it('lets the team policy decide with model auto', async () => {
    const reply = await client().generate({ prompt: 'a red apple on a table', width: 256, height: 256 }, 'auto');
    assert.ok(['edge', 'cloud'].includes(reply.routet2i.route));
    assert.deepEqual(Buffer.from(reply.images[0]!), reply.routet2i.route === 'edge' ? edge.png : cloud.png);
    assert.ok(reply.routet2i.why.length > 0);
  });

  it("reads the team's month exactly as GET /v1/ledger serves it, and the policy α is calibrated on", async () => {
    const month = await client().ledger();
    const served = (await get(`${gw.url}/v1/ledger`)).body;
    delete served.key;
    assert.deepEqual(month, served);
    assert.ok(month.spent >= 0.04);
    assert.equal(month.cap, 1);
    const policy = await client().policy();
    assert.equal(policy.budget, 0.3);
    assert.equal(policy.monthlyCap, 1);
    assert.equal(policy.cloudPrice, 0.04);
    assert.equal(policy.cloud, 'openai');
    assert.ok(policy.history.length > 0);
    assert.equal(policy.alpha, calibrateAlpha(policy.history, policy.budget));
  });

  it('turns 401, 402, 429 and 400 into typed errors with what to do', async () => {
    const bad = await rejects(client('gw-wrong-key-0123456789abcdef').ledger(), 'gateway-auth');
    assert.equal(bad.details.status, 401);
    assert.match(bad.hint!, /Set Gateway Key/);
    await rejects(client(null).generate({ prompt: 'x', width: 64, height: 64 }, 'cloud'), 'gateway-auth');

    // The small key has a $0.08 cap of its own: two cloud images, then 402 before the provider is asked.
    const small = client(SMALL_KEY);
    await small.generate({ prompt: 'one', width: 64, height: 64 }, 'cloud');
    await small.generate({ prompt: 'two', width: 64, height: 64 }, 'cloud');
    const before = cloudCalls();
    const cap = await rejects(small.generate({ prompt: 'three', width: 64, height: 64 }, 'cloud'), 'gateway-cap');
    assert.equal(cap.details.status, 402);
    assert.equal(cap.details.apiCode, 'key_cap_reached');
    assert.match(cap.message, /monthly cap of this gateway key \(\$0\.08\) is reached/);
    assert.equal(cloudCalls(), before);

    cloud.server.fault('POST', '/v1/images/generations', {
      status: 429,
      body: { error: { message: 'Rate limit reached for images per minute.', code: 'rate_limit_exceeded' } },
      headers: { 'retry-after': '7' },
    });
    const limited = await rejects(
      client().generate({ prompt: 'x', width: 64, height: 64 }, 'cloud'),
      'gateway-rate-limited',
    );
    assert.equal(limited.details.retryAfterMs, 7000);
    assert.match(limited.hint!, /try again in 7 s/);

    const refused = await rejects(
      client().generate({ prompt: 'something forbidden', width: 64, height: 64 }, 'cloud'),
      'gateway-refused',
    );
    assert.equal(refused.details.apiCode, 'content_policy_violation');
    await rejects(client().generate({ prompt: 'x', width: 64, height: 64 }, 'no-such-backend'), 'gateway-refused');
  });

  it('cancels: the request is aborted, and the gateway keeps the call booked', async () => {
    const start = (await client().ledger()).spent;
    cloud.server.fault('POST', '/v1/images/generations', 'hang');
    const before = cloudCalls();
    const abort = new AbortController();
    const pending = client()
      .generate({ prompt: 'a slow one', width: 64, height: 64 }, 'cloud', abort.signal)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await until(() => cloudCalls() > before, 'the provider to receive the call');
    abort.abort();
    assert.ok((await pending) instanceof CancelledError);
    const month = await until(async () => {
      const m = await client().ledger();
      return m.reservations.length === 0 && m.spent > start ? m : undefined;
    }, 'the cancelled call to be settled at its estimate');
    assert.equal(Math.round((month.spent - start) * 100) / 100, 0.04);
  });

  it('sends a key only over https or to loopback, and says when nothing listens', async () => {
    let asked = 0;
    const spy = (() => {
      asked++;
      return Promise.reject(new Error('not reached'));
    }) as unknown as typeof fetch;
    assert.throws(
      () => new GatewayClient({ url: 'http://gateway.example.org:8787', key: GATEWAY_KEY, fetch: spy }),
      (e: GatewayError) => e.code === 'gateway-config' && /plain http/.test(e.message),
    );
    assert.throws(
      () => new GatewayClient({ url: 'http://user:pw@127.0.0.1:8787', key: GATEWAY_KEY }),
      (e: GatewayError) => e.code === 'gateway-config' && !e.message.includes('pw'),
    );
    assert.equal(
      new GatewayClient({ url: 'https://gateway.example.org/v1/', key: GATEWAY_KEY }).where,
      'https://gateway.example.org/',
    );
    assert.equal(asked, 0);

    // A port nobody listens on: taken from the system, then closed.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const gone = await rejects(
      new GatewayClient({ url: `http://127.0.0.1:${port}`, key: GATEWAY_KEY }).ledger(),
      'gateway-unavailable',
    );
    assert.match(gone.message, /cannot be reached \(ECONNREFUSED\)/);
  });
});
