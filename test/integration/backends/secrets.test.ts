import { strict as assert } from 'node:assert';
import { BackendError } from '../../../src/backends/errors';
import { createBackend, envSecrets, SECRET_NAMES } from '../../../src/backends/registry';
import { BACKEND_NAMES } from '../../../src/backends/types';
import { sendJson, TestServer } from '../../support/server';
import { fast, testDeps } from '../../support/deps';

/**
 * Keys never reach a message or a log: a hostile or careless server that echoes every header and the
 * body back in its error reply still yields errors with the key scrubbed, for every backend.
 */
const SECRET = 'TOPSECRET-key-5f4dcc3b5aa765d61d8327deb882cf99';

describe('secrets stay out of errors and logs', () => {
  let server: TestServer;
  const logged: string[] = [];
  const originals = {
    log: console.log,
    error: console.error,
    warn: console.warn,
    info: console.info,
    debug: console.debug,
  };
  before(() => {
    for (const k of Object.keys(originals) as (keyof typeof originals)[])
      console[k] = (...a: unknown[]) => void logged.push(a.map(String).join(' '));
  });
  after(() => Object.assign(console, originals));
  beforeEach(async () => {
    server = await TestServer.start();
    const echo = (status: number) => (req: { headers: object; body: Buffer }, res: Parameters<typeof sendJson>[0]) =>
      sendJson(res, status, {
        error: { message: `echo ${JSON.stringify(req.headers)} ${req.body.toString('utf8').slice(0, 500)}` },
      });
    for (const m of ['GET', 'POST', 'PUT']) server.on(m, /.*/, echo(401));
  });
  afterEach(async () => server.close());

  for (const name of BACKEND_NAMES) {
    const secretName = SECRET_NAMES[name];
    if (!secretName) continue;
    it(`${name}: an echoed ${secretName} is scrubbed from the error`, async () => {
      const value = name === 'a1111' ? `admin:${SECRET}` : SECRET;
      const { deps } = testDeps({ [secretName]: value });
      const backend = createBackend(name, fast(server.url, { price: 0.01 }), deps.secrets, deps);
      let error: unknown;
      try {
        await backend.generate({ prompt: 'p', width: 512, height: 512 });
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof BackendError, String(error));
      assert.equal(error.code, 'auth');
      assert.match(error.message, /echo/, 'the echoed reply is part of the message');
      assert.ok(!error.message.includes(SECRET), error.message);
      assert.ok(!error.message.includes(Buffer.from(value).toString('base64')), error.message);
      assert.ok(!String(error.stack).includes(SECRET));
      assert.ok(!JSON.stringify(error).includes(SECRET));
      const health = await backend.health();
      assert.ok(!health.detail.includes(SECRET));
      assert.ok(logged.every((l) => !l.includes(SECRET)));
    });
  }

  it('a key never goes over plain http to another machine; allowInsecureHttp is the explicit per-backend opt-in', async () => {
    const sent: string[] = [];
    const fakeFetch = (async (url: string | URL | Request) => {
      sent.push(String(url));
      return new Response(JSON.stringify({ error: { message: 'nope' } }), {
        status: 401,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    const cases: [string, Record<string, string>, string][] = [
      ['openai', { OPENAI_API_KEY: SECRET }, 'http://api.example.test'],
      ['a1111', { A1111_AUTH: `admin:${SECRET}` }, 'http://192.168.1.20:7860'],
      ['openai-compatible', { OPENAI_COMPATIBLE_API_KEY: SECRET }, 'http://10.0.0.5:1234'],
      ['bfl', { BFL_API_KEY: SECRET }, 'http://api.example.test'],
    ];
    for (const [name, secrets, url] of cases) {
      const { deps } = testDeps(secrets);
      const plain = createBackend(name, fast(url, { price: 0.01 }), deps.secrets, {
        ...deps,
        http: { ...deps.http, fetch: fakeFetch },
      });
      await assert.rejects(plain.generate({ prompt: 'p', width: 512, height: 512 }), (e: unknown) => {
        assert.ok(e instanceof BackendError && e.code === 'config', String(e));
        assert.match(e.message, /refusing to send the key: .* plain http.*allowInsecureHttp/);
        assert.equal(e.details.notTaken, true, 'nothing was sent, nothing can be charged');
        return true;
      });
      assert.deepEqual(sent, [], `${name}: nothing was sent`);
      const optedIn = createBackend(name, fast(url, { price: 0.01, allowInsecureHttp: true }), deps.secrets, {
        ...deps,
        http: { ...deps.http, fetch: fakeFetch },
      });
      await assert.rejects(optedIn.generate({ prompt: 'p', width: 512, height: 512 }), /HTTP 401/);
      assert.ok(sent.length >= 1, `${name}: sent once the user opted in`);
      sent.length = 0;
    }
  });

  it('a password inside a backend URL never reaches a message', () => {
    const { deps } = testDeps();
    assert.throws(
      () => createBackend('a1111', { url: 'http://alice:hunter2-pass@192.168.1.5:7860' }, deps.secrets, deps),
      (e: unknown) =>
        e instanceof BackendError &&
        e.code === 'config' &&
        !e.message.includes('hunter2') &&
        /alice:\*\*\*@/.test(e.message),
    );
  });

  it("the CLI reads only the backends' own variables from the environment", async () => {
    const s = envSecrets({ OPENAI_API_KEY: 'a', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'b' });
    assert.equal(await s.get('OPENAI_API_KEY'), 'a');
    assert.equal(await s.get('AWS_SECRET_ACCESS_KEY'), undefined);
    assert.equal(await s.get('HOME'), undefined);
  });
});
