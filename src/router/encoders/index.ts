import { RouteT2IError } from '../errors';
import type { EncoderFactory } from '../types';
import { LEXICAL_ENCODER_ID, LEXICAL_ENCODER_VERSION, lexicalFeatures, LexicalEncoder } from './lexical';

export {
  LexicalEncoder,
  encodeLexical,
  LEXICAL_FEATURES,
  LEXICAL_ENCODER_ID,
  LEXICAL_ENCODER_VERSION,
  lexicalFeatures,
  normalise,
  wordHash,
} from './lexical';
export { wordVectors, lookupRows, WORD_VECTOR_FILE } from './wordVectors';

/**
 * The embedded encoder. A saved spec must match one of this build's versions exactly: version 1 (lexical features
 * only) or version 2 (with word vectors, whose table must be the very one the predictor was trained with).
 */
export const lexicalEncoderFactory: EncoderFactory = async (spec) => {
  const version = spec.version ?? LEXICAL_ENCODER_VERSION;
  if (version !== 1 && version !== 2) {
    throw new RouteT2IError(
      'encoder-mismatch',
      `the predictor was trained with lexical encoder version ${version}; this RouteT2I reads versions 1 and 2`,
      'retrain the predictor, or use the RouteT2I that trained it',
    );
  }
  const features = spec.config?.features;
  if (features !== undefined && JSON.stringify(features) !== JSON.stringify(lexicalFeatures(version))) {
    throw new RouteT2IError(
      'encoder-mismatch',
      `the predictor was trained on a different lexical feature list than this RouteT2I computes for version ${version}`,
      'retrain the predictor',
    );
  }
  const encoder = new LexicalEncoder(version);
  const want = (spec.config?.wordVectors as { sha256?: unknown } | undefined)?.sha256;
  const have = (encoder.spec.config.wordVectors as { sha256: string } | undefined)?.sha256;
  if (want !== undefined && want !== have) {
    throw new RouteT2IError(
      'encoder-mismatch',
      `the predictor was trained on word vectors with SHA-256 ${String(want).slice(0, 12)}…; this RouteT2I's table is ${String(have).slice(0, 12)}…`,
      'rebuild with `npm run build` from the same package-lock, or retrain the predictor',
    );
  }
  encoder.warmUp();
  return encoder;
};

export const builtinEncoders: Record<string, EncoderFactory> = { [LEXICAL_ENCODER_ID]: lexicalEncoderFactory };
