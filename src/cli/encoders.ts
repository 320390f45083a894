import { builtinEncoders } from '../router/encoders';
import type { EncoderFactory } from '../router/types';
import { clipEncoderFactory } from '../runtime/clipEncoder';

/** Encoders the CLI can train with and load predictors for, by id. The clip factory loads its runtime lazily. */
export const encoderFactories: Record<string, EncoderFactory> = { ...builtinEncoders, clip: clipEncoderFactory };
