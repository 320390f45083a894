import * as assert from 'node:assert/strict';
import { RouteT2IError } from '../../src/router/errors';
import { DEFAULT_METRICS, type Metric } from '../../src/router/metrics';
import { clipScore, contrastScore, MetricScorer } from '../../src/runtime/scorer';
import { loadTransformers } from '../../src/runtime/transformers';
import { solidImage, splitImage } from '../support/images';
import { tempDirs } from '../support/tmp';
import { writeTinyClip, type TinyClip } from '../support/tinyClip';

function cosine(a: readonly number[], b: readonly number[]): number {
  const d = (x: readonly number[], y: readonly number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
  return d(a, b) / Math.sqrt(d(a, a) * d(b, b));
}

/** The scores by the closed form of the tiny model, computed without the runtime. */
function expected(
  tiny: TinyClip,
  metrics: readonly Metric[],
  channelMeans: number[],
  prompt?: string,
): Record<string, number> {
  const image = tiny.imageEmbedsOfMeans(channelMeans);
  const out: Record<string, number> = {};
  for (const m of metrics) {
    if (m.kind === 'alignment') {
      if (prompt !== undefined) out[m.id] = Math.min(1, 2.5 * Math.max(0, cosine(image, tiny.textEmbeds(prompt))));
      continue;
    }
    const s = 100 * (cosine(image, tiny.textEmbeds(m.positive!)) - cosine(image, tiny.textEmbeds(m.negative!)));
    out[m.id] = Math.exp(s) / (Math.exp(s) + 1);
  }
  return out;
}

function assertClose(actual: Record<string, number>, wanted: Record<string, number>, tolerance: number): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(wanted).sort());
  for (const k of Object.keys(wanted)) {
    assert.ok(Math.abs(actual[k]! - wanted[k]!) <= tolerance, `${k}: ${actual[k]} vs ${wanted[k]}`);
  }
}

describe('MetricScorer on the tiny CLIP', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  let tiny: TinyClip;
  let scorer: MetricScorer;

  before(async () => {
    tiny = writeTinyClip(tmp());
    scorer = await MetricScorer.create({ modelsDir: tiny.dir });
  });
  after(async () => scorer?.dispose());

  it('matches the closed form on every metric, alignment included', async () => {
    const prompt = 'a red cat on a blue sofa';
    for (const rgb of [
      [200, 30, 40],
      [10, 120, 250],
      [128, 128, 128],
    ]) {
      const scores = await scorer.score(await solidImage(rgb, 64, 64, 'png'), prompt);
      // float32 preprocessing is the only rounding: the text side is exact by construction
      assertClose(scores, expected(tiny, DEFAULT_METRICS, tiny.solidColourMeans(rgb), prompt), 1e-4);
      for (const v of Object.values(scores)) assert.ok(v >= 0 && v <= 1);
    }
  });

  it('gives the same scores for PNG, lossless WebP and the decoded colour of a JPEG', async () => {
    const rgb = [90, 180, 60];
    const png = await scorer.score(await solidImage(rgb, 48, 48, 'png'));
    const webp = await scorer.score(await solidImage(rgb, 48, 48, 'webp'));
    assert.deepEqual(webp, png);
    // JPEG is lossy: compare with the mean colour it decodes to (at the model's own size, so no resampling)
    const jpegBytes = await solidImage(rgb, 32, 32, 'jpeg');
    const t = await loadTransformers();
    const decoded = await t.RawImage.fromBlob(new Blob([jpegBytes]));
    const pixels = Array.from(decoded.data as Uint8ClampedArray);
    const colour = [0, 1, 2].map((c) => pixels.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / (32 * 32));
    const jpeg = await scorer.score(jpegBytes);
    assertClose(jpeg, expected(tiny, DEFAULT_METRICS, tiny.solidColourMeans(colour)), 1e-3);
  });

  it('leaves alignment out without a prompt and scores a two-colour image by its channel means', async () => {
    const scores = await scorer.score(await splitImage([255, 0, 0], [0, 0, 255], 64, 64, 'png'));
    assert.equal(scores.alignment, undefined);
    assert.equal(Object.keys(scores).length, DEFAULT_METRICS.length - 1);
    // half red, half blue: the crop keeps the split in the middle, so the means are the average colour
    const means = tiny.solidColourMeans([127.5, 0, 127.5]);
    assertClose(scores, expected(tiny, DEFAULT_METRICS, means), 5e-3);
  });

  it('scores a workspace metric list, with alignment as a metric without texts', async () => {
    const metrics: Metric[] = [
      { id: 'cosy', label: 'Cosy', kind: 'contrast', positive: 'Cosy photo.', negative: 'Cold photo.' },
      { id: 'fit', label: 'Fit' },
    ];
    const custom = await MetricScorer.create({ modelsDir: tiny.dir, metrics });
    try {
      const scores = await custom.score(await solidImage([10, 20, 30], 40, 40, 'png'), 'a dog');
      assertClose(
        scores,
        expected(
          tiny,
          [metrics[0]!, { id: 'fit', label: 'Fit', kind: 'alignment' }],
          tiny.solidColourMeans([10, 20, 30]),
          'a dog',
        ),
        1e-4,
      );
    } finally {
      await custom.dispose();
    }
  });

  it('reports corrupt, truncated and foreign images by name', async () => {
    const png = await solidImage([1, 2, 3], 64, 64, 'png');
    const jpeg = await solidImage([1, 2, 3], 64, 64, 'jpeg');
    const webp = await solidImage([1, 2, 3], 64, 64, 'webp');
    const cases: Array<[Uint8Array, RegExp]> = [
      [png.subarray(0, png.length >> 1), /cut\.png: the PNG data is truncated or corrupt/],
      [png.subarray(0, png.length - 12), /cut\.png: the PNG data is truncated or corrupt \(no IEND/],
      [
        Uint8Array.from([...png.subarray(0, 40), ...new Uint8Array(200).fill(7), ...png.subarray(png.length - 12)]),
        /cut\.png: the PNG data is truncated or corrupt/,
      ],
      [jpeg.subarray(0, jpeg.length >> 1), /cut\.png: the JPEG (data|header) is truncated or corrupt/],
      [webp.subarray(0, webp.length - 10), /cut\.png: the WEBP data is truncated or corrupt/],
      [new TextEncoder().encode('GIF89a not really'), /cut\.png is not a PNG, JPEG or WebP image/],
      [new Uint8Array(0), /cut\.png is empty/],
    ];
    for (const [bytes, message] of cases) {
      await assert.rejects(
        scorer.score(bytes, 'a cat', { name: 'cut.png' }),
        (e: unknown) => e instanceof RouteT2IError && message.test(e.message),
      );
    }
  });

  it('embeds the metric texts once, not per image', async () => {
    const clip = (scorer as unknown as { clip: { embedText(t: string): Promise<Float64Array> } }).clip;
    const original = clip.embedText.bind(clip);
    const seen: string[] = [];
    clip.embedText = (t: string) => (seen.push(t), original(t));
    try {
      await scorer.score(await solidImage([5, 5, 5], 32, 32, 'png'), 'a dog');
      await scorer.score(await solidImage([9, 9, 9], 32, 32, 'png'), 'a dog');
    } finally {
      clip.embedText = original;
    }
    assert.deepEqual(seen, ['a dog', 'a dog']); // the prompt only (itself cached inside)
  });

  it('keeps the formulas in [0,1] at the extremes', () => {
    assert.equal(contrastScore(1, -1), 1);
    assert.ok(contrastScore(-1, 1) < 1e-80);
    assert.equal(contrastScore(0.3, 0.3), 0.5);
    assert.equal(clipScore(-0.2), 0);
    assert.equal(clipScore(0.3), 0.75);
    assert.equal(clipScore(0.9), 1);
  });
});
