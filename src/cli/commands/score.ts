import * as path from 'node:path';
import { READ_LIMITS, readFileBoundedSync } from '../../router/boundedRead';
import { RouteT2IError, UsageError } from '../../router/errors';
import { checkImageHeader } from '../../runtime/images';
import { DEFAULT_METRICS } from '../../router/metrics';
// The scorer module is light; it loads transformers.js itself, on first use.
import { MetricScorer } from '../../runtime/scorer';
import type { Scores } from '../../router/types';
import { parseCommandArgs } from '../args';
import { CLIP_FLAGS, CLIP_HELP, clipOptions, readMetricsFile } from '../clipOptions';
import { writeLine, type CliIO, type Command } from '../io';

const usage = `Usage: routet2i score <image…> [--prompt TEXT] [--metrics FILE] [--models-dir DIR] [--json]

Measures each image's quality with CLIP: for every metric, the two-way softmax of the image's
similarity to the metric's positive and negative text (0–1, higher is better), and with --prompt
the prompt alignment (CLIPScore). PNG, JPEG and WebP.

Options:
  --prompt TEXT      the prompt the images were made from (adds the alignment metric)
  --metrics FILE     a JSON or YAML list of {id, label, positive, negative} (default: the ten paper metrics + alignment)
  --json             machine output: {"model", "modelDir", "metrics", "images": [{"file", "scores"} | {"file", "error"}]}
${CLIP_HELP}`;

interface ImageResult {
  file: string;
  scores?: Scores;
  error?: string;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    prompt: { type: 'string' },
    metrics: { type: 'string' },
    json: { type: 'boolean' },
    ...CLIP_FLAGS,
  });
  if (positionals.length === 0) throw new UsageError('name at least one image');
  const metrics = values.metrics ? readMetricsFile(values.metrics, io) : [...DEFAULT_METRICS];
  // Read and check every file first (bounded, headers only): a typo shows before CLIP loads, and one missing or
  // refused image is reported in its place while the others are still scored.
  const images: Array<{ file: string; bytes?: Uint8Array; error?: string }> = [];
  for (const file of positionals) {
    try {
      const bytes = new Uint8Array(
        readFileBoundedSync(path.resolve(io.cwd, file), { limit: READ_LIMITS.image, what: 'image', name: file }),
      );
      checkImageHeader(bytes, file);
      images.push({ file, bytes });
    } catch (e) {
      if (!(e instanceof RouteT2IError)) throw e;
      images.push({ file, error: e.message });
    }
  }
  if (images.every((i) => i.error)) {
    for (const i of images) writeLine(io.stderr, `routet2i score: ${i.error}`);
    return 1;
  }
  const scorer = await MetricScorer.create({ ...clipOptions(values, io), metrics });
  const results: ImageResult[] = [];
  const started = Date.now();
  try {
    for (const { file, bytes, error } of images) {
      if (!bytes) {
        results.push({ file, error: error! });
        continue;
      }
      try {
        results.push({ file, scores: await scorer.score(bytes, values.prompt, { name: file, signal: io.signal }) });
      } catch (e) {
        if (!(e instanceof RouteT2IError) || (e.code !== 'bad-image' && e.code !== 'image-too-large')) throw e;
        results.push({ file, error: e.message });
      }
    }
  } finally {
    await scorer.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  const shown = metrics.filter((m) => results.some((r) => r.scores?.[m.id] !== undefined));
  if (values.json) {
    writeLine(
      io.stdout,
      JSON.stringify(
        {
          model: scorer.model,
          modelDir: scorer.folder,
          metrics: shown.map((m) => ({ id: m.id, label: m.label })),
          images: results,
        },
        null,
        2,
      ),
    );
  } else {
    const width = shown.reduce((w, m) => Math.max(w, m.label.length), 0);
    for (const r of results) {
      writeLine(io.stdout, r.file);
      if (r.error) writeLine(io.stdout, `  error: ${r.error}`);
      else for (const m of shown) writeLine(io.stdout, `  ${m.label.padEnd(width)}  ${r.scores![m.id]!.toFixed(3)}`);
    }
    const skipped = metrics.length - shown.length;
    const note = skipped > 0 && values.prompt === undefined ? ' (alignment needs --prompt)' : '';
    writeLine(
      io.stderr,
      `${results.length} image${results.length === 1 ? '' : 's'} scored with ${scorer.model} in ${seconds.toFixed(2)} s${note}`,
    );
  }
  const failed = results.filter((r) => r.error).length;
  if (failed > 0) writeLine(io.stderr, `routet2i score: ${failed} of ${results.length} images could not be read`);
  return failed > 0 ? 1 : 0;
}

export const scoreCommand: Command = { usage, run };
