import { strict as assert } from 'node:assert';
import { createBackend } from '../../../src/backends/registry';
import type { GenerationProgress } from '../../../src/backends/types';
import { startA1111 } from '../../fixtures/servers/a1111';
import { rejectsWith } from '../../support/assert';
import { fast, testDeps } from '../../support/deps';

const request = { prompt: 'a lighthouse at dusk', negative: 'text, watermark', width: 640, height: 448, seed: 7, steps: 6 };

describe('AUTOMATIC1111/Forge backend (loopback)', () => {
  let a: Awaited<ReturnType<typeof startA1111>>;
  afterEach(async () => a?.server.close());

  it('posts txt2img with basic auth, polls /progress beside it and decodes the image', async () => {
    a = await startA1111({ auth: 'alice:s3cret-pass', tickMs: 15 });
    const { deps } = testDeps({ A1111_AUTH: 'alice:s3cret-pass' });
    const backend = createBackend('a1111', fast(a.server.url, { model: 'v1-5-pruned-emaonly.safetensors' }), deps.secrets, deps);
    const progress: GenerationProgress[] = [];
    const r = await backend.generate(request, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(Buffer.from(r.image), a.png);
    assert.equal(r.seed, 7);
    assert.equal(r.model, 'v1-5-pruned-emaonly.safetensors');
    const [post] = a.server.to('POST', '/sdapi/v1/txt2img');
    assert.equal(post!.headers.authorization, `Basic ${Buffer.from('alice:s3cret-pass').toString('base64')}`);
    assert.deepEqual(
      { p: post!.json.prompt, n: post!.json.negative_prompt, s: post!.json.seed, w: post!.json.width, h: post!.json.height, st: post!.json.steps, b: post!.json.batch_size },
      { p: 'a lighthouse at dusk', n: 'text, watermark', s: 7, w: 640, h: 448, st: 6, b: 1 },
    );
    assert.deepEqual(post!.json.override_settings, { sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors' });
    assert.ok(a.server.to('GET', '/sdapi/v1/progress').length >= 1);
    assert.ok(progress.some((p) => p.status === 'running' && typeof p.fraction === 'number'));
  });

  it('says which secret to fix when the password is refused', async () => {
    a = await startA1111({ auth: 'alice:right' });
    const { deps } = testDeps({ A1111_AUTH: 'alice:wrong-password' });
    const backend = createBackend('a1111', fast(a.server.url), deps.secrets, deps);
    const e = await rejectsWith(backend.generate(request), 'auth', /^a1111: POST \/sdapi\/v1\/txt2img: HTTP 401/);
    assert.ok(!e.message.includes('wrong-password'));
  });

  it('cancellation sends /sdapi/v1/interrupt', async () => {
    a = await startA1111({ hang: true, tickMs: 5 });
    const { deps } = testDeps();
    const backend = createBackend('a1111', fast(a.server.url), deps.secrets, deps);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 60);
    await rejectsWith(backend.generate(request, { signal: ctl.signal }), 'cancelled', /interrupt/);
    assert.equal(a.server.to('POST', '/sdapi/v1/interrupt').length, 1);
  });

  it('does not send txt2img again after a 503 (the job may still run); a 422 is a bad request naming the field', async () => {
    a = await startA1111();
    const { deps, delays } = testDeps();
    const backend = createBackend('a1111', fast(a.server.url), deps.secrets, deps);
    a.server.fault('POST', '/sdapi/v1/txt2img', { status: 503, body: 'Service Unavailable' });
    await rejectsWith(backend.generate(request), 'server', /HTTP 503/);
    assert.equal(a.server.to('POST', '/sdapi/v1/txt2img').length, 1);
    assert.equal(delays.filter((d) => d > 5).length, 0, 'no backoff before a second txt2img');
    a.server.fault('POST', '/sdapi/v1/txt2img', { status: 422, body: { detail: [{ loc: ['body', 'width'], msg: 'value is not a valid integer' }] } });
    await rejectsWith(backend.generate(request), 'bad-request', /HTTP 422: value is not a valid integer/);
  });

  it('health reads the current checkpoint', async () => {
    a = await startA1111();
    const { deps } = testDeps();
    const h = await createBackend('a1111', fast(a.server.url), deps.secrets, deps).health();
    assert.deepEqual(h, { ok: true, detail: 'AUTOMATIC1111/Forge API, checkpoint v1-5-pruned-emaonly.safetensors [6ce0161689]' });
  });
});
