import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHub } from '../support/hubServer';
import { solidImage } from '../support/images';
import { claimedSizePng } from '../support/png';
import { runCommand } from '../support/runCommand';
import { tempDirs } from '../support/tmp';
import { writeTinyClip, type TinyClip } from '../support/tinyClip';

describe('routet2i score', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  let tiny: TinyClip;
  let work: string;
  before(async () => {
    tiny = writeTinyClip(tmp());
    work = tmp();
    fs.writeFileSync(path.join(work, 'red.png'), await solidImage([220, 20, 20], 64, 64, 'png'));
    fs.writeFileSync(path.join(work, 'blue.webp'), await solidImage([20, 20, 220], 64, 64, 'webp'));
    const jpeg = await solidImage([1, 2, 3], 64, 64, 'jpeg');
    fs.writeFileSync(path.join(work, 'cut.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  });

  it('downloads CLIP from the hub on first use, then scores offline from the cache', async () => {
    const hub = await startHub({ 'tiny/clip': tiny.dir });
    const cache = tmp();
    const env = { ROUTET2I_HUB_URL: hub.url, ROUTET2I_CACHE_DIR: cache, ROUTET2I_CLIP_MODEL: 'tiny/clip' };
    try {
      const first = await runCommand(['score', 'red.png', 'blue.webp', '--prompt', 'a red cat', '--json'], {
        cwd: work,
        env,
      });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /Downloading the CLIP model \(6 files\); this happens once\.\nCLIP model ready\./);
      const json = JSON.parse(first.stdout);
      assert.equal(json.model, 'tiny/clip');
      assert.equal(json.metrics.length, 11);
      assert.deepEqual(
        json.images.map((i: { file: string }) => i.file),
        ['red.png', 'blue.webp'],
      );
      for (const image of json.images)
        for (const v of Object.values(image.scores) as number[]) assert.ok(v >= 0 && v <= 1);
      assert.notDeepEqual(json.images[0].scores, json.images[1].scores);
      assert.ok(fs.existsSync(path.join(cache, 'tiny', 'clip', 'onnx', 'vision_model_quantized.onnx')));
    } finally {
      await hub.close();
    }
    // the hub is gone: the cache serves
    const again = await runCommand(['score', 'red.png', '--json'], { cwd: work, env });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /Downloading/);
    assert.equal(JSON.parse(again.stdout).images[0].scores.alignment, undefined);
  });

  it('prints a table, names an unreadable image and exits 1', async () => {
    const r = await runCommand(['score', 'red.png', 'cut.jpg', '--models-dir', tiny.dir, '--prompt', 'a cat'], {
      cwd: work,
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^red\.png\n {2}Definition {3}0\.\d{3}\n/);
    assert.match(r.stdout, / {2}Alignment {4}\d\.\d{3}\n/);
    assert.match(r.stdout, /cut\.jpg\n {2}error: cut\.jpg: the JPEG (header|data) is truncated or corrupt/);
    assert.match(r.stderr, /1 of 2 images could not be read/);
  });

  it('scores the images it can and reports a missing one and one of too many pixels, then exits 1', async () => {
    fs.writeFileSync(path.join(work, 'bomb.png'), claimedSizePng(16_000, 16_000));
    const r = await runCommand(['score', 'red.png', 'missing.png', 'bomb.png', '--models-dir', tiny.dir, '--json'], {
      cwd: work,
    });
    assert.equal(r.code, 1);
    const images = JSON.parse(r.stdout).images as Array<{
      file: string;
      scores?: Record<string, number>;
      error?: string;
    }>;
    assert.deepEqual(
      images.map((i) => i.file),
      ['red.png', 'missing.png', 'bomb.png'],
    );
    assert.ok(images[0]!.scores);
    assert.equal(images[1]!.error, 'missing.png: no such file');
    assert.match(images[2]!.error!, /^bomb\.png: 16000×16000 is 256\.0 megapixels, over the 67\.1 megapixels limit/);
    assert.match(r.stderr, /2 of 3 images could not be read/);
  });

  it('takes a workspace metric list', async () => {
    fs.writeFileSync(
      path.join(work, 'metrics.yaml'),
      'metrics:\n  - {id: warm, label: Warmth, positive: Warm photo., negative: Cold photo.}\n',
    );
    const r = await runCommand(['score', 'red.png', '--metrics', 'metrics.yaml', '--models-dir', tiny.dir, '--json'], {
      cwd: work,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(Object.keys(JSON.parse(r.stdout).images[0].scores), ['warm']);
  });

  it('fails clearly on bad input', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['score'], 2, /name at least one image/],
      [['score', 'missing.png', '--models-dir', tiny.dir], 1, /missing\.png: no such file/],
      [['score', 'red.png', '--models-dir', 'nowhere'], 1, /models folder .*nowhere does not exist/],
      [['score', 'red.png', '--metrics', 'red.png', '--models-dir', tiny.dir], 1, /red\.png is not valid JSON/],
      [['score', 'red.png', '--clip-model', '../x', '--models-dir', tiny.dir], 1, /"\.\.\/x" is not a model id/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await runCommand(argv, { cwd: work });
      assert.equal(r.code, code, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /internal error| {4}at /);
    }
  });
});
