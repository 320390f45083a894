import { strict as assert } from 'node:assert';
import { createBackend } from '../../../src/backends/registry';
import type { GenerationProgress } from '../../../src/backends/types';
import { startBfl } from '../../fixtures/servers/bfl';
import { startFal } from '../../fixtures/servers/fal';
import { startCdn } from '../../fixtures/servers/openai';
import { startReplicate } from '../../fixtures/servers/replicate';
import { rejectsWith } from '../../support/assert';
import { fast, testDeps } from '../../support/deps';

/** The submit-and-poll clouds: Replicate, fal.ai, Black Forest Labs. */

const request = {
  prompt: 'a brass owl, studio light',
  negative: 'lowres',
  width: 1024,
  height: 768,
  seed: 11,
  steps: 4,
};

describe('submit-and-poll backends (loopback)', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  async function cdn() {
    const c = await startCdn();
    open.push(c.server);
    return c;
  }

  describe('Replicate', () => {
    const TOKEN = 'r8_abcdefghijklmnop1234';

    it('creates an official-model prediction, polls urls.get, downloads the output without the token', async () => {
      const c = await cdn();
      const r8 = await startReplicate({ token: TOKEN, cdnUrl: c.server.url });
      open.push(r8.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: TOKEN });
      const backend = createBackend('replicate', fast(r8.server.url, { preferWait: 0 }), deps.secrets, deps);
      const progress: GenerationProgress[] = [];
      const r = await backend.generate(request, { onProgress: (p) => progress.push(p) });
      assert.deepEqual(Buffer.from(r.image), c.png);
      assert.equal(r.cost, 0.003);
      const [post] = r8.server.to('POST', '/v1/models/black-forest-labs/flux-schnell/predictions');
      assert.equal(post!.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(post!.headers.prefer, undefined);
      // flux-schnell has no negative prompt: it is not sent, and the result says so.
      assert.deepEqual(post!.json.input, {
        prompt: 'a brass owl, studio light',
        seed: 11,
        num_outputs: 1,
        output_format: 'png',
        aspect_ratio: '4:3',
        num_inference_steps: 4,
      });
      assert.deepEqual(r.sent?.notes, ['negative prompt not sent (the model has no negative prompt)']);
      assert.ok(r8.server.to('GET', /^\/v1\/predictions\//).length >= 2);
      assert.ok(
        progress.some((p) => p.status === 'running' && p.fraction === 0.5),
        'progress read from the tqdm logs',
      );
      assert.equal(c.server.requests[0]!.headers.authorization, undefined);
    });

    it('uses Prefer: wait and a version id when configured', async () => {
      const c = await cdn();
      const r8 = await startReplicate({ token: TOKEN, cdnUrl: c.server.url });
      open.push(r8.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: TOKEN });
      const version = 'a'.repeat(64);
      const backend = createBackend(
        'replicate',
        fast(r8.server.url, { model: `stability-ai/sdxl:${version}`, price: 0.01, preferWait: 30 }),
        deps.secrets,
        deps,
      );
      await backend.generate(request);
      const [post] = r8.server.to('POST', '/v1/predictions');
      assert.equal(post!.headers.prefer, 'wait=30');
      assert.equal(post!.json.version, version);
      assert.equal(post!.json.input.width, 1024, 'non-FLUX models get width/height');
      assert.equal(r8.server.to('GET', /^\/v1\/predictions\//).length, 0, 'no poll needed after a sync reply');
    });

    it("fits steps to the model's range before paying: flux-schnell takes at most 4 (the README's steps: 30 got 422)", async () => {
      const c = await cdn();
      const r8 = await startReplicate({ token: TOKEN, cdnUrl: c.server.url });
      open.push(r8.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: TOKEN });
      const backend = createBackend('replicate', fast(r8.server.url, { preferWait: 0 }), deps.secrets, deps);
      const r = await backend.generate({ ...request, steps: 30 });
      assert.equal(r8.lastInputs[0]!.input.num_inference_steps, 4);
      assert.equal(r.sent?.steps, 4);
      assert.ok(r.sent?.notes?.includes('steps 30 → 4 (the model takes 1–4)'));
      // Sent as asked, the fixture answers as Replicate does.
      const raw = createBackend(
        'replicate',
        fast(r8.server.url, { preferWait: 0, input: { num_inference_steps: 30 } }),
        deps.secrets,
        deps,
      );
      await rejectsWith(
        raw.generate(request),
        'bad-request',
        /HTTP 422: .*num_inference_steps: Must be less than or equal to 4/,
      );
    });

    it('SD 3.5: aspect_ratio (not width/height), `steps`, and the negative prompt only where the schema has one', async () => {
      const c = await cdn();
      const r8 = await startReplicate({ token: TOKEN, cdnUrl: c.server.url });
      open.push(r8.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: TOKEN });
      const large = createBackend(
        'replicate',
        fast(r8.server.url, { preferWait: 0, model: 'stability-ai/stable-diffusion-3.5-large' }),
        deps.secrets,
        deps,
      );
      const r = await large.generate({ ...request, width: 1344, height: 768, steps: 28 });
      assert.deepEqual(r8.lastInputs[0], {
        model: 'stability-ai/stable-diffusion-3.5-large',
        input: { prompt: 'a brass owl, studio light', seed: 11, output_format: 'png', aspect_ratio: '16:9', steps: 28 },
      });
      assert.equal(r.sent?.aspectRatio, '16:9');
      assert.equal(r.cost, 0.065);
      const turbo = createBackend(
        'replicate',
        fast(r8.server.url, { preferWait: 0, model: 'stability-ai/stable-diffusion-3.5-large-turbo' }),
        deps.secrets,
        deps,
      );
      await turbo.generate({ ...request, steps: 30 });
      assert.equal(r8.lastInputs[1]!.input.steps, 10);
      assert.equal(r8.lastInputs[1]!.input.negative_prompt, 'lowres');
    });

    it('does not retry a create that failed with 5xx (a second paid prediction), only 429 as the official client does', async () => {
      const c = await cdn();
      const r8 = await startReplicate({ token: TOKEN, cdnUrl: c.server.url });
      open.push(r8.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: TOKEN });
      const backend = createBackend(
        'replicate',
        fast(r8.server.url, { preferWait: 0, retryDelayMs: 1 }),
        deps.secrets,
        deps,
      );
      r8.server.fault('POST', /\/predictions$/, { status: 502, body: { title: 'Bad Gateway', status: 502 } });
      const e = await rejectsWith(backend.generate(request), 'server', /HTTP 502/);
      assert.notEqual(e.details.notTaken, true, 'a prediction may have been created: kept booked');
      assert.equal(r8.server.to('POST', /\/predictions$/).length, 1);
      r8.server.fault('POST', /\/predictions$/, {
        status: 429,
        body: {
          title: 'Too Many Requests',
          detail: 'Request was throttled. Expected available in 1 second.',
          status: 429,
        },
        headers: { 'retry-after': '1' },
      });
      await backend.generate(request);
      assert.equal(r8.server.to('POST', /\/predictions$/).length, 3, 'the throttled create was sent again');
    });

    it('reports an NSFW failure as content-filter and a crash as failed', async () => {
      const c = await cdn();
      const nsfw = await startReplicate({ token: TOKEN, cdnUrl: c.server.url, behaviour: 'nsfw' });
      const fail = await startReplicate({ token: TOKEN, cdnUrl: c.server.url, behaviour: 'fail' });
      open.push(nsfw.server, fail.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: TOKEN });
      await rejectsWith(
        createBackend('replicate', fast(nsfw.server.url, { preferWait: 0 }), deps.secrets, deps).generate(request),
        'content-filter',
        /NSFW content detected/,
      );
      const e = await rejectsWith(
        createBackend('replicate', fast(fail.server.url, { preferWait: 0 }), deps.secrets, deps).generate(request),
        'failed',
        /CUDA error/,
      );
      assert.equal(e.details.accepted, true);
    });

    it('cancellation reaches urls.cancel', async () => {
      const c = await cdn();
      const r8 = await startReplicate({ token: TOKEN, cdnUrl: c.server.url, behaviour: 'hang' });
      open.push(r8.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: TOKEN });
      const backend = createBackend('replicate', fast(r8.server.url, { preferWait: 0 }), deps.secrets, deps);
      const ctl = new AbortController();
      const p = backend.generate(request, {
        signal: ctl.signal,
        onProgress: (e) => e.status === 'running' && ctl.abort(),
      });
      await rejectsWith(p, 'cancelled');
      const cancels = r8.server.to('POST', /\/cancel$/);
      assert.equal(cancels.length, 1);
      assert.equal(cancels[0]!.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal([...r8.preds.values()][0]!.status, 'canceled');
    });

    it('times out a prediction that never finishes', async () => {
      const c = await cdn();
      const r8 = await startReplicate({ token: TOKEN, cdnUrl: c.server.url, behaviour: 'hang' });
      open.push(r8.server);
      const { deps } = testDeps({ REPLICATE_API_TOKEN: TOKEN });
      const backend = createBackend(
        'replicate',
        fast(r8.server.url, { preferWait: 0, maxWaitMs: 100 }),
        deps.secrets,
        deps,
      );
      const e = await rejectsWith(backend.generate(request), 'timeout', /did not finish within/);
      assert.equal(e.details.accepted, true);
    });
  });

  describe('fal.ai', () => {
    const KEY = 'fal-key-id:fal-key-secret-123';

    it('submits to the queue, polls status, fetches the result and the image', async () => {
      const c = await cdn();
      const fal = await startFal({ key: KEY, cdnUrl: c.server.url });
      open.push(fal.server);
      const { deps } = testDeps({ FAL_KEY: KEY });
      const backend = createBackend('fal', fast(fal.server.url, { model: 'fal-ai/flux/dev' }), deps.secrets, deps);
      const progress: GenerationProgress[] = [];
      const r = await backend.generate(request, { onProgress: (p) => progress.push(p) });
      assert.deepEqual(Buffer.from(r.image), c.png);
      assert.equal(r.seed, 11);
      assert.equal(r.cost, 0.025, '0.79 MP bills as one megapixel');
      const [post] = fal.server.to('POST', '/fal-ai/flux/dev');
      assert.equal(post!.headers.authorization, `Key ${KEY}`);
      // FLUX dev has no negative prompt (fal's input schema): not sent, and the result says so.
      assert.deepEqual(post!.json, {
        prompt: 'a brass owl, studio light',
        seed: 11,
        image_size: { width: 1024, height: 768 },
        num_images: 1,
        output_format: 'png',
        enable_safety_checker: true,
        num_inference_steps: 4,
      });
      assert.deepEqual(r.sent?.notes, ['negative prompt not sent (the model has no negative prompt)']);
      assert.ok(progress.some((p) => p.status === 'queued' && p.position === 0));
      assert.ok(progress.some((p) => p.status === 'running'));
      assert.equal(c.server.requests[0]!.headers.authorization, undefined);
    });

    it('reports the safety checker as content-filter and a runner error as failed', async () => {
      const c = await cdn();
      const nsfw = await startFal({ key: KEY, cdnUrl: c.server.url, behaviour: 'nsfw' });
      const err = await startFal({ key: KEY, cdnUrl: c.server.url, behaviour: 'error' });
      open.push(nsfw.server, err.server);
      const { deps } = testDeps({ FAL_KEY: KEY });
      await rejectsWith(
        createBackend('fal', fast(nsfw.server.url), deps.secrets, deps).generate(request),
        'content-filter',
        /safety checker/,
      );
      await rejectsWith(
        createBackend('fal', fast(err.server.url), deps.secrets, deps).generate(request),
        'failed',
        /runner/,
      );
    });

    it('reads a refusal (422 content_policy_violation) from GET response_url: content-filter, not bad-request', async () => {
      const c = await cdn();
      const fal = await startFal({ key: KEY, cdnUrl: c.server.url, behaviour: 'policy' });
      open.push(fal.server);
      const { deps } = testDeps({ FAL_KEY: KEY });
      const e = await rejectsWith(
        createBackend('fal', fast(fal.server.url), deps.secrets, deps).generate(request),
        'content-filter',
        /content_policy_violation.*flagged by a content checker/,
      );
      assert.equal(e.details.accepted, true);
      assert.equal(
        fal.server.to('GET', /^\/fal-ai\/flux\/requests\/[\w-]+$/).length,
        1,
        'the result is read once, not retried',
      );
    });

    it('cancellation reaches cancel_url with PUT', async () => {
      const c = await cdn();
      const fal = await startFal({ key: KEY, cdnUrl: c.server.url, behaviour: 'hang' });
      open.push(fal.server);
      const { deps } = testDeps({ FAL_KEY: KEY });
      const backend = createBackend('fal', fast(fal.server.url), deps.secrets, deps);
      const ctl = new AbortController();
      await rejectsWith(
        backend.generate(request, { signal: ctl.signal, onProgress: (e) => e.status === 'running' && ctl.abort() }),
        'cancelled',
      );
      const [cancel] = fal.server.to('PUT', /\/cancel$/);
      assert.ok(cancel);
      assert.equal(cancel.headers.authorization, `Key ${KEY}`);
      assert.equal([...fal.reqs.values()][0]!.cancelled, true);
    });

    it('retries a 429 on submit after its Retry-After', async () => {
      const c = await cdn();
      const fal = await startFal({ key: KEY, cdnUrl: c.server.url });
      open.push(fal.server);
      fal.server.fault('POST', '/fal-ai/flux/schnell', {
        status: 429,
        body: { detail: 'Too many requests' },
        headers: { 'retry-after': '1' },
      });
      const { deps, delays } = testDeps({ FAL_KEY: KEY });
      await createBackend('fal', fast(fal.server.url), deps.secrets, deps).generate(request);
      assert.equal(delays[0], 1000);
      assert.equal(fal.server.to('POST', '/fal-ai/flux/schnell').length, 2);
    });
  });

  describe('Black Forest Labs', () => {
    const KEY = 'bfl-0123456789abcdef';

    it('submits, polls polling_url, fetches the sample without the key; cost from the reply credits', async () => {
      const c = await cdn();
      const bfl = await startBfl({ key: KEY, cdnUrl: c.server.url });
      open.push(bfl.server);
      const { deps } = testDeps({ BFL_API_KEY: KEY });
      const backend = createBackend('bfl', fast(bfl.server.url), deps.secrets, deps);
      const progress: GenerationProgress[] = [];
      const r = await backend.generate(
        { ...request, width: 1000, height: 750 },
        { onProgress: (p) => progress.push(p) },
      );
      assert.deepEqual(Buffer.from(r.image), c.png);
      assert.equal(r.cost, 0.04);
      const [post] = bfl.server.to('POST', '/v1/flux-pro-1.1');
      assert.equal(post!.headers['x-key'], KEY);
      assert.deepEqual(post!.json, {
        prompt: 'a brass owl, studio light',
        seed: 11,
        prompt_upsampling: false,
        safety_tolerance: 2,
        output_format: 'png',
        width: 992,
        height: 736,
      });
      assert.ok(bfl.server.to('GET', '/v1/get_result').every((g) => g.headers['x-key'] === KEY));
      assert.ok(progress.some((p) => p.status === 'running' && p.fraction! > 0));
      assert.equal(c.server.requests[0]!.headers['x-key'], undefined);
    });

    it('never sends the key to a polling URL on a foreign host', async () => {
      const c = await cdn();
      const bfl = await startBfl({ key: KEY, cdnUrl: c.server.url, pollingHost: c.server.url });
      open.push(bfl.server);
      const { deps } = testDeps({ BFL_API_KEY: KEY });
      await createBackend('bfl', fast(bfl.server.url), deps.secrets, deps).generate(request);
      assert.equal(c.server.to('GET', '/v1/get_result').length, 0);
      assert.ok(bfl.server.to('GET', '/v1/get_result').length >= 3, 'polled its own get_result instead');
    });

    it('reports moderation as content-filter and Error as failed', async () => {
      const c = await cdn();
      const mod = await startBfl({ key: KEY, cdnUrl: c.server.url, behaviour: 'moderated' });
      const err = await startBfl({ key: KEY, cdnUrl: c.server.url, behaviour: 'error' });
      open.push(mod.server, err.server);
      const { deps } = testDeps({ BFL_API_KEY: KEY });
      await rejectsWith(
        createBackend('bfl', fast(mod.server.url), deps.secrets, deps).generate(request),
        'content-filter',
        /Content Moderated/,
      );
      await rejectsWith(
        createBackend('bfl', fast(err.server.url), deps.secrets, deps).generate(request),
        'failed',
        /Error/,
      );
    });

    it('an Error carrying content_policy_violation is a refusal, not a plain failure', async () => {
      const c = await cdn();
      const bfl = await startBfl({ key: KEY, cdnUrl: c.server.url, behaviour: 'policy' });
      open.push(bfl.server);
      const { deps } = testDeps({ BFL_API_KEY: KEY });
      await rejectsWith(
        createBackend('bfl', fast(bfl.server.url), deps.secrets, deps).generate(request),
        'content-filter',
        /content_policy_violation/,
      );
    });

    it('Kontext gets aspect_ratio only; flux-pro (no endpoint in the OpenAPI) is refused naming flux-pro-1.1', async () => {
      const c = await cdn();
      const bfl = await startBfl({ key: KEY, cdnUrl: c.server.url });
      open.push(bfl.server);
      const { deps } = testDeps({ BFL_API_KEY: KEY });
      const r = await createBackend(
        'bfl',
        fast(bfl.server.url, { model: 'flux-kontext-pro' }),
        deps.secrets,
        deps,
      ).generate({ ...request, width: 1344, height: 768 });
      const [post] = bfl.server.to('POST', '/v1/flux-kontext-pro');
      assert.equal(post!.json.aspect_ratio, '16:9');
      assert.equal('width' in post!.json, false);
      assert.equal(r.sent?.aspectRatio, '16:9');
      assert.throws(
        () => createBackend('bfl', { model: 'flux-pro' }, deps.secrets, deps),
        /bfl: model "flux-pro" has no endpoint in the provider's published API; use "flux-pro-1.1"/,
      );
      // FLUX.2 [pro]: width and height in multiples of 16, priced per started megapixel as an upper bound.
      const two = createBackend('bfl', fast(bfl.server.url, { model: 'flux-2-pro' }), deps.secrets, deps);
      assert.equal(two.estimateCost({ ...request, width: 1440, height: 1440 }), 0.09);
    });

    it('x-key does not follow a redirect to another origin (fetch would carry the custom header)', async () => {
      const c = await cdn();
      const elsewhere = await startBfl({ cdnUrl: c.server.url });
      const bfl = await startBfl({ key: KEY, cdnUrl: c.server.url, redirectTo: elsewhere.server.url });
      open.push(bfl.server, elsewhere.server);
      // The task lives on the other host: submit one there so its get_result has something to serve.
      const { deps } = testDeps({ BFL_API_KEY: KEY });
      await createBackend('bfl', fast(elsewhere.server.url), deps.secrets, deps).generate(request);
      const before = elsewhere.server.requests.length;
      const backend = createBackend('bfl', fast(bfl.server.url), deps.secrets, deps);
      await rejectsWith(backend.generate(request), 'failed', /Task not found/);
      const followed = elsewhere.server.requests.slice(before).filter((q) => q.path === '/v1/get_result');
      assert.ok(followed.length >= 1, 'the redirect was followed');
      assert.ok(
        followed.every((q) => q.headers['x-key'] === undefined),
        'without the key',
      );
      assert.ok(
        bfl.server.to('GET', '/v1/get_result').every((g) => g.headers['x-key'] === KEY),
        'the key went to the API itself',
      );
    });

    it('a cancelled wait says the task may still be charged', async () => {
      const c = await cdn();
      const bfl = await startBfl({ key: KEY, cdnUrl: c.server.url, behaviour: 'hang' });
      open.push(bfl.server);
      const { deps } = testDeps({ BFL_API_KEY: KEY });
      const ctl = new AbortController();
      const e = await rejectsWith(
        createBackend('bfl', fast(bfl.server.url), deps.secrets, deps).generate(request, {
          signal: ctl.signal,
          onProgress: (p) => p.status === 'running' && ctl.abort(),
        }),
        'cancelled',
        /may still be charged/,
      );
      assert.equal(e.details.accepted, true);
    });
  });
});
