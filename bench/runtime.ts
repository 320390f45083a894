/**
 * Runtime benchmarks: metric-scorer throughput (images/s on 512×512 PNGs, decode and preprocessing
 * included) and per-prompt latency of the `clip` token encoder. Always on the tiny CLIP the tests
 * build (which measures our own overhead: decoding, preprocessing, tokenising, bookkeeping), and
 * on a real CLIP folder when ROUTET2I_CLIP_DIR names one (e.g. a copy of
 * Xenova/clip-vit-base-patch32 with its onnx/*_quantized.onnx files). Encoder latency is measured
 * on one onnxruntime thread, as the issue's target says ("one CPU core").
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClipTokenEncoder } from '../src/runtime/clipEncoder';
import { MetricScorer } from '../src/runtime/scorer';
import { loadTransformers } from '../src/runtime/transformers';
import { writeTinyClip } from '../test/support/tinyClip';
import { clipShapedText, clipShapedVision } from './clipShaped';

const PROMPTS = [
  'a portrait of an old fisherman, (dramatic lighting:1.2), 85mm photo',
  'a red cat sleeping on a blue sofa',
  'isometric cutaway of a tiny cozy library, warm light, highly detailed',
  'watercolor painting of a lighthouse at dusk, [soft colors]',
  'a bowl of ramen, close-up, steam, studio photo, bokeh',
  'cyberpunk street market at night in the rain, neon signs, crowded, cinematic',
  'a knight riding a horse through a misty forest, oil painting in the style of John Singer Sargent',
  'product shot of a glass perfume bottle on black velvet',
];

async function noisePng(width: number, height: number, seed: number): Promise<Uint8Array> {
  const t = await loadTransformers();
  const data = new Uint8ClampedArray(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // smooth-ish content: a gradient plus noise, so PNG decoding has realistic work to do
    data[i] = ((i / 3) % width) / 2 + ((s >>> 24) & 63);
  }
  return new Uint8Array(await new t.RawImage(data, width, height, 3).toSharp().png().toBuffer());
}

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { medianMs: round(at(0.5)), p95Ms: round(at(0.95)), n: ms.length };
}
const round = (x: number) => Math.round(x * 100) / 100;

async function measure(modelsDir: string, label: string, images: Uint8Array[]) {
  // Scorer: default threads (all cores) and one thread.
  const scoring: Record<string, unknown> = {};
  for (const threads of [undefined, 1]) {
    const scorer = await MetricScorer.create({ modelsDir, threads });
    try {
      await scorer.score(images[0]!, PROMPTS[0]); // warm-up
      const per: number[] = [];
      const t0 = performance.now();
      for (const [i, image] of images.entries()) {
        const s = performance.now();
        await scorer.score(image, PROMPTS[i % PROMPTS.length]);
        per.push(performance.now() - s);
      }
      const seconds = (performance.now() - t0) / 1000;
      scoring[threads ? 'oneThread' : 'allThreads'] = {
        imagesPerSecond: round(images.length / seconds),
        perImage: stats(per),
      };
    } finally {
      await scorer.dispose();
    }
  }
  const encoder = await ClipTokenEncoder.open({ modelsDir, threads: 1 });
  try {
    await encoder.encode([PROMPTS[0]!]); // warm-up
    const per: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (const p of PROMPTS) {
        const s = performance.now();
        await encoder.encode([p]);
        per.push(performance.now() - s);
      }
    }
    const t0 = performance.now();
    await encoder.encode(Array.from({ length: 64 }, (_, i) => `${PROMPTS[i % PROMPTS.length]} ${i}`));
    const batchPerPrompt = (performance.now() - t0) / 64;
    return {
      model: label,
      scoring,
      clipEncoder: {
        oneThreadPerPrompt: stats(per),
        batchOf64PerPromptMs: round(batchPerPrompt),
        dim: encoder.spec.dim,
      },
    };
  } finally {
    await encoder.dispose();
  }
}

export async function runtimeBench(): Promise<Record<string, unknown>> {
  const images = await Promise.all(Array.from({ length: 16 }, (_, i) => noisePng(512, 512, i + 1)));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'routet2i-bench-'));
  try {
    const tiny = writeTinyClip(tmp);
    const result: Record<string, unknown> = {
      cpu: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}`,
      images: '16 PNGs, 512×512',
      tiny: await measure(tiny.dir, 'tiny CLIP (test model: decode, preprocessing and bookkeeping cost)', images),
    };
    // ViT-B/32's architecture and sizes with random int8 weights: the real model's speed, estimated.
    const shaped = path.join(tmp, 'shaped');
    const words = [
      ...new Set(
        PROMPTS.join(' ')
          .toLowerCase()
          .match(/[a-z]+/g) ?? [],
      ),
    ];
    writeTinyClip(shaped, {
      extraWords: words,
      graphs: (vocab) => ({
        text: clipShapedText(Math.max(vocab, 49408), true),
        vision: clipShapedVision(true),
        textHidden: 512,
        projection: 512,
        imageSize: 224,
      }),
    });
    result.clipShaped = await measure(
      shaped,
      'ViT-B/32-shaped CLIP, random int8 weights (speed estimate of Xenova/clip-vit-base-patch32 q8)',
      images,
    );
    const real = process.env.ROUTET2I_CLIP_DIR;
    result.real = real
      ? await measure(path.resolve(real), `CLIP at ${real}`, images)
      : 'skipped: set ROUTET2I_CLIP_DIR to a CLIP model folder';
    return result;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runtimeBench().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
