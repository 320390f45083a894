import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError, RouteT2IError } from '../../src/router/errors';
import { openClipModel } from '../../src/runtime/clipModel';
import { ensureCachedModel, MANIFEST, missingFiles } from '../../src/runtime/download';
import { requiredFiles, type ModelProgress } from '../../src/runtime/modelStore';
import { MetricScorer } from '../../src/runtime/scorer';
import { startHub, type Hub, type Plan } from '../support/hubServer';
import { solidImage } from '../support/images';
import { tempDirs } from '../support/tmp';
import { writeTinyClip, type TinyClip } from '../support/tinyClip';

const MODEL = 'tiny/clip';
const FILES = requiredFiles('q8', ['text', 'vision']);

/** Every file under a folder, relative, sorted. */
function listing(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

function isError(code: string, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof RouteT2IError, `expected RouteT2IError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  };
}

describe('model download from a hub in the Hugging Face layout', function () {
  this.timeout(30_000);
  const tmp = tempDirs();
  let tiny: TinyClip;
  let hub: Hub | undefined;
  before(() => {
    tiny = writeTinyClip(tmp());
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });
  const serve = async (plan?: (file: string) => Plan) => (hub = await startHub({ [MODEL]: tiny.dir }, plan));

  it('fetches every file with progress, verifies it, and loads the result offline', async () => {
    await serve();
    const cacheDir = tmp();
    const events: ModelProgress[] = [];
    const scorer = await MetricScorer.create({
      model: MODEL,
      cacheDir,
      hubUrl: hub!.url,
      onProgress: (e) => events.push(e),
    });
    try {
      const dir = path.join(cacheDir, 'tiny', 'clip');
      assert.equal(scorer.folder, dir);
      assert.deepEqual(listing(dir), [MANIFEST, ...FILES].sort());
      for (const f of FILES)
        assert.deepEqual(fs.readFileSync(path.join(dir, f)), fs.readFileSync(path.join(tiny.dir, f)));
      // the ONNX files came through the hub's redirect to storage, as on the real hub
      assert.ok(hub!.requests.some((r) => r.startsWith('/storage/')));
      assert.ok(hub!.requests.includes('/tiny/clip/resolve/main/onnx/vision_model_quantized.onnx'));
      assert.equal(events[0]!.status, 'initiate');
      assert.equal(events[0]!.count, FILES.length);
      assert.equal(events.at(-1)!.status, 'ready');
      const done = events.filter((e) => e.status === 'done').map((e) => e.file);
      assert.deepEqual(done, FILES);
      const vision = events.filter((e) => e.file === 'onnx/vision_model_quantized.onnx' && e.status === 'progress');
      const size = fs.statSync(path.join(tiny.dir, 'onnx/vision_model_quantized.onnx')).size;
      assert.equal(vision.at(-1)!.loaded, size);
      assert.equal(vision.at(-1)!.total, size);
      assert.equal(vision.at(-1)!.progress, 100);
      const scores = await scorer.score(await solidImage([40, 50, 60], 32, 32, 'png'), 'a cat');
      assert.equal(Object.keys(scores).length, 11);
    } finally {
      await scorer.dispose();
    }
    // A second use touches the network not at all.
    const before = hub!.requests.length;
    await ensureCachedModel({ model: MODEL, files: FILES, cacheDir, hubUrl: hub!.url });
    assert.equal(hub!.requests.length, before);
  });

  it('reports a 404 and leaves nothing half-written', async () => {
    await serve((f) => (f === 'tokenizer_config.json' ? 'missing' : 'ok'));
    const cacheDir = tmp();
    await assert.rejects(
      ensureCachedModel({ model: MODEL, files: FILES, cacheDir, hubUrl: hub!.url }),
      isError('model-not-found', /has no tokenizer_config\.json for model tiny\/clip \(HTTP 404\)/),
    );
    const left = listing(path.join(cacheDir, 'tiny', 'clip'));
    assert.ok(!left.some((f) => f.endsWith('.part')), left.join(','));
    assert.ok(!left.includes('tokenizer_config.json'));
    // An unknown model id is a 404 on the first file.
    await assert.rejects(
      ensureCachedModel({ model: 'nobody/nothing', files: FILES, cacheDir, hubUrl: hub!.url }),
      isError('model-not-found', /config\.json/),
    );
  });

  for (const [plan, code, message] of [
    [
      'truncate',
      'download-incomplete',
      /onnx\/text_model_quantized\.onnx of tiny\/clip: (the connection .* broke after|received) \d+/,
    ],
    ['short', 'download-incomplete', /received \d+ of \d+ bytes/],
    ['corrupt', 'download-corrupt', /SHA-256 .* does not match/],
  ] as const) {
    it(`detects a ${plan} file, keeps nothing of it, and completes on a retry`, async () => {
      let failing = true;
      await serve((f) => (failing && f === 'onnx/text_model_quantized.onnx' ? plan : 'ok'));
      const cacheDir = tmp();
      const dir = path.join(cacheDir, 'tiny', 'clip');
      await assert.rejects(
        openClipModel({ model: MODEL, cacheDir, hubUrl: hub!.url }, ['text', 'vision']),
        isError(code, message),
      );
      assert.ok(!fs.existsSync(path.join(dir, 'onnx/text_model_quantized.onnx')));
      assert.ok(!listing(dir).some((f) => f.endsWith('.part')));
      assert.deepEqual(missingFiles(dir, FILES), [
        'onnx/text_model_quantized.onnx',
        'preprocessor_config.json',
        'onnx/vision_model_quantized.onnx',
      ]);
      failing = false;
      const requestsBefore = hub!.requests.length;
      const model = await openClipModel({ model: MODEL, cacheDir, hubUrl: hub!.url }, ['text', 'vision']);
      await model.release();
      // only what was missing is fetched again
      const fetched = hub!.requests.slice(requestsBefore).filter((r) => r.includes('/resolve/'));
      assert.deepEqual(
        fetched.map((r) => r.split('/resolve/main/')[1]),
        ['onnx/text_model_quantized.onnx', 'preprocessor_config.json', 'onnx/vision_model_quantized.onnx'],
      );
    });
  }

  it('cancels a slow download on the signal and keeps no partial file', async () => {
    await serve((f) => (f === 'tokenizer.json' ? 'slow' : 'ok'));
    const cacheDir = tmp();
    const controller = new AbortController();
    const progress: ModelProgress[] = [];
    const started = Date.now();
    const pending = ensureCachedModel({
      model: MODEL,
      files: FILES,
      cacheDir,
      hubUrl: hub!.url,
      signal: controller.signal,
      onProgress: (e) => {
        progress.push(e);
        if (e.file === 'tokenizer.json' && (e.loaded ?? 0) > 0) controller.abort();
      },
    });
    await assert.rejects(pending, (e: unknown) => e instanceof CancelledError);
    assert.ok(Date.now() - started < 5_000, 'cancellation is prompt');
    const dir = path.join(cacheDir, 'tiny', 'clip');
    assert.ok(!listing(dir).some((f) => f.endsWith('.part') || f === 'tokenizer.json'));
    assert.ok(progress.some((e) => e.file === 'tokenizer.json' && e.status === 'progress'));
    assert.deepEqual(missingFiles(dir, ['config.json']), []); // finished files stay
  });

  it('gives up on a stalled server after the stall timeout', async () => {
    await serve((f) => (f === 'config.json' ? 'stall' : 'ok'));
    await assert.rejects(
      ensureCachedModel({ model: MODEL, files: FILES, cacheDir: tmp(), hubUrl: hub!.url, stallMs: 300 }),
      isError(
        'download-stalled',
        /config\.json of tiny\/clip: no data from http:\/\/127\.0\.0\.1:\d+ for 0 s after 16 bytes/,
      ),
    );
  });

  it('says so when the hub cannot be reached', async () => {
    await serve();
    const url = hub!.url;
    await hub!.close();
    hub = undefined;
    await assert.rejects(
      ensureCachedModel({ model: MODEL, files: FILES, cacheDir: tmp(), hubUrl: url }),
      isError('download-failed', /could not download tiny\/clip from http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/),
    );
  });

  it('re-fetches a cached file that was damaged after download', async () => {
    await serve();
    const cacheDir = tmp();
    const dir = await ensureCachedModel({ model: MODEL, files: FILES, cacheDir, hubUrl: hub!.url });
    const file = path.join(dir, 'onnx/vision_model_quantized.onnx');
    fs.truncateSync(file, 10);
    assert.deepEqual(missingFiles(dir, FILES), ['onnx/vision_model_quantized.onnx']);
    await ensureCachedModel({ model: MODEL, files: FILES, cacheDir, hubUrl: hub!.url });
    assert.deepEqual(fs.readFileSync(file), fs.readFileSync(path.join(tiny.dir, 'onnx/vision_model_quantized.onnx')));
  });

  it('sends the hub token to the hub only, and shares concurrent downloads', async () => {
    await serve();
    const cacheDir = tmp();
    // A hub other than the default one gets the token only with the user's opt-in (ROUTET2I_HUB_TRUST_TOKEN=1).
    const options = { model: MODEL, files: FILES, cacheDir, hubUrl: hub!.url, token: 'secret-token', trustHub: true };
    const [a, b] = await Promise.all([ensureCachedModel(options), ensureCachedModel(options)]);
    assert.equal(a, b);
    assert.equal(hub!.requests.filter((r) => r.endsWith('/config.json')).length, 1);
    assert.equal(hub!.authorization.get('/tiny/clip/resolve/main/config.json'), 'Bearer secret-token');
    // the storage redirect goes to another origin: no token there
    const storage = [...hub!.authorization.entries()].filter(([p]) => p.startsWith('/storage/'));
    assert.equal(storage.length, 2);
    assert.ok(storage.every(([, v]) => v === undefined));
  });

  it('HF_TOKEN goes to a custom hub only when trusted, and never over plain http to another machine', async () => {
    await serve();
    const warnings: string[] = [];
    await ensureCachedModel({
      model: MODEL,
      files: FILES,
      cacheDir: tmp(),
      hubUrl: hub!.url,
      token: 'secret-token',
      onWarning: (m) => warnings.push(m),
    });
    assert.ok(
      [...hub!.authorization.values()].every((v) => v === undefined),
      'no token to an untrusted mirror',
    );
    assert.match(
      warnings[0]!,
      /HF_TOKEN is not sent to 127\.0\.0\.1:\d+: it goes only to huggingface\.co unless ROUTET2I_HUB_TRUST_TOKEN=1/,
    );
    // Trusted, but plain http to a host that is not this machine: still withheld.
    const seen: (string | null)[] = [];
    const fakeFetch = (async (_url: string | URL | Request, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return new Response('nope', { status: 404 });
    }) as typeof fetch;
    const withheld: string[] = [];
    await assert.rejects(
      ensureCachedModel({
        model: MODEL,
        files: FILES,
        cacheDir: tmp(),
        hubUrl: 'http://mirror.invalid',
        token: 'secret-token',
        trustHub: true,
        fetch: fakeFetch,
        onWarning: (m) => withheld.push(m),
      }),
    );
    assert.deepEqual(seen, [null]);
    assert.match(withheld[0]!, /HF_TOKEN is not sent: mirror\.invalid is reached over plain http/);
  });

  it('loads a local copy without touching the network, and names what is missing from it', async () => {
    const model = await openClipModel({ modelsDir: tiny.dir, hubUrl: 'http://127.0.0.1:9' }, ['text']);
    await model.release();
    // a folder holding <owner>/<name>/ works too
    const parent = tmp();
    fs.cpSync(tiny.dir, path.join(parent, 'tiny', 'clip'), { recursive: true });
    const nested = await openClipModel({ model: MODEL, modelsDir: parent }, ['text', 'vision']);
    assert.equal(nested.dir, path.join(parent, 'tiny', 'clip'));
    await nested.release();
    fs.rmSync(path.join(parent, 'tiny', 'clip', 'onnx', 'vision_model_quantized.onnx'));
    await assert.rejects(
      openClipModel({ model: MODEL, modelsDir: parent }, ['vision']),
      isError('model-files-missing', /clip lacks onnx\/vision_model_quantized\.onnx of CLIP model tiny\/clip/),
    );
    await assert.rejects(
      openClipModel({ modelsDir: path.join(parent, 'nope') }, ['text']),
      isError('models-dir-missing', /does not exist/),
    );
  });

  it('refuses a damaged ONNX file in a local copy with a clear error', async () => {
    const copy = tmp();
    fs.cpSync(tiny.dir, copy, { recursive: true });
    fs.writeFileSync(path.join(copy, 'onnx/text_model_quantized.onnx'), 'not a model');
    await assert.rejects(
      openClipModel({ modelsDir: copy }, ['text']),
      isError('model-damaged', /text_model_quantized\.onnx: cannot load the CLIP text model/),
    );
  });
});
