import * as path from 'node:path';
import { builtinEncoders } from '../router/encoders';
import type { EncoderContext, EncoderFactory } from '../router/types';
import { clipEncoderFactory } from '../runtime/clipEncoder';
import { defaultCacheDir } from '../runtime/modelStore';
import { downloadProgress } from './clipOptions';
import type { CliIO } from './io';

/** Encoders the CLI can train with and load predictors for, by id. The clip factory loads its runtime lazily. */
export const encoderFactories: Record<string, EncoderFactory> = { ...builtinEncoders, clip: clipEncoderFactory };

/** Where encoders find their models from a command: --models-dir, the cache, and a progress line for a first download. */
export function encoderContext(io: CliIO, modelsDir?: string): EncoderContext {
  return {
    signal: io.signal,
    cacheDir: defaultCacheDir(io.env),
    onProgress: downloadProgress(io) as EncoderContext['onProgress'],
    ...(modelsDir ? { modelsDir: path.resolve(io.cwd, modelsDir) } : {}),
  };
}
