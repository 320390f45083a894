import { strict as assert } from 'node:assert';
import { resetStaleWarning } from '../../../src/backends/catalog';
import { createBackend } from '../../../src/backends/registry';
import { startCdn, startOpenAI } from '../../fixtures/servers/openai';
import { startLocalAI, startSdServer } from '../../fixtures/servers/sdcpp';
import { rejectsWith } from '../../support/assert';
import { fast, testDeps } from '../../support/deps';

const KEY = 'sk-proj-abcdefghijklmnop';
const request = { prompt: 'a watercolour heron', width: 1024, height: 1024, seed: 3 };

describe('OpenAI Images and OpenAI-compatible backends (loopback)', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  // The catalog's date: these tests run as of the day the table was checked.
  const now = () => new Date('2026-11-29T12:00:00Z');

  it('gpt-image-2.6-flare (the default): documented request without response_format, b64_json reply, cost from usage tokens', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const backend = createBackend('openai', fast(o.server.url), deps.secrets, { ...deps, now });
    const r = await backend.generate({ ...request, width: 1536, height: 1000 });
    assert.deepEqual(Buffer.from(r.image), o.png);
    const [post] = o.server.to('POST', '/v1/images/generations');
    assert.equal(post!.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(post!.json, {
      model: 'gpt-image-2.6-flare',
      prompt: 'a watercolour heron',
      n: 1,
      size: '1536x1024',
      quality: 'medium',
      output_format: 'png',
      moderation: 'auto',
    });
    // 50 text tokens × $5/M + 1056 image tokens × $30/M
    assert.equal(r.cost, 0.03193);
    assert.equal(r.model, 'gpt-image-2.6-flare');
    assert.equal(r.sent?.size, '1536x1024');
    assert.deepEqual(r.sent?.notes, ['size 1536x1000 → 1536x1024 (the sizes the model accepts)']);
    // The estimate reserved beforehand covers the charge.
    assert.ok(backend.estimateCost(request) >= r.cost);
  });

  it('gpt-image-1-mini: the estimate is never below the published per-image price', () => {
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const mini = (quality: string) =>
      createBackend('openai', { model: 'gpt-image-1-mini', quality }, deps.secrets, { ...deps, now });
    // Published: low $0.005/$0.006, medium $0.011/$0.015, high $0.036/$0.052 (square / portrait or landscape).
    assert.ok(mini('medium').estimateCost(request) >= 0.011);
    assert.ok(mini('medium').estimateCost({ ...request, width: 1024, height: 1536 }) >= 0.015);
    assert.ok(mini('high').estimateCost({ ...request, width: 1536, height: 1024 }) >= 0.052);
    assert.ok(mini('low').estimateCost(request) >= 0.005);
  });

  it('a model past its shutdown date is a clear error naming its successor, before anything is sent', () => {
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    assert.throws(
      () => createBackend('openai', { model: 'gpt-image-1' }, deps.secrets, { ...deps, now }),
      /openai: model "gpt-image-1" was shut down on 2026-10-23.*use "gpt-image-2.6-flare"/,
    );
    assert.throws(
      () => createBackend('openai', { model: 'dall-e-3' }, deps.secrets, { ...deps, now }),
      /shut down on 2026-05-12/,
    );
    // gpt-image-1-mini works until 2026-12-01, and not from that day on.
    createBackend('openai', { model: 'gpt-image-1-mini' }, deps.secrets, { ...deps, now });
    assert.throws(
      () =>
        createBackend('openai', { model: 'gpt-image-1-mini' }, deps.secrets, {
          ...deps,
          now: () => new Date('2026-12-01T00:00:01Z'),
        }),
      /shut down on 2026-12-01/,
    );
  });

  it('a model the table does not know works with a price from the config, which also overrides the table', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const custom = createBackend(
      'openai',
      fast(o.server.url, { model: 'gpt-image-3-preview', price: 0.2 }),
      deps.secrets,
      { ...deps, now },
    );
    assert.equal(custom.estimateCost(request), 0.2);
    const r = await custom.generate(request);
    assert.equal(r.cost, 0.2);
    assert.equal('response_format' in o.server.to('POST', '/v1/images/generations')[0]!.json, false);
  });

  it('429 insufficient_quota is a billing refusal, not retried like a rate limit', async () => {
    const o = await startOpenAI({ key: KEY, noQuota: true });
    servers.push(o.server);
    const { deps, delays } = testDeps({ OPENAI_API_KEY: KEY });
    const backend = createBackend('openai', fast(o.server.url), deps.secrets, { ...deps, now });
    await rejectsWith(
      backend.generate(request),
      'billing',
      /no quota or credits left: You exceeded your current quota/,
    );
    assert.equal(o.server.to('POST', '/v1/images/generations').length, 1);
    assert.deepEqual(delays, []);
  });

  it('an old price table warns once per run', () => {
    resetStaleWarning();
    const warnings: string[] = [];
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const later = () => new Date('2027-03-15T00:00:00Z');
    createBackend('openai', { price: 0.05, model: 'gpt-image-2.6-flare' }, deps.secrets, {
      ...deps,
      now: later,
      warn: (m) => warnings.push(m),
    });
    createBackend('openai', { price: 0.05, model: 'gpt-image-2.6-sunburst' }, deps.secrets, {
      ...deps,
      now: later,
      warn: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /checked on 2026-11-29, 106 days ago/);
    resetStaleWarning();
  });

  it('sends the cloud the plain words: emphasis, extra networks and BREAK are syntax, not text', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    await createBackend('openai', fast(o.server.url), deps.secrets, deps).generate({
      ...request,
      prompt: 'a (watercolour:1.3) heron, [mist] BREAK <lora:ink:0.6> reeds',
    });
    assert.equal(o.server.to('POST', '/v1/images/generations')[0]!.json.prompt, 'a watercolour heron, mist reeds');
  });

  it('dall-e-3 (before its shutdown): asks for b64_json, maps the size, prices from the table', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    // dall-e-3 shut down on 2026-05-12: as of a day before, it still ran like this.
    const backend = createBackend('openai', fast(o.server.url, { model: 'dall-e-3', quality: 'hd' }), deps.secrets, {
      ...deps,
      now: () => new Date('2026-05-11T00:00:00Z'),
    });
    const r = await backend.generate({ ...request, width: 720, height: 1280 });
    const body = o.server.to('POST', '/v1/images/generations')[0]!.json;
    assert.equal(body.response_format, 'b64_json');
    assert.equal(body.size, '1024x1792');
    assert.equal(body.quality, 'hd');
    assert.equal(r.cost, 0.12);
  });

  it('reports a safety refusal as content-filter', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const backend = createBackend('openai', fast(o.server.url), deps.secrets, deps);
    await rejectsWith(
      backend.generate({ ...request, prompt: 'something forbidden' }),
      'content-filter',
      /^openai: .*rejected by the safety system/,
    );
  });

  it('needs OPENAI_API_KEY and says so; a wrong key is an auth error without the key in it', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const none = testDeps();
    await rejectsWith(
      createBackend('openai', fast(o.server.url), none.deps.secrets, none.deps).generate(request),
      'auth',
      /set OPENAI_API_KEY/,
    );
    assert.equal(o.server.requests.length, 0, 'nothing was sent without a key');
    const wrong = testDeps({ OPENAI_API_KEY: 'sk-wrong-key-1234567' });
    const e = await rejectsWith(
      createBackend('openai', fast(o.server.url), wrong.deps.secrets, wrong.deps).generate(request),
      'auth',
    );
    assert.ok(!e.message.includes('sk-wrong-key-1234567'), e.message);
  });

  it('a model with no known price needs one', () => {
    const { deps } = testDeps();
    assert.throws(
      () => createBackend('openai', { model: 'gpt-image-9' }, deps.secrets, { ...deps, now }),
      /no price is known for model "gpt-image-9"; set "price".*gpt-image-2.6-flare/,
    );
  });

  it('OpenAI-compatible: base URL with or without /v1, url replies fetched without the key', async () => {
    const cdn = await startCdn();
    const o = await startOpenAI({ replyWith: 'url', cdn: cdn.server });
    servers.push(o.server, cdn.server);
    const { deps } = testDeps({ OPENAI_COMPATIBLE_API_KEY: 'local-key-9876' });
    const backend = createBackend(
      'openai-compatible',
      fast(`${o.server.url}/v1`, { model: 'sd-turbo', server: 'plain' }),
      deps.secrets,
      deps,
    );
    assert.equal(backend.side, 'edge');
    const r = await backend.generate({ ...request, negative: 'ugly', steps: 4, width: 512, height: 512 });
    assert.deepEqual(Buffer.from(r.image), cdn.png);
    assert.equal(r.cost, 0);
    const body = o.server.to('POST', '/v1/images/generations')[0]!.json;
    assert.deepEqual(body, {
      prompt: 'a watercolour heron',
      n: 1,
      size: '512x512',
      response_format: 'b64_json',
      model: 'sd-turbo',
    });
    assert.equal(r.seed, undefined, 'no seed is recorded where none was sent');
    assert.deepEqual(r.sent?.notes, [
      'negative prompt not sent (the server has no field for it)',
      'steps 4 not sent (the server has no field for them)',
    ]);
    assert.equal(cdn.server.requests[0]!.headers.authorization, undefined, 'the key never goes to another host');
  });

  it('stable-diffusion.cpp sd-server (found by its /v1/models): seed, negative prompt and steps inside <sd_cpp_extra_args>, as it reads them', async () => {
    const sd = await startSdServer();
    servers.push(sd.server);
    const { deps } = testDeps();
    const backend = createBackend('openai-compatible', fast(sd.server.url), deps.secrets, deps);
    const r = await backend.generate({
      ...request,
      prompt: 'a (heron:1.2) at dawn',
      negative: 'blurry, "text"',
      steps: 12,
      seed: 77,
      width: 768,
      height: 512,
    });
    assert.deepEqual(Buffer.from(r.image), sd.png);
    assert.deepEqual(sd.used, [
      {
        prompt: 'a (heron:1.2) at dawn',
        negative_prompt: 'blurry, "text"',
        seed: 77,
        steps: 12,
        width: 768,
        height: 512,
      },
    ]);
    assert.equal(r.seed, 77, 'the seed the server used');
    assert.deepEqual(
      { ...r.sent, notes: undefined },
      { width: 768, height: 512, size: '768x512', negative: 'blurry, "text"', steps: 12, seed: 77, notes: undefined },
    );
    assert.equal(sd.server.to('GET', '/v1/models').length, 1, 'asked once which server it is');
    await backend.generate(request);
    assert.equal(sd.server.to('GET', '/v1/models').length, 1);
  });

  it('auto: a server that is not sd-server gets the standard fields only (no extras inside its prompt)', async () => {
    const la = await startLocalAI();
    servers.push(la.server);
    const { deps } = testDeps();
    const r = await createBackend('openai-compatible', fast(la.server.url), deps.secrets, deps).generate({
      ...request,
      negative: 'lowres',
      steps: 15,
    });
    assert.deepEqual(la.used, [{ positive: 'a watercolour heron', negative: undefined, step: undefined }]);
    assert.equal(r.seed, undefined);
  });

  it('LocalAI: negative after "|", steps as `step`, no seed recorded', async () => {
    const la = await startLocalAI();
    servers.push(la.server);
    const { deps } = testDeps();
    const backend = createBackend('openai-compatible', fast(la.server.url, { server: 'localai' }), deps.secrets, deps);
    const r = await backend.generate({ ...request, negative: 'lowres', steps: 15 });
    assert.deepEqual(la.used, [{ positive: 'a watercolour heron', negative: 'lowres', step: 15 }]);
    assert.equal(r.seed, undefined);
    assert.deepEqual(r.sent?.notes, ['seed not sent (LocalAI has no seed input)']);
  });

  it('openai-compatible pointed at OpenAI with a GPT image model sends no response_format', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_COMPATIBLE_API_KEY: KEY });
    const backend = createBackend(
      'openai-compatible',
      fast(o.server.url, { server: 'openai', model: 'gpt-image-2.6-flare' }),
      deps.secrets,
      deps,
    );
    await backend.generate(request);
    assert.equal('response_format' in o.server.to('POST', '/v1/images/generations')[0]!.json, false);
  });

  it('rejects a truncated image from the image host', async () => {
    const cdn = await startCdn();
    const o = await startOpenAI();
    servers.push(o.server, cdn.server);
    o.server.fault('POST', '/v1/images/generations', {
      status: 200,
      body: { data: [{ url: `${cdn.server.url}/broken/x.png` }] },
    });
    const { deps } = testDeps();
    const backend = createBackend('openai-compatible', fast(o.server.url, { server: 'plain' }), deps.secrets, deps);
    await rejectsWith(backend.generate(request), 'bad-reply', /truncated PNG/);
  });
});
