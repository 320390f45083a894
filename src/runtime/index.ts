// Public surface of the model runtime, for the CLI and the extension. Importing it loads no model
// runtime: transformers.js and onnxruntime load on the first score or encode.
export {
  ClipTokenEncoder,
  clipEncoderFactory,
  createClipEncoderFactory,
  CLIP_ENCODER_ID,
  CLIP_ENCODER_VERSION,
} from './clipEncoder';
export { openClipModel, locateClipModel, type ClipLoadOptions } from './clipModel';
export { ensureCachedModel, missingFiles } from './download';
export { checkImageHeader, scorableFormat, type ImageFormat } from './images';
export {
  cachedModelDir,
  defaultCacheDir,
  DEFAULT_CLIP_MODEL,
  DEFAULT_DTYPE,
  DEFAULT_HUB_URL,
  requiredFiles,
  type ClipDtype,
  type ClipPart,
  type ModelLocation,
  type ModelProgress,
} from './modelStore';
export {
  clipScore,
  CLIPSCORE_WEIGHT,
  contrastScore,
  isAlignment,
  LOGIT_SCALE,
  MetricScorer,
  type QualityScorer,
  type ScoreOptions,
} from './scorer';
