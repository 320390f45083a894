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
  const originals = { log: console.log, error: console.error, warn: console.warn, info: console.info, debug: console.debug };
  before(() => {
    for (const k of Object.keys(originals) as (keyof typeof originals)[]) console[k] = (...a: unknown[]) => void logged.push(a.map(String).join(' '));
  });
  after(() => Object.assign(console, originals));
  beforeEach(async () => {
    server = await TestServer.start();
    const echo = (status: number) => (req: { headers: object; body: Buffer }, res: Parameters<typeof sendJson>[0]) =>
      sendJson(res, status, { error: { message: `echo ${JSON.stringify(req.headers)} ${req.body.toString('utf8').slice(0, 500)}` } });
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

  it('the CLI reads only the backends\' own variables from the environment', async () => {
    const s = envSecrets({ OPENAI_API_KEY: 'a', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'b' });
    assert.equal(await s.get('OPENAI_API_KEY'), 'a');
    assert.equal(await s.get('AWS_SECRET_ACCESS_KEY'), undefined);
    assert.equal(await s.get('HOME'), undefined);
  });
});
