/**
 * Where CLIP model files live on the user's machine, and which files a model needs.
 *
 * Two sources, never mixed: a local copy the user names (`modelsDir`: offline, nothing is ever
 * fetched), or the download cache (`cacheDir`, default ~/.cache/routet2i/models), filled from a
 * hub in the Hugging Face layout on first use (see download.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RouteT2IError } from '../router/errors';

export const DEFAULT_CLIP_MODEL = 'Xenova/clip-vit-base-patch32';
export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** ONNX weight variants, as transformers.js names them (file suffix per dtype). */
export const DTYPE_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
} as const;
export type ClipDtype = keyof typeof DTYPE_SUFFIX;
export const DEFAULT_DTYPE: ClipDtype = 'q8';

/** Which halves of CLIP a caller needs: the token encoder only needs the text side. */
export type ClipPart = 'text' | 'vision';

/** Progress while model files are fetched; `progress` is a percentage (0–100) of the current file. */
export interface ModelProgress {
  status: 'initiate' | 'progress' | 'done' | 'ready';
  file?: string;
  /** Bytes of the current file so far, and its size where the server says. */
  loaded?: number;
  total?: number;
  progress?: number;
  /** Index of the current file (1-based) and how many are to be fetched. */
  index?: number;
  count?: number;
}

export interface ModelLocation {
  /** Hub model id, e.g. Xenova/clip-vit-base-patch32. */
  model?: string;
  dtype?: ClipDtype;
  /** A local copy (a model folder, or a folder holding `<model id>/`): offline, never downloads. */
  modelsDir?: string;
  /** The download cache; default $ROUTET2I_CACHE_DIR, else the platform's cache folder + routet2i/models. */
  cacheDir?: string;
  /** Hub base URL; files are fetched from `<hubUrl>/<model>/resolve/<revision>/<file>`. */
  hubUrl?: string;
  revision?: string;
}

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function checkModelId(id: string): string {
  if (!MODEL_ID.test(id) || id.includes('..')) {
    throw new RouteT2IError(
      'bad-model-id',
      `"${id}" is not a model id (expected "owner/name", e.g. ${DEFAULT_CLIP_MODEL})`,
    );
  }
  return id;
}

export function checkDtype(value: string): ClipDtype {
  if (!Object.prototype.hasOwnProperty.call(DTYPE_SUFFIX, value)) {
    throw new RouteT2IError(
      'bad-dtype',
      `unknown model precision "${value}" (one of: ${Object.keys(DTYPE_SUFFIX).join(', ')})`,
    );
  }
  return value as ClipDtype;
}

/** The files a CLIP model folder must hold for the given parts, relative to the folder. */
export function requiredFiles(dtype: ClipDtype, parts: readonly ClipPart[]): string[] {
  const suffix = DTYPE_SUFFIX[dtype];
  const files = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
  if (parts.includes('text')) files.push(`onnx/text_model${suffix}.onnx`);
  if (parts.includes('vision')) files.push('preprocessor_config.json', `onnx/vision_model${suffix}.onnx`);
  return files;
}

/** The default download cache: visible, and safe to delete (it is refilled on next use). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ROUTET2I_CACHE_DIR) return path.resolve(env.ROUTET2I_CACHE_DIR);
  if (process.platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'routet2i', 'models');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'routet2i', 'models');
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'routet2i', 'models');
}

/** The folder a model has (or will have) in the cache. */
export function cachedModelDir(cacheDir: string, model: string): string {
  return path.join(cacheDir, ...checkModelId(model).split('/'));
}

/**
 * The folder of a user-named local copy: `modelsDir` itself when it holds config.json,
 * else `modelsDir/<model id>`. Every required file must be there (nothing is fetched).
 */
export function localModelDir(modelsDir: string, model: string, files: readonly string[]): string {
  const root = path.resolve(modelsDir);
  if (!isDirectory(root)) {
    throw new RouteT2IError(
      'models-dir-missing',
      `models folder ${root} does not exist`,
      'check --models-dir / the routet2i.model.modelsDir setting',
    );
  }
  const candidates = [root, path.join(root, ...checkModelId(model).split('/'))];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'config.json'))) ?? candidates[1]!;
  const missing = files.filter((f) => !isFile(path.join(dir, f)));
  if (missing.length > 0) {
    throw new RouteT2IError(
      'model-files-missing',
      `${dir} lacks ${missing.join(', ')} of CLIP model ${model}`,
      `copy the model's files there in the Hugging Face layout, or leave the models folder unset to download it`,
    );
  }
  return dir;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
