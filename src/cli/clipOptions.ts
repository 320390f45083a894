/**
 * How CLI commands find CLIP (flags first, then environment), the progress line drawn while it
 * downloads, and the workspace metric list (--metrics FILE).
 */
import * as path from 'node:path';
import YAML from 'yaml';
import { READ_LIMITS, readFileBoundedSync } from '../router/boundedRead';
import { RouteT2IError } from '../router/errors';
import { parseMetrics, type Metric } from '../router/metrics';
import type { ClipLoadOptions } from '../runtime/clipModel';
import { checkDtype, defaultCacheDir, type ModelProgress } from '../runtime/modelStore';
import type { CliIO } from './io';

/** Flags every CLIP-using command takes, for parseCommandArgs. */
export const CLIP_FLAGS = {
  'models-dir': { type: 'string' },
  'clip-model': { type: 'string' },
} as const;

export const CLIP_HELP = [
  '  --models-dir DIR   a local copy of the CLIP model (offline; nothing is downloaded). Env: ROUTET2I_MODELS_DIR',
  '  --clip-model ID    CLIP model id (default Xenova/clip-vit-base-patch32). Env: ROUTET2I_CLIP_MODEL',
  '',
  'Without --models-dir the model is downloaded on first use into ROUTET2I_CACHE_DIR (default',
  '~/.cache/routet2i/models) from ROUTET2I_HUB_URL (default the Hugging Face hub; HF_TOKEN for gated models).',
].join('\n');

export function clipOptions(values: { 'models-dir'?: string; 'clip-model'?: string }, io: CliIO): ClipLoadOptions {
  return clipLoadOptions({
    modelsDir: values['models-dir'],
    model: values['clip-model'],
    cwd: io.cwd,
    env: io.env,
    signal: io.signal,
    onProgress: downloadProgress(io),
  });
}

/** CLIP options from explicit settings, falling back to the environment (ROUTET2I_*, HF_TOKEN). */
export function clipLoadOptions(o: {
  modelsDir?: string;
  model?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: (event: ModelProgress) => void;
}): ClipLoadOptions {
  const env = o.env;
  const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  const modelsDir = nonEmpty(o.modelsDir) ?? nonEmpty(env.ROUTET2I_MODELS_DIR);
  const dtype = nonEmpty(env.ROUTET2I_CLIP_DTYPE);
  return {
    model: nonEmpty(o.model) ?? nonEmpty(env.ROUTET2I_CLIP_MODEL),
    dtype: dtype ? checkDtype(dtype) : undefined,
    modelsDir: modelsDir ? path.resolve(o.cwd, modelsDir) : undefined,
    cacheDir: defaultCacheDir(env),
    hubUrl: nonEmpty(env.ROUTET2I_HUB_URL),
    token: nonEmpty(env.HF_TOKEN),
    trustHub: env.ROUTET2I_HUB_TRUST_TOKEN === '1',
    signal: o.signal,
    onProgress: o.onProgress,
  };
}

const MB = 1024 * 1024;
const bytes = (n: number) => (n >= MB ? `${(n / MB).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`);

/** Download progress on stderr: a redrawn line on a terminal, a start and an end line otherwise. */
export function downloadProgress(io: CliIO): (event: ModelProgress) => void {
  let drawn = false;
  return (e) => {
    if (e.status === 'initiate') {
      io.stderr.write(`Downloading the CLIP model (${e.count} file${e.count === 1 ? '' : 's'}); this happens once.\n`);
    } else if (e.status === 'progress' && io.interactive) {
      const size = e.total
        ? `${bytes(e.loaded!)} of ${bytes(e.total)} (${Math.floor(e.progress ?? 0)}%)`
        : bytes(e.loaded!);
      io.stderr.write(`\r\x1b[2K  [${e.index}/${e.count}] ${e.file}: ${size}`);
      drawn = true;
    } else if (e.status === 'ready') {
      if (drawn) io.stderr.write('\r\x1b[2K');
      io.stderr.write('CLIP model ready.\n');
    }
  };
}

/** A metric list from a JSON or YAML file: a list, or an object with a `metrics` list. */
export function readMetricsFile(file: string, io: CliIO): Metric[] {
  const full = path.resolve(io.cwd, file);
  const text = readFileBoundedSync(full, { limit: READ_LIMITS.config, what: 'metrics file', name: file }).toString(
    'utf8',
  );
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(full) ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new RouteT2IError(
      'metrics-file',
      `${file} is not valid ${/\.ya?ml$/i.test(full) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const list =
    value && typeof value === 'object' && !Array.isArray(value) ? (value as { metrics?: unknown }).metrics : value;
  return parseMetrics(list, file);
}
