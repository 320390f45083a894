import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closedPort } from '../support/deps';
import { startImagesApi, type ImagesApi } from '../support/imagesApi';
import { runCommand } from '../support/runCommand';
import { tempDirs } from '../support/tmp';
import { TEXT_HIDDEN, writeTinyClip, type TinyClip } from '../support/tinyClip';

const SUBJECTS = ['cat', 'dog', 'portrait', 'sofa', 'light', 'painting'];
const STYLES = ['oil painting', 'photo', 'in the style of Vermeer', 'red and blue', 'with light'];

describe('calibration end to end: collect → train --encoder clip → route --model', function () {
  this.timeout(120_000);
  const tmp = tempDirs();
  let tiny: TinyClip;
  let edge: ImagesApi;
  let cloud: ImagesApi;
  let work: string;

  before(async () => {
    tiny = writeTinyClip(tmp());
    // The edge renders "photo" prompts dark, the cloud renders everything bright: a gap the predictor can learn.
    edge = await startImagesApi({ colour: (p) => (p.includes('photo') ? [20, 20, 30] : [200, 120, 60]) });
    cloud = await startImagesApi({ colour: (p) => [230, 200, p.length % 200] });
    work = tmp();
    const prompts = SUBJECTS.flatMap((s) => STYLES.map((st) => `a ${s}, ${st}`));
    fs.writeFileSync(path.join(work, 'prompts.txt'), prompts.join('\n'));
    fs.writeFileSync(path.join(work, 'route.t2i'), 'a dog, photo\n\na (cat:1.3), oil painting BREAK on the sofa\n');
  });
  after(async () => {
    await edge?.close();
    await cloud?.close();
  });

  it('trains on the clip encoder exactly as on the lexical one, and routes with the result', async () => {
    const env = { ROUTET2I_MODELS_DIR: tiny.dir };
    const collected = await runCommand(
      [
        'collect',
        '--prompts',
        'prompts.txt',
        '--edge',
        'openai-compatible',
        '--edge-url',
        edge.url,
        '--cloud',
        'openai-compatible',
        '--cloud-url',
        cloud.url,
        '--out',
        'pairs.jsonl',
        '--size',
        '256x256',
      ],
      { cwd: work, env },
    );
    assert.equal(collected.code, 0, collected.stderr);

    for (const encoder of ['clip', 'lexical']) {
      const trained = await runCommand(
        [
          'train',
          '--data',
          'pairs.jsonl',
          '--out',
          `model-${encoder}`,
          '--encoder',
          encoder,
          '--models-dir',
          tiny.dir,
          '--epochs',
          '40',
          '--json',
        ],
        { cwd: work },
      );
      assert.equal(trained.code, 0, trained.stderr);
      const report = JSON.parse(trained.stdout);
      assert.equal(report.encoder, encoder);
      assert.equal(report.pairs, SUBJECTS.length * STYLES.length);
      assert.equal(report.metrics.length, 11);
    }
    const file = JSON.parse(fs.readFileSync(path.join(work, 'model-clip', 'model.json'), 'utf8'));
    assert.deepEqual(file.encoder, {
      id: 'clip',
      version: 1,
      dim: TEXT_HIDDEN,
      config: { model: 'Xenova/clip-vit-base-patch32', dtype: 'q8' },
    });

    const routed = await runCommand(
      ['route', 'route.t2i', '--model', 'model-clip', '--models-dir', tiny.dir, '--json'],
      { cwd: work },
    );
    assert.equal(routed.code, 0, routed.stderr);
    const json = JSON.parse(routed.stdout);
    assert.equal(json.prompts.length, 2);
    const second = json.prompts[1];
    // words with exact ranges, syntax left out, each with a signed impact per metric
    assert.deepEqual(
      second.tokens.map((t: { text: string; start: number; end: number }) => [
        t.text,
        second.prompt.slice(t.start, t.end),
      ]),
      ['a', 'cat', 'oil', 'painting', 'on', 'the', 'sofa'].map((w) => [w, w]),
    );
    for (const t of second.tokens) assert.equal(Object.keys(t.impact).length, 11);
    for (const p of json.prompts) {
      assert.ok(p.route === 'edge' || p.route === 'cloud');
      for (const v of [...Object.values(p.edge), ...Object.values(p.cloud)] as number[]) assert.ok(v >= 0 && v <= 1);
    }
    assert.notDeepEqual(json.prompts[0].edge, json.prompts[1].edge);

    // Without a local copy, the clip predictor needs the model from the hub: a clear error when that fails.
    // (Encoder factories read the process environment: the engine passes them no environment of their own.)
    const saved = {
      cache: process.env.ROUTET2I_CACHE_DIR,
      hub: process.env.ROUTET2I_HUB_URL,
      dir: process.env.ROUTET2I_MODELS_DIR,
    };
    process.env.ROUTET2I_CACHE_DIR = tmp();
    const hub = await closedPort();
    process.env.ROUTET2I_HUB_URL = hub;
    delete process.env.ROUTET2I_MODELS_DIR;
    let offline;
    try {
      offline = await runCommand(['route', 'route.t2i', '--model', 'model-clip'], {
        cwd: work,
        env: { ROUTET2I_CACHE_DIR: process.env.ROUTET2I_CACHE_DIR, ROUTET2I_HUB_URL: hub },
      });
    } finally {
      for (const [k, v] of [
        ['ROUTET2I_CACHE_DIR', saved.cache],
        ['ROUTET2I_HUB_URL', saved.hub],
        ['ROUTET2I_MODELS_DIR', saved.dir],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    assert.equal(offline.code, 1);
    assert.equal(
      offline.stderr.trim().split('\n').pop(),
      `routet2i route: could not download Xenova/clip-vit-base-patch32 from ${hub}: ECONNREFUSED (check the connection, or point --models-dir at a local copy of the model) [download-failed]`,
    );
  });
});
