import { strict as assert } from 'node:assert';
import { createBackend } from '../../../src/backends/registry';
import { startStability } from '../../fixtures/servers/stability';
import { rejectsWith } from '../../support/assert';
import { fast, testDeps } from '../../support/deps';

const KEY = 'sk-stab-00112233445566';
const request = { prompt: 'isometric tiny city', negative: 'people', width: 1344, height: 768, seed: 99 };

describe('Stability AI v2beta backend (loopback)', () => {
  let s: Awaited<ReturnType<typeof startStability>>;
  afterEach(async () => s?.server.close());

  it('sends multipart with accept image/*, reads the image and its seed header', async () => {
    s = await startStability({ key: KEY });
    const { deps } = testDeps({ STABILITY_API_KEY: KEY });
    const backend = createBackend('stability', fast(s.server.url, { model: 'sd3.5-large' }), deps.secrets, deps);
    const r = await backend.generate(request);
    assert.deepEqual(Buffer.from(r.image), s.png);
    assert.equal(r.seed, 99);
    assert.equal(r.cost, 0.065);
    const [post] = s.server.to('POST', '/v2beta/stable-image/generate/sd3');
    assert.match(String(post!.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.equal(post!.headers.accept, 'image/*');
    assert.equal(post!.headers.authorization, `Bearer ${KEY}`);
    const f = post!.form!;
    assert.deepEqual(
      ['prompt', 'negative_prompt', 'aspect_ratio', 'seed', 'output_format', 'model'].map((k) => f.get(k)),
      ['isometric tiny city', 'people', '16:9', '99', 'png', 'sd3.5-large'],
    );
  });

  it('reports a 403 content_moderation refusal as content-filter', async () => {
    s = await startStability({ key: KEY });
    const { deps } = testDeps({ STABILITY_API_KEY: KEY });
    const backend = createBackend('stability', fast(s.server.url), deps.secrets, deps);
    await rejectsWith(
      backend.generate({ ...request, prompt: 'forbidden thing' }),
      'content-filter',
      /^stability: the prompt was flagged by content moderation/,
    );
  });

  it('reports finish-reason CONTENT_FILTERED as content-filter and keeps no image', async () => {
    s = await startStability({ key: KEY });
    const { deps } = testDeps({ STABILITY_API_KEY: KEY });
    const backend = createBackend('stability', fast(s.server.url, { model: 'ultra' }), deps.secrets, deps);
    const e = await rejectsWith(
      backend.generate({ ...request, prompt: 'blurme please' }),
      'content-filter',
      /CONTENT_FILTERED/,
    );
    assert.equal(e.details.accepted, true, 'a filtered image is still charged');
  });

  it('a wrong key is an auth error; nothing is retried', async () => {
    s = await startStability({ key: KEY });
    const { deps } = testDeps({ STABILITY_API_KEY: 'sk-stab-wrong-999999' });
    const backend = createBackend('stability', fast(s.server.url), deps.secrets, deps);
    const e = await rejectsWith(backend.generate(request), 'auth');
    assert.ok(!e.message.includes('sk-stab-wrong-999999'));
    assert.equal(s.server.requests.length, 1);
  });

  it('402 (no credits) is a billing refusal the provider did not take', async () => {
    s = await startStability({ key: KEY });
    // Stability's error body: {id, name, errors: [...]} (platform.stability.ai API reference, "Errors").
    s.server.fault('POST', /^\/v2beta\/stable-image\/generate\//, {
      status: 402,
      body: {
        id: 'e9',
        name: 'payment_required',
        errors: ['You lack sufficient credits to make this request. Please purchase more credits.'],
      },
    });
    const { deps } = testDeps({ STABILITY_API_KEY: KEY });
    const e = await rejectsWith(
      createBackend('stability', fast(s.server.url), deps.secrets, deps).generate(request),
      'billing',
      /no credits left: You lack sufficient credits/,
    );
    assert.equal(e.details.notTaken, true);
  });

  it('health shows the credits left', async () => {
    s = await startStability({ key: KEY });
    const { deps } = testDeps({ STABILITY_API_KEY: KEY });
    const h = await createBackend('stability', fast(s.server.url), deps.secrets, deps).health();
    assert.deepEqual(h, { ok: true, detail: 'Stability AI core, 42.5 credits left' });
  });
});
