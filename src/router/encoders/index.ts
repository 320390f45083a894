import { RouteT2IError } from '../errors';
import type { EncoderFactory } from '../types';
import { LEXICAL_ENCODER_ID, LEXICAL_ENCODER_VERSION, LEXICAL_FEATURES, LexicalEncoder } from './lexical';

export { LexicalEncoder, encodeLexical, LEXICAL_FEATURES, LEXICAL_ENCODER_ID, normalise, wordHash } from './lexical';

/** The embedded encoder. A saved spec must match this build's feature list exactly. */
export const lexicalEncoderFactory: EncoderFactory = async (spec) => {
  const encoder = new LexicalEncoder();
  if (spec.version !== undefined && spec.version !== LEXICAL_ENCODER_VERSION) {
    throw new RouteT2IError('encoder-mismatch', `the predictor was trained with lexical encoder version ${spec.version}; this RouteT2I has version ${LEXICAL_ENCODER_VERSION}`, 'retrain the predictor');
  }
  const features = spec.config?.features;
  if (features !== undefined && JSON.stringify(features) !== JSON.stringify(LEXICAL_FEATURES)) {
    throw new RouteT2IError('encoder-mismatch', 'the predictor was trained on a different lexical feature list than this RouteT2I computes', 'retrain the predictor');
  }
  encoder.warmUp();
  return encoder;
};

export const builtinEncoders: Record<string, EncoderFactory> = { [LEXICAL_ENCODER_ID]: lexicalEncoderFactory };
