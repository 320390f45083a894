import { strict as assert } from 'node:assert';
import { createBackend } from '../../../src/backends/registry';
import { startCdn, startOpenAI } from '../../fixtures/servers/openai';
import { rejectsWith } from '../../support/assert';
import { fast, testDeps } from '../../support/deps';

const KEY = 'sk-proj-abcdefghijklmnop';
const request = { prompt: 'a watercolour heron', width: 1024, height: 1024, seed: 3 };

describe('OpenAI Images and OpenAI-compatible backends (loopback)', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('gpt-image-1: documented request, b64_json reply, cost from usage tokens', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const backend = createBackend('openai', fast(o.server.url), deps.secrets, deps);
    const r = await backend.generate({ ...request, width: 1536, height: 1000 });
    assert.deepEqual(Buffer.from(r.image), o.png);
    const [post] = o.server.to('POST', '/v1/images/generations');
    assert.equal(post!.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(post!.json, { model: 'gpt-image-1', prompt: 'a watercolour heron', n: 1, size: '1536x1024', quality: 'medium', output_format: 'png', moderation: 'auto' });
    // 50 text tokens × $5/M + 1056 image tokens × $40/M
    assert.equal(r.cost, 0.04249);
    assert.equal(r.model, 'gpt-image-1');
    // The estimate reserved beforehand covers the charge.
    assert.ok(backend.estimateCost(request) >= r.cost);
  });

  it('sends the cloud the plain words: emphasis, extra networks and BREAK are syntax, not text', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    await createBackend('openai', fast(o.server.url), deps.secrets, deps).generate({ ...request, prompt: 'a (watercolour:1.3) heron, [mist] BREAK <lora:ink:0.6> reeds' });
    assert.equal(o.server.to('POST', '/v1/images/generations')[0]!.json.prompt, 'a watercolour heron, mist reeds');
  });

  it('dall-e-3: asks for b64_json, maps the size, prices from the table', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const backend = createBackend('openai', fast(o.server.url, { model: 'dall-e-3', quality: 'hd' }), deps.secrets, deps);
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
    await rejectsWith(backend.generate({ ...request, prompt: 'something forbidden' }), 'content-filter', /^openai: .*rejected by the safety system/);
  });

  it('needs OPENAI_API_KEY and says so; a wrong key is an auth error without the key in it', async () => {
    const o = await startOpenAI({ key: KEY });
    servers.push(o.server);
    const none = testDeps();
    await rejectsWith(createBackend('openai', fast(o.server.url), none.deps.secrets, none.deps).generate(request), 'auth', /set OPENAI_API_KEY/);
    assert.equal(o.server.requests.length, 0, 'nothing was sent without a key');
    const wrong = testDeps({ OPENAI_API_KEY: 'sk-wrong-key-1234567' });
    const e = await rejectsWith(createBackend('openai', fast(o.server.url), wrong.deps.secrets, wrong.deps).generate(request), 'auth');
    assert.ok(!e.message.includes('sk-wrong-key-1234567'), e.message);
  });

  it('a model with no known price needs one', () => {
    const { deps } = testDeps();
    assert.throws(() => createBackend('openai', { model: 'gpt-image-9' }, deps.secrets, deps), /no price is known for model "gpt-image-9"/);
  });

  it('OpenAI-compatible: base URL with or without /v1, local extras, url replies fetched without the key', async () => {
    const cdn = await startCdn();
    const o = await startOpenAI({ replyWith: 'url', cdn: cdn.server });
    servers.push(o.server, cdn.server);
    const { deps } = testDeps({ OPENAI_COMPATIBLE_API_KEY: 'local-key-9876' });
    const backend = createBackend('openai-compatible', fast(`${o.server.url}/v1`, { model: 'sd-turbo' }), deps.secrets, deps);
    assert.equal(backend.side, 'edge');
    const r = await backend.generate({ ...request, negative: 'ugly', steps: 4, width: 512, height: 512 });
    assert.deepEqual(Buffer.from(r.image), cdn.png);
    assert.equal(r.cost, 0);
    const body = o.server.to('POST', '/v1/images/generations')[0]!.json;
    assert.deepEqual(body, { prompt: 'a watercolour heron', n: 1, size: '512x512', response_format: 'b64_json', model: 'sd-turbo', seed: 3, negative_prompt: 'ugly', steps: 4 });
    assert.equal(cdn.server.requests[0]!.headers.authorization, undefined, 'the key never goes to another host');
  });

  it('rejects a truncated image from the image host', async () => {
    const cdn = await startCdn();
    const o = await startOpenAI();
    servers.push(o.server, cdn.server);
    o.server.fault('POST', '/v1/images/generations', { status: 200, body: { data: [{ url: `${cdn.server.url}/broken/x.png` }] } });
    const { deps } = testDeps();
    const backend = createBackend('openai-compatible', fast(o.server.url), deps.secrets, deps);
    await rejectsWith(backend.generate(request), 'bad-reply', /truncated PNG/);
  });
});
