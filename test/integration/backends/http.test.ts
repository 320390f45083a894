import { strict as assert } from 'node:assert';
import { BackendError } from '../../../src/backends/errors';
import { HttpClient, parseRetryAfter } from '../../../src/backends/http';
import { sendJson, TestServer } from '../../support/server';
import { testDeps } from '../../support/deps';

const SECRET = 'sk-test-0123456789abcdef';

function client(extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
  const { deps, delays } = testDeps();
  const http = new HttpClient({
    backend: 'demo',
    secrets: () => [SECRET],
    ...deps.http,
    timeoutMs: 300,
    idleTimeoutMs: 150,
    ...extra,
  });
  return { http, delays };
}

async function failure(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BackendError, `expected a BackendError, got ${String(e)}`);
    assert.ok(!e.message.includes(SECRET), 'no secret in messages');
    assert.match(e.message, /^demo: /);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('HTTP layer: retries, timeouts, limits, cancellation', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await TestServer.start();
    server.on('GET', '/ok', (_r, res) => sendJson(res, 200, { ok: true }));
    server.on('POST', '/ok', (_r, res) => sendJson(res, 200, { ok: true }));
  });
  afterEach(async () => server.close());

  it('waits what Retry-After asks on 429, then succeeds', async () => {
    server.fault('POST', '/ok', {
      status: 429,
      body: { error: { message: 'slow down' } },
      headers: { 'retry-after': '2' },
    });
    const { http, delays } = client();
    assert.deepEqual(await http.json(`${server.url}/ok`, { json: { a: 1 } }), { ok: true });
    assert.deepEqual(delays, [2000]);
    assert.equal(server.to('POST', '/ok').length, 2);
  });

  it('backs off exponentially on 5xx, then succeeds', async () => {
    server.fault('GET', '/ok', { status: 503, body: 'busy' }, { status: 502, body: 'bad gateway' });
    const { http, delays } = client();
    assert.deepEqual(await http.json(`${server.url}/ok`), { ok: true });
    // base 500 ms, doubling, full jitter at random() = 0.5 → 3/4 of the cap.
    assert.deepEqual(delays, [375, 750]);
  });

  it('stops after the bounded retries with a server error that says how many attempts', async () => {
    server.fault('GET', '/ok', ...Array.from({ length: 5 }, () => ({ status: 500, body: { detail: 'kaput' } })));
    const { http } = client({ retry: { retries: 3, baseDelayMs: 10, maxDelayMs: 100, maxRetryAfterMs: 1000 } });
    const e = await failure(http.json(`${server.url}/ok`));
    assert.equal(e.code, 'server');
    assert.match(e.message, /HTTP 500 \(server error\) after 4 attempts: kaput/);
    assert.equal(server.to('GET', '/ok').length, 4);
  });

  it('does not wait for a Retry-After longer than allowed', async () => {
    server.fault('GET', '/ok', { status: 429, headers: { 'retry-after': '3600' } });
    const { http, delays } = client();
    const e = await failure(http.json(`${server.url}/ok`));
    assert.equal(e.code, 'rate-limited');
    assert.equal(e.details.retryAfterMs, 3_600_000);
    assert.deepEqual(delays, []);
  });

  it('retries 504 for a GET but not for a paid POST', async () => {
    server.fault('GET', '/ok', { status: 504 });
    server.fault('POST', '/ok', { status: 504 });
    const { http } = client();
    assert.deepEqual(await http.json(`${server.url}/ok`), { ok: true });
    const e = await failure(http.json(`${server.url}/ok`, { json: {} }));
    assert.equal(e.code, 'server');
    assert.equal(server.to('POST', '/ok').length, 1);
  });

  it('times out a request that gets no reply; a POST is not repeated and may have been accepted', async () => {
    server.fault('POST', '/ok', 'hang');
    const { http } = client();
    const e = await failure(http.json(`${server.url}/ok`, { json: {} }));
    assert.equal(e.code, 'timeout');
    assert.match(e.message, /no reply to POST \/ok within 300 ms/);
    assert.equal(e.details.accepted, true);
    assert.equal(server.to('POST', '/ok').length, 1);
  });

  it('retries a GET that timed out', async () => {
    server.fault('GET', '/ok', 'hang');
    const { http } = client();
    assert.deepEqual(await http.json(`${server.url}/ok`), { ok: true });
    assert.equal(server.to('GET', '/ok').length, 2);
  });

  it('detects a server that hangs mid-stream', async () => {
    server.fault('POST', '/ok', 'hang-mid-body');
    const { http } = client();
    const e = await failure(http.json(`${server.url}/ok`, { json: {} }));
    assert.equal(e.code, 'timeout');
    assert.match(e.message, /stopped arriving for 150 ms \(the server hangs mid-stream\)/);
  });

  it('reports a truncated body as a bad reply', async () => {
    server.fault('POST', '/ok', 'truncate');
    const { http } = client();
    const e = await failure(http.json(`${server.url}/ok`, { json: {} }));
    assert.equal(e.code, 'bad-reply');
    assert.match(e.message, /cut off/);
  });

  it('reports malformed JSON as a bad reply', async () => {
    server.fault('GET', '/ok', 'malformed');
    const { http } = client();
    const e = await failure(http.json(`${server.url}/ok`));
    assert.equal(e.code, 'bad-reply');
    assert.match(e.message, /not valid JSON/);
  });

  it('enforces the size limit from content-length and while streaming', async () => {
    server.on('GET', '/big', (_r, res) => sendJson(res, 200, { blob: 'x'.repeat(5000) }));
    server.on('GET', '/stream', (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 10; i++) res.write('x'.repeat(1000));
      res.end();
    });
    const { http } = client({ maxBytes: 2000 });
    assert.equal((await failure(http.request(`${server.url}/big`))).code, 'too-large');
    assert.equal((await failure(http.request(`${server.url}/stream`))).code, 'too-large');
  });

  it('cancels an in-flight request and a backoff wait', async () => {
    server.fault('GET', '/ok', 'hang');
    const { http } = client({ timeoutMs: 5000 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 30);
    assert.equal((await failure(http.json(`${server.url}/ok`, { signal: ctl.signal }))).code, 'cancelled');

    server.fault('GET', '/ok', { status: 503 });
    const slow = new HttpClient({
      backend: 'demo',
      secrets: () => [],
      retry: { retries: 3, baseDelayMs: 10_000, maxDelayMs: 10_000, maxRetryAfterMs: 1 },
    });
    const ctl2 = new AbortController();
    setTimeout(() => ctl2.abort(), 30);
    const started = Date.now();
    assert.equal((await failure(slow.json(`${server.url}/ok`, { signal: ctl2.signal }))).code, 'cancelled');
    assert.ok(Date.now() - started < 2000);
  });

  it('maps 401 to auth and scrubs an echoed key from the message', async () => {
    server.on('GET', '/auth', (r, res) =>
      sendJson(res, 401, {
        error: { message: `Incorrect API key provided: ${String(r.headers.authorization).slice(7)}` },
      }),
    );
    const { http } = client();
    const e = await failure(http.json(`${server.url}/auth`, { headers: { authorization: `Bearer ${SECRET}` } }));
    assert.equal(e.code, 'auth');
    assert.match(e.message, /Incorrect API key provided: \*\*\*/);
  });

  it('reads Retry-After as seconds, as an HTTP date, and retry-after-ms', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter(new Headers({ 'retry-after': '1.5' }), now), 1500);
    assert.equal(parseRetryAfter(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:10 GMT' }), now), 10_000);
    assert.equal(parseRetryAfter(new Headers({ 'retry-after-ms': '250' }), now), 250);
    assert.equal(parseRetryAfter(new Headers({}), now), undefined);
  });
});
