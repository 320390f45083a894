import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../../../src/backends/errors';
import { createBackend } from '../../../src/backends/registry';
import type { Backend } from '../../../src/backends/types';
import { Ledger } from '../../../src/generation/ledger';
import { MoneyCapError, meteredGenerate } from '../../../src/generation/metered';
import { startBfl } from '../../fixtures/servers/bfl';
import { startFal } from '../../fixtures/servers/fal';
import { startOpenAI } from '../../fixtures/servers/openai';
import { startReplicate } from '../../fixtures/servers/replicate';
import { startStability } from '../../fixtures/servers/stability';
import { makePng } from '../../support/png';
import { TestServer, sendJson } from '../../support/server';
import { fast, testDeps } from '../../support/deps';

/**
 * The money rule against loopback providers that speak the real wire formats and charge for every submit they
 * answer, then misbehave: each fault is its own case. The rule: booked until the provider positively says it did
 * not take the job (a 4xx to the submit itself, before any job id); everything else stays booked.
 */

const request = { prompt: 'a brass owl, studio light', width: 1024, height: 1024, seed: 7 };
const KEY = 'sk-money-test-000001';
const SUBMIT = '/v1/images/generations';

function tmpLedgerFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'money-')), '.routet2i', 'ledger.json');
}

async function ledger(cap: number | null = 5): Promise<Ledger> {
  return (await Ledger.open({ file: tmpLedgerFile(), monthlyCap: cap })).ledger;
}

/** What the ledger holds for the month: every call the provider may have charged must be in it. */
async function held(l: Ledger): Promise<number> {
  const s = await l.status();
  return Math.round((s.spent + s.reserved) * 1e9) / 1e9;
}

describe('money: the one metered call against misbehaving providers (loopback)', function () {
  this.timeout(30_000);
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  async function openai(
    extra: Record<string, unknown> = {},
    http: Record<string, unknown> = {},
  ): Promise<{ server: TestServer; backend: Backend }> {
    const o = await startOpenAI({ key: KEY });
    open.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const backend = createBackend(
      'openai',
      fast(o.server.url, { model: 'gpt-image-2.6-flare', price: 0.04, retries: 2, ...extra }),
      deps.secrets,
      { ...deps, http: { ...deps.http, ...http } },
    );
    return { server: o.server, backend };
  }

  /** Runs one metered call and checks the rule: the call stays booked at the estimate, and the error is the one expected. */
  async function staysBooked(backend: Backend, code: string, submits: () => number): Promise<void> {
    const l = await ledger();
    const out = await meteredGenerate(backend, request, { ledger: l, note: 'p1' });
    assert.equal(out.ok, false);
    assert.ok(!out.ok && out.booked, 'booked');
    assert.equal(!out.ok && (out.error as BackendError).code, code);
    assert.equal(submits(), 1, 'a paid submit the provider may have taken is never sent again');
    assert.equal((await l.status()).spent, 0.04, 'booked at the estimate');
    assert.equal((await l.status()).reserved, 0);
  }

  it('truncated JSON without a Content-Length stays booked', async () => {
    const server = await TestServer.start();
    open.push(server);
    server.on('POST', SUBMIT, (_req, res) => {
      // Chunked (no Content-Length), then the connection ends mid-document: nothing says how much was due.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"created": 1700000000, "data": [{"b64_json": "iVBORw0KGgo');
      res.end();
    });
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const backend = createBackend(
      'openai',
      fast(server.url, { model: 'gpt-image-2.6-flare', price: 0.04 }),
      deps.secrets,
      deps,
    );
    await staysBooked(backend, 'bad-reply', () => server.to('POST', SUBMIT).length);
  });

  it('a reply without data stays booked', async () => {
    const { server, backend } = await openai();
    server.fault('POST', SUBMIT, { status: 200, body: { created: 1_700_000_000 } });
    await staysBooked(backend, 'bad-reply', () => server.to('POST', SUBMIT).length);
  });

  it('bytes that are not an image stay booked', async () => {
    const { server, backend } = await openai();
    server.fault('POST', SUBMIT, {
      status: 200,
      body: { created: 1, data: [{ b64_json: Buffer.from('<html>not an image</html>').toString('base64') }] },
    });
    await staysBooked(backend, 'bad-reply', () => server.to('POST', SUBMIT).length);
  });

  it('an over-size reply stays booked', async () => {
    const { server, backend } = await openai({}, { maxBytes: 4096 });
    server.fault('POST', SUBMIT, {
      status: 200,
      body: { created: 1, data: [{ b64_json: Buffer.alloc(20_000, 7).toString('base64') }] },
    });
    await staysBooked(backend, 'too-large', () => server.to('POST', SUBMIT).length);
  });

  it('a 5xx to the submit stays booked and is not sent again', async () => {
    const { server, backend } = await openai();
    server.fault('POST', SUBMIT, { status: 500, body: { error: { message: 'The server had an error' } } });
    await staysBooked(backend, 'server', () => server.to('POST', SUBMIT).length);
  });

  it('a 4xx to the submit itself is "not taken": released, nothing booked', async () => {
    const { server, backend } = await openai();
    server.fault('POST', SUBMIT, {
      status: 400,
      body: { error: { message: 'Invalid size', type: 'invalid_request_error' } },
    });
    const l = await ledger();
    const out = await meteredGenerate(backend, request, { ledger: l });
    assert.ok(!out.ok && !out.booked && out.cost === 0);
    assert.equal(await held(l), 0);
    // A content refusal at the submit is a 400 before any job, too.
    const refused = await meteredGenerate(backend, { ...request, prompt: 'something forbidden' }, { ledger: l });
    assert.ok(!refused.ok && (refused.error as BackendError).code === 'content-filter' && !refused.booked);
    assert.equal(await held(l), 0);
  });

  it('a 429 is "not taken": the submit is sent again and booked once', async () => {
    const { server, backend } = await openai();
    server.fault('POST', SUBMIT, { status: 429, body: { error: { message: 'Rate limit reached' } } });
    const l = await ledger();
    const out = await meteredGenerate(backend, request, { ledger: l });
    assert.ok(out.ok);
    assert.equal(server.to('POST', SUBMIT).length, 2);
    assert.equal((await l.status()).spent, 0.04);
  });

  it('Ctrl-C during a paid request stays booked', async () => {
    const { server, backend } = await openai();
    server.fault('POST', SUBMIT, 'hang');
    const l = await ledger();
    const stop = new AbortController();
    const call = meteredGenerate(backend, request, { ledger: l, signal: stop.signal });
    // Wait until the provider has the request, then stop.
    while (server.to('POST', SUBMIT).length === 0) await new Promise((r) => setImmediate(r));
    stop.abort();
    const out = await call;
    assert.ok(!out.ok && out.booked && (out.error as BackendError).code === 'cancelled');
    assert.equal((await l.status()).spent, 0.04);
  });

  it('Ctrl-C during a paid Stability request stays booked', async () => {
    const st = await startStability({ key: 'sk-stability-000001' });
    open.push(st.server);
    st.server.fault('POST', /^\/v2beta\/stable-image\/generate\//, 'hang');
    const { deps } = testDeps({ STABILITY_API_KEY: 'sk-stability-000001' });
    const backend = createBackend('stability', fast(st.server.url, { model: 'core' }), deps.secrets, deps);
    const l = await ledger();
    const stop = new AbortController();
    const call = meteredGenerate(backend, request, { ledger: l, signal: stop.signal });
    while (st.server.to('POST', /^\/v2beta\//).length === 0) await new Promise((r) => setImmediate(r));
    stop.abort();
    const out = await call;
    assert.ok(!out.ok && out.booked && (out.error as BackendError).code === 'cancelled');
    assert.equal((await l.status()).spent, backend.estimateCost(request));
  });

  it('Ctrl-C while a Replicate prediction runs stays booked (it is cancelled on the server, but may be charged)', async () => {
    const cdn = await TestServer.start();
    open.push(cdn);
    const r8 = await startReplicate({ token: 'r8_token_0000000002', cdnUrl: cdn.url, behaviour: 'hang' });
    open.push(r8.server);
    const { deps } = testDeps({ REPLICATE_API_TOKEN: 'r8_token_0000000002' });
    const backend = createBackend(
      'replicate',
      fast(r8.server.url, { model: 'black-forest-labs/flux-1.1-pro', preferWait: 0 }),
      deps.secrets,
      deps,
    );
    const l = await ledger();
    const stop = new AbortController();
    const call = meteredGenerate(backend, request, { ledger: l, signal: stop.signal });
    while (r8.server.to('GET', /^\/v1\/predictions\//).length === 0) await new Promise((r) => setImmediate(r));
    stop.abort();
    const out = await call;
    assert.ok(!out.ok && out.booked && (out.error as BackendError).code === 'cancelled');
    assert.equal((await l.status()).spent, 0.04);
  });

  it('a stop before anything was sent books nothing', async () => {
    const { server, backend } = await openai();
    const l = await ledger();
    const stop = new AbortController();
    stop.abort();
    const out = await meteredGenerate(backend, request, { ledger: l, signal: stop.signal });
    assert.ok(!out.ok && !out.booked);
    assert.equal(server.to('POST', SUBMIT).length, 0);
    assert.equal(await held(l), 0);
  });

  it('maxWaitMs holds while a reply trickles in a byte at a time; the call stays booked', async () => {
    const server = await TestServer.start();
    open.push(server);
    const timers: NodeJS.Timeout[] = [];
    server.on('POST', SUBMIT, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // One byte well inside the idle timeout, forever: only the whole-call deadline can end it.
      timers.push(setInterval(() => res.write(' '), 20));
    });
    open.push({ close: async () => timers.forEach(clearInterval) });
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const backend = createBackend(
      'openai',
      fast(server.url, { model: 'gpt-image-2.6-flare', price: 0.04, idleTimeoutMs: 2000, maxWaitMs: 400 }),
      deps.secrets,
      deps,
    );
    const l = await ledger();
    const out = await meteredGenerate(backend, request, { ledger: l });
    assert.ok(!out.ok && (out.error as BackendError).code === 'timeout' && /maxWaitMs/.test(out.error.message));
    assert.ok(out.booked);
    assert.equal((await l.status()).spent, 0.04);
  });

  describe('the image download fails (CDN 503) after the job ran', () => {
    async function brokenCdn(): Promise<TestServer> {
      const cdn = await TestServer.start();
      cdn.on('GET', /^\/files\//, (_r, res) => sendJson(res, 503, { error: 'Service Unavailable' }));
      open.push(cdn);
      return cdn;
    }

    it('BFL: stays booked', async () => {
      const cdn = await brokenCdn();
      const bfl = await startBfl({ key: 'bfl-key-000001', cdnUrl: cdn.url });
      open.push(bfl.server);
      const { deps } = testDeps({ BFL_API_KEY: 'bfl-key-000001' });
      const backend = createBackend(
        'bfl',
        fast(bfl.server.url, { model: 'flux-pro-1.1', retries: 0 }),
        deps.secrets,
        deps,
      );
      await staysBooked(backend, 'server', () => bfl.server.to('POST', /^\/v1\/flux/).length);
      assert.equal(cdn.to('GET', /^\/files\//).length, 1);
    });

    it('Replicate: stays booked', async () => {
      const cdn = await brokenCdn();
      const r8 = await startReplicate({ token: 'r8_token_0000000001', cdnUrl: cdn.url });
      open.push(r8.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: 'r8_token_0000000001' });
      const backend = createBackend(
        'replicate',
        fast(r8.server.url, { model: 'black-forest-labs/flux-1.1-pro', preferWait: 0, retries: 0 }),
        deps.secrets,
        deps,
      );
      await staysBooked(backend, 'server', () => r8.server.to('POST', /predictions$/).length);
    });

    it('fal: stays booked', async () => {
      const cdn = await brokenCdn();
      const fal = await startFal({ key: 'fal-key-000001', cdnUrl: cdn.url });
      open.push(fal.server);
      const { deps } = testDeps({ FAL_KEY: 'fal-key-000001' });
      const backend = createBackend(
        'fal',
        fast(fal.server.url, { model: 'fal-ai/flux/dev', price: 0.04, retries: 0 }),
        deps.secrets,
        deps,
      );
      await staysBooked(backend, 'server', () => fal.server.to('POST', /^\/fal-ai\/flux\/dev$/).length);
    });
  });

  it('refuses backend input that buys more images or pixels than the ledger books', async () => {
    const { deps } = testDeps({});
    assert.throws(
      () =>
        createBackend(
          'replicate',
          fast('http://127.0.0.1:1', { model: 'black-forest-labs/flux-dev', input: { num_outputs: 4 } }),
          deps.secrets,
          deps,
        ),
      (e: BackendError) => e.code === 'config' && /num_outputs/.test(e.message),
    );
    assert.throws(
      () =>
        createBackend(
          'fal',
          fast('http://127.0.0.1:1', {
            model: 'fal-ai/flux/dev',
            input: { num_images: 4, image_size: { width: 4096, height: 4096 } },
          }),
          deps.secrets,
          deps,
        ),
      (e: BackendError) => e.code === 'config' && /num_images.*image_size/.test(e.message),
    );
  });

  it('the monthly cap refuses a call before anything is sent', async () => {
    const { server, backend } = await openai();
    const l = await ledger(0.05);
    assert.ok((await meteredGenerate(backend, request, { ledger: l })).ok);
    await assert.rejects(meteredGenerate(backend, request, { ledger: l }), MoneyCapError);
    assert.equal(server.to('POST', SUBMIT).length, 1);
  });

  it('a settle that fails keeps the image, retries a bounded number of times, and the reservation keeps counting', async () => {
    const png = makePng(4, 4, [9, 9, 9]);
    const backend: Backend = {
      name: 'openai',
      side: 'cloud',
      model: 'm',
      estimateCost: () => 0.04,
      health: async () => ({ ok: true, detail: '' }),
      generate: async () => ({
        image: png,
        mime: 'image/png',
        backend: 'openai',
        model: 'm',
        cost: 0.03,
        timings: { totalMs: 1 },
      }),
    };
    const l = await ledger();
    let tries = 0;
    const failing = Object.create(l) as Ledger;
    failing.settle = async () => {
      tries++;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const warnings: string[] = [];
    const out = await meteredGenerate(backend, request, {
      ledger: failing,
      settleTries: 3,
      settleDelayMs: 1,
      onWarning: (m) => warnings.push(m),
    });
    assert.ok(out.ok && out.unsettled);
    assert.deepEqual(Buffer.from(out.result.image), png);
    assert.equal(tries, 3);
    assert.match(warnings[0]!, /image is kept.*keeps counting/);
    assert.equal((await l.status()).reserved, 0.04, 'the reservation still counts against the cap');
  });
});
