import { builtinEncoders } from '../router/encoders';
import type { EncoderFactory } from '../router/types';

/** Encoders the CLI can train with and load predictors for, by id. */
export const encoderFactories: Record<string, EncoderFactory> = { ...builtinEncoders };
