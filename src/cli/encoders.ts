import type { EncoderFactory } from '../router/types';
import { clipEncoderFactory } from '../runtime/clipEncoder';

/** Token encoders `train --encoder NAME` and predictor files can name. The clip factory loads its runtime lazily. */
export const encoderFactories: Record<string, EncoderFactory> = {
  clip: clipEncoderFactory,
};
