import { strict as assert } from 'node:assert';
import { createBackend } from '../../../src/backends/registry';
import type { GenerationProgress } from '../../../src/backends/types';
import { startA1111 } from '../../fixtures/servers/a1111';
import { rejectsWith } from '../../support/assert';
import { fast, testDeps } from '../../support/deps';

const request = {
  prompt: 'a lighthouse at dusk',
  negative: 'text, watermark',
  width: 640,
  height: 448,
  seed: 7,
  steps: 6,
};

describe('AUTOMATIC1111/Forge backend (loopback)', () => {
  let a: Awaited<ReturnType<typeof startA1111>>;
  afterEach(async () => a?.server.close());

  it('posts txt2img with basic auth, polls /progress beside it and decodes the image', async () => {
    a = await startA1111({ auth: 'alice:s3cret-pass', tickMs: 15 });
    const { deps } = testDeps({ A1111_AUTH: 'alice:s3cret-pass' });
    const backend = createBackend(
      'a1111',
      fast(a.server.url, { model: 'v1-5-pruned-emaonly.safetensors' }),
      deps.secrets,
      deps,
    );
    const progress: GenerationProgress[] = [];
    const r = await backend.generate(request, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(Buffer.from(r.image), a.png);
    assert.equal(r.seed, 7);
    assert.equal(r.model, 'v1-5-pruned-emaonly', 'the checkpoint the server reports it used');
    const [post] = a.server.to('POST', '/sdapi/v1/txt2img');
    assert.equal(post!.headers.authorization, `Basic ${Buffer.from('alice:s3cret-pass').toString('base64')}`);
    assert.deepEqual(
      {
        p: post!.json.prompt,
        n: post!.json.negative_prompt,
        s: post!.json.seed,
        w: post!.json.width,
        h: post!.json.height,
        st: post!.json.steps,
        b: post!.json.batch_size,
      },
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

  it('cancellation sends /sdapi/v1/interrupt for our running job', async () => {
    a = await startA1111({ hang: true, tickMs: 5 });
    const { deps } = testDeps();
    const backend = createBackend('a1111', fast(a.server.url), deps.secrets, deps);
    const ctl = new AbortController();
    // Cancel once the server reports our job running (not after a guessed time).
    await rejectsWith(
      backend.generate(request, { signal: ctl.signal, onProgress: (p) => p.status === 'running' && ctl.abort() }),
      'cancelled',
      /interrupted our job/,
    );
    assert.equal(a.server.to('POST', '/sdapi/v1/interrupt').length, 1);
    const [post] = a.server.to('POST', '/sdapi/v1/txt2img');
    assert.match(post!.json.force_task_id, /^task\(routet2i-/);
    assert.deepEqual(a.interrupts, [post!.json.force_task_id], 'the job interrupted was ours');
  });

  it("a cancel never interrupts another client's job: ours waits in the queue behind it", async () => {
    a = await startA1111({ tickMs: 5 });
    const other = a.otherJob(400);
    const { deps } = testDeps();
    const backend = createBackend('a1111', fast(a.server.url), deps.secrets, deps);
    const ctl = new AbortController();
    const run = backend.generate(request, {
      signal: ctl.signal,
      onProgress: (p) => p.status === 'running' && ctl.abort(),
    });
    await rejectsWith(run, 'cancelled', /still queued on the server/);
    assert.equal(a.server.to('POST', '/sdapi/v1/interrupt').length, 0);
    assert.deepEqual(a.interrupts, []);
    a.state.interrupted = true;
    await other;
  });

  it('without /internal/progress (an old build) it cannot tell whose job runs, so it interrupts nothing', async () => {
    a = await startA1111({ hang: true, tickMs: 5, noTaskApi: true });
    const { deps } = testDeps();
    const backend = createBackend('a1111', fast(a.server.url), deps.secrets, deps);
    const ctl = new AbortController();
    await rejectsWith(
      backend.generate(request, { signal: ctl.signal, onProgress: (p) => p.status === 'running' && ctl.abort() }),
      'cancelled',
      /left alone/,
    );
    assert.equal(a.server.to('POST', '/sdapi/v1/interrupt').length, 0);
    a.state.interrupted = true;
  });

  it("shows the server's message (detail/errors), not the exception's class name", async () => {
    a = await startA1111({ oom: true });
    const { deps } = testDeps();
    const backend = createBackend('a1111', fast(a.server.url), deps.secrets, deps);
    const e = await rejectsWith(
      backend.generate(request),
      'server',
      /CUDA out of memory\. Tried to allocate 2\.00 GiB/,
    );
    assert.ok(!/OutOfMemoryError/.test(e.message), e.message);
  });

  it('an unknown sampler is a config error listing the samplers, not "404 – check the URL"', async () => {
    a = await startA1111();
    const { deps } = testDeps();
    const backend = createBackend('a1111', fast(a.server.url, { sampler: 'Euler Ancestral' }), deps.secrets, deps);
    const e = await rejectsWith(
      backend.generate(request),
      'config',
      /the server has no sampler "Euler Ancestral"; it has: DPM\+\+ 2M, DPM\+\+ SDE, Euler a/,
    );
    assert.ok(!/check the URL/.test(e.message));
  });

  it('an unknown checkpoint is refused before any job (the server would silently render with another)', async () => {
    a = await startA1111();
    const { deps } = testDeps();
    const backend = createBackend(
      'a1111',
      fast(a.server.url, { model: 'dreamshaper_8.safetensors' }),
      deps.secrets,
      deps,
    );
    await rejectsWith(
      backend.generate(request),
      'config',
      /no checkpoint "dreamshaper_8.safetensors".*it has: v1-5-pruned-emaonly.safetensors \[6ce0161689\], sd_xl_base_1.0.safetensors/,
    );
    assert.equal(a.server.to('POST', '/sdapi/v1/txt2img').length, 0);
    // A name the server knows, in any of its forms, is sent as configured.
    const ok = createBackend('a1111', fast(a.server.url, { model: 'sd_xl_base_1.0' }), deps.secrets, deps);
    const r = await ok.generate(request);
    assert.equal(r.model, 'sd_xl_base_1.0');
  });

  it('retries a 503 on the free local txt2img (a job run twice costs only time); a 422 is a bad request naming the field', async () => {
    a = await startA1111();
    const { deps, delays } = testDeps();
    const backend = createBackend('a1111', fast(a.server.url), deps.secrets, deps);
    a.server.fault('POST', '/sdapi/v1/txt2img', { status: 503, body: 'Service Unavailable' });
    await backend.generate(request);
    assert.equal(a.server.to('POST', '/sdapi/v1/txt2img').length, 2);
    assert.ok(delays.length >= 1);
    a.server.fault('POST', '/sdapi/v1/txt2img', {
      status: 422,
      body: { detail: [{ loc: ['body', 'width'], msg: 'value is not a valid integer' }] },
    });
    await rejectsWith(backend.generate(request), 'bad-request', /HTTP 422: value is not a valid integer/);
  });

  it('health reads the current checkpoint', async () => {
    a = await startA1111();
    const { deps } = testDeps();
    const h = await createBackend('a1111', fast(a.server.url), deps.secrets, deps).health();
    assert.deepEqual(h, {
      ok: true,
      detail: 'AUTOMATIC1111/Forge API, checkpoint v1-5-pruned-emaonly.safetensors [6ce0161689]',
    });
  });
});
