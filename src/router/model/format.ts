import { createHash } from 'node:crypto';
import { atomicTempName } from '../atomicWrite';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { READ_LIMITS, readFileBounded } from '../boundedRead';
import { RouteT2IError } from '../errors';
import { parseMetrics, type Metric } from '../metrics';
import type { Normalisation } from '../prs';
import type { EncoderSpec, Scores } from '../types';
import { parameterShapes, Parameters, type Architecture } from './network';
import { RIDGE_GROUPS, type RidgeFeature, type RidgeModel } from './ridge';

/**
 * The predictor file format: a folder with `model.json` (everything but the weights, readable
 * and diffable) and `weights.bin` (little-endian float32 tensors, located by the table in model.json and
 * checked by SHA-256). model.json is written last, so a folder is either complete or refused.
 */

export const MODEL_FORMAT = 'routet2i-predictor';
/** Version 1: the token-level network (`architecture`). Version 2 adds the ridge head (`head: "ridge"`, `ridge`). */
export const MODEL_VERSION = 2;
export const READABLE_VERSIONS: readonly number[] = [1, 2];
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
}

export interface TrainingSummary {
  data: { source: string; pairs: number; [key: string]: unknown };
  hyperparameters: Record<string, unknown>;
  epochs: number;
  bestEpoch: number;
  /** How the epoch count was chosen (absent in files written before it was recorded). */
  stopping?: 'holdout' | 'cross-validated' | 'fixed';
  trainLoss: number;
  validationLoss: number | null;
  seconds: number;
  [key: string]: unknown;
}

/** What the ridge head needs besides its tensors (ridgeMean, ridgeScale, ridgeCoef, ridgeIntercept in weights.bin). */
export interface RidgeHeadSpec {
  features: RidgeFeature[];
  /** The token-feature column that weights words in the vector mean (−1: equal weights). */
  rarityColumn: number;
  lambda: number;
  groups: Record<string, number>;
  /** How λ and the groups were chosen. */
  selection: { method: string; innerApgr: number | null; tried: number };
}

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: 1 | 2;
  /** The predicting head (absent in version 1: the network). */
  head?: 'network' | 'ridge';
  ridge?: RidgeHeadSpec;
  name: string;
  description?: string;
  created: string;
  metrics: Metric[];
  encoder: EncoderSpec;
  /** The network's shape (network head only). */
  architecture?: Architecture;
  normalisation: Normalisation;
  /** Mean token logit contribution per side and metric over the training prompts: impacts are relative to it. */
  impactBaseline: { edge: Scores; cloud: Scores };
  /** 101 quantiles of the training prompts' PRS: a cold-start history for α. */
  prsReference: number[];
  /**
   * The 50th, 80th and 95th percentiles of the non-zero |token impacts| over the training prompts: per metric (impact on
   * the edge's quality), and for the verdict (PRS-weighted cloud gain). Heat displays scale their colours by them.
   */
  heat?: { metric: [number, number, number]; verdict: [number, number, number] };
  training: TrainingSummary;
  /** Evaluation figures (cross-validation), as `routet2i eval --json` prints them. */
  evaluation?: Record<string, unknown>;
  weights: { file: string; sha256: string; dtype: 'float32'; tensors: TensorEntry[] };
}

export type ModelFileDraft = Omit<ModelFile, 'weights' | 'format' | 'version'>;

/** A predictor's weights: the network's parameters, or the ridge head's model. */
export type HeadWeights = Parameters | RidgeModel;

export function isRidge(w: HeadWeights): w is RidgeModel {
  return !(w instanceof Parameters);
}

/** The tensors of a ridge head, in file order. */
function ridgeTensors(model: RidgeModel): Array<[string, number[], Float64Array]> {
  const p = model.mean.length;
  const q = model.intercept.length;
  return [
    ['ridgeMean', [p], model.mean],
    ['ridgeScale', [p], model.scale],
    ['ridgeCoef', [q, p], model.coef],
    ['ridgeIntercept', [q], model.intercept],
  ];
}

/**
 * Writes a predictor folder all or nothing: every file (weights, model.json, and `extras` such as the model card, made
 * from the finished model.json) goes to a temporary name first, and only when all are written are they renamed into
 * place, model.json last. A full disk or a cancel while writing leaves a predictor already there as it was.
 */
export async function saveModel(
  dir: string,
  draft: ModelFileDraft,
  params: HeadWeights,
  extras?: (file: ModelFile) => Record<string, string>,
): Promise<ModelFile> {
  await mkdir(dir, { recursive: true });
  const tensors: TensorEntry[] = [];
  let offset = 0;
  let floats: Float32Array;
  if (isRidge(params)) {
    const parts = ridgeTensors(params);
    floats = new Float32Array(parts.reduce((s, [, , d]) => s + d.length, 0));
    for (const [name, shape, data] of parts) {
      tensors.push({ name, shape, offset });
      floats.set(data, offset);
      offset += data.length;
    }
  } else {
    floats = Float32Array.from(params.data);
    for (const [name, shape] of parameterShapes(params.arch)) {
      tensors.push({ name, shape, offset });
      offset += shape.reduce((a, b) => a * b, 1);
    }
  }
  const bytes = Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
  const ridge = isRidge(params);
  const { architecture, head: _head, ridge: ridgeSpec, ...rest } = draft;
  if (ridge && !ridgeSpec) throw new Error('a ridge predictor needs its ridge entry');
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: ridge ? 2 : 1,
    ...(ridge ? { head: 'ridge' as const, ridge: ridgeSpec! } : {}),
    ...rest,
    ...(ridge ? {} : { architecture: architecture ?? params.arch }),
    weights: { file: WEIGHTS_BIN, sha256: createHash('sha256').update(bytes).digest('hex'), dtype: 'float32', tensors },
  };
  const contents: Array<[string, string | Uint8Array]> = [
    ...Object.entries(extras?.(file) ?? {}),
    [WEIGHTS_BIN, bytes],
    [MODEL_JSON, JSON.stringify(file, null, 2) + '\n'],
  ];
  const staged: Array<[string, string]> = [];
  try {
    for (const [name, data] of contents) {
      const target = path.join(dir, name);
      const tmp = atomicTempName(target);
      staged.push([tmp, target]);
      await writeFile(tmp, data);
    }
  } catch (e) {
    await Promise.all(staged.map(([tmp]) => rm(tmp, { force: true })));
    throw e;
  }
  for (const [tmp, target] of staged) await rename(tmp, target);
  return file;
}

function bad(dir: string, what: string, hint?: string): RouteT2IError {
  return new RouteT2IError('bad-model', `${path.join(dir, MODEL_JSON)}: ${what}`, hint);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000;

function scoresFor(dir: string, value: unknown, metrics: Metric[], what: string): Scores {
  if (!isObject(value)) throw bad(dir, `${what} is missing`);
  for (const m of metrics) {
    if (typeof value[m.id] !== 'number' || !Number.isFinite(value[m.id]))
      throw bad(dir, `${what} has no number for metric "${m.id}"`);
  }
  return value as Scores;
}

/** Reads and checks a predictor folder. Any damage is a RouteT2IError naming the file and the problem. */
export async function loadModel(dir: string): Promise<{ file: ModelFile; params: HeadWeights }> {
  let text: string;
  try {
    text = (
      await readFileBounded(path.join(dir, MODEL_JSON), { limit: READ_LIMITS.modelJson, what: 'predictor file' })
    ).toString('utf8');
  } catch (e) {
    if (e instanceof RouteT2IError && e.code === 'no-such-file') {
      throw new RouteT2IError(
        'no-model',
        `${dir}: no predictor here (${MODEL_JSON} is missing)`,
        'train one with `routet2i train`, or leave --model out to use the shipped default',
      );
    }
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(dir, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(raw)) throw bad(dir, 'not a predictor file');
  if (raw.format !== MODEL_FORMAT) throw bad(dir, `not a RouteT2I predictor (format is ${JSON.stringify(raw.format)})`);
  if (!READABLE_VERSIONS.includes(raw.version as number)) {
    throw bad(
      dir,
      `predictor format version ${JSON.stringify(raw.version)} is not supported (this RouteT2I reads versions ${READABLE_VERSIONS.join(' and ')})`,
      'retrain it with this version, or use the RouteT2I that wrote it',
    );
  }
  const metrics = parseMetrics(raw.metrics, path.join(dir, MODEL_JSON));
  const enc = raw.encoder;
  if (
    !isObject(enc) ||
    typeof enc.id !== 'string' ||
    !isPosInt(enc.version) ||
    !isPosInt(enc.dim) ||
    enc.dim === 0 ||
    !isObject(enc.config)
  ) {
    throw bad(dir, 'the encoder entry must have id, version, dim and config');
  }
  const isRidgeFile = raw.head === 'ridge';
  if (raw.head !== undefined && raw.head !== 'ridge' && raw.head !== 'network')
    throw bad(dir, `unknown head ${JSON.stringify(raw.head)}`);
  if (isRidgeFile && raw.version !== 2) throw bad(dir, 'a ridge head needs format version 2');
  let architecture: Architecture | undefined;
  let ridgeSpec: RidgeHeadSpec | undefined;
  if (isRidgeFile) ridgeSpec = checkRidgeSpec(dir, raw.ridge, enc.dim);
  else {
    const arch = raw.architecture;
    if (!isObject(arch)) throw bad(dir, 'the architecture entry is missing');
    for (const key of ['metrics', 'inputDim', 'topK', 'rank', 'hidden', 'wordBuckets', 'wordDim'] as const) {
      if (!isPosInt(arch[key])) throw bad(dir, `architecture.${key} must be a whole number`);
    }
    architecture = arch as unknown as Architecture;
    if (architecture.metrics !== metrics.length)
      throw bad(
        dir,
        `architecture.metrics (${architecture.metrics}) does not match the ${metrics.length} metrics listed`,
      );
    if (architecture.inputDim !== enc.dim)
      throw bad(
        dir,
        `architecture.inputDim (${architecture.inputDim}) does not match the encoder's width (${enc.dim})`,
      );
    if (architecture.topK < 1 || architecture.rank < 1 || architecture.hidden < 1)
      throw bad(dir, 'topK, rank and hidden must be at least 1');
  }
  const norm = raw.normalisation;
  if (!isObject(norm)) throw bad(dir, 'the normalisation entry is missing');
  const normalisation: Normalisation = {
    muEdge: scoresFor(dir, norm.muEdge, metrics, 'normalisation.muEdge'),
    muCloud: scoresFor(dir, norm.muCloud, metrics, 'normalisation.muCloud'),
    gamma: norm.gamma as number,
    weights: scoresFor(dir, norm.weights, metrics, 'normalisation.weights'),
  };
  if (!(typeof normalisation.gamma === 'number' && normalisation.gamma > 0 && Number.isFinite(normalisation.gamma)))
    throw bad(dir, 'normalisation.gamma must be a positive number');
  const wsum = metrics.reduce((s, m) => s + normalisation.weights[m.id]!, 0);
  if (Math.abs(wsum - 1) > 1e-3 || metrics.some((m) => normalisation.weights[m.id]! < 0))
    throw bad(dir, `normalisation.weights must be non-negative and sum to 1 (they sum to ${wsum.toFixed(4)})`);
  const base = raw.impactBaseline;
  if (!isObject(base)) throw bad(dir, 'impactBaseline is missing');
  const impactBaseline = {
    edge: scoresFor(dir, base.edge, metrics, 'impactBaseline.edge'),
    cloud: scoresFor(dir, base.cloud, metrics, 'impactBaseline.cloud'),
  };
  const prsReference = raw.prsReference;
  if (!Array.isArray(prsReference) || !prsReference.every((v) => typeof v === 'number' && v >= 0 && v <= 1))
    throw bad(dir, 'prsReference must be a list of numbers in [0, 1]');
  const heat = raw.heat;
  const triple = (v: unknown) =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);
  if (heat !== undefined && !(isObject(heat) && triple(heat.metric) && triple(heat.verdict)))
    throw bad(dir, 'heat must hold three non-negative percentiles for "metric" and for "verdict"');
  const w = raw.weights;
  if (
    !isObject(w) ||
    typeof w.file !== 'string' ||
    typeof w.sha256 !== 'string' ||
    w.dtype !== 'float32' ||
    !Array.isArray(w.tensors)
  ) {
    throw bad(dir, 'the weights entry must name a float32 file, its sha256 and its tensors');
  }
  if (path.basename(w.file) !== w.file) throw bad(dir, 'weights.file must be a file name inside the model folder');
  const expected: Array<[string, number[]]> = ridgeSpec
    ? (() => {
        const p = ridgeSpec.features.length;
        const q = 2 * metrics.length;
        return [
          ['ridgeMean', [p]],
          ['ridgeScale', [p]],
          ['ridgeCoef', [q, p]],
          ['ridgeIntercept', [q]],
        ];
      })()
    : parameterShapes(architecture!);
  const total = expected.reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
  let bytes: Buffer;
  try {
    // The architecture says how many bytes the weights take: nothing past that is read (a link to /dev/zero stops there).
    bytes = await readFileBounded(path.join(dir, w.file), {
      limit: total * 4,
      what: 'weights file',
      tooLarge: (size) =>
        bad(
          dir,
          `${w.file} holds ${size === undefined ? `more than ${total}` : size / 4} numbers but the architecture needs ${total}`,
        ),
    });
  } catch (e) {
    if (e instanceof RouteT2IError && e.code === 'no-such-file')
      throw bad(dir, `its weights file ${w.file} is missing`);
    throw e;
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== w.sha256)
    throw bad(dir, `${w.file} is damaged (its SHA-256 does not match)`, 'retrain or restore the model folder');
  if (bytes.length !== total * 4)
    throw bad(dir, `${w.file} holds ${bytes.length / 4} numbers but the architecture needs ${total}`);
  let offset = 0;
  for (const [name, shape] of expected) {
    const entry = (w.tensors as TensorEntry[]).find((t) => t && t.name === name);
    if (!entry || JSON.stringify(entry.shape) !== JSON.stringify(shape) || entry.offset !== offset) {
      throw bad(
        dir,
        `tensor "${name}" is missing or has the wrong shape or offset (expected ${JSON.stringify(shape)} at ${offset})`,
      );
    }
    offset += shape.reduce((a, b) => a * b, 1);
  }
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const data = Float64Array.from(floats);
  if (!data.every(Number.isFinite)) throw bad(dir, `${w.file} holds values that are not finite numbers`);
  const file = {
    ...(raw as unknown as ModelFile),
    metrics,
    ...(architecture ? { architecture } : {}),
    normalisation,
    impactBaseline,
    prsReference: prsReference as number[],
  };
  if (ridgeSpec) {
    const p = ridgeSpec.features.length;
    const q = 2 * metrics.length;
    const model: RidgeModel = {
      lambda: ridgeSpec.lambda,
      mean: data.slice(0, p),
      scale: data.slice(p, 2 * p),
      coef: data.slice(2 * p, 2 * p + q * p),
      intercept: data.slice(2 * p + q * p),
    };
    if (!model.scale.every((v) => v > 0)) throw bad(dir, 'ridgeScale must be positive');
    return { file, params: model };
  }
  return { file, params: new Parameters(architecture!, data) };
}

function checkRidgeSpec(dir: string, value: unknown, dim: number): RidgeHeadSpec {
  if (!isObject(value) || !Array.isArray(value.features) || value.features.length === 0)
    throw bad(dir, 'the ridge entry must list its features');
  const features = value.features.map((f, i): RidgeFeature => {
    if (
      !isObject(f) ||
      typeof f.name !== 'string' ||
      !['mean', 'sum', 'global', 'bin'].includes(f.kind as string) ||
      !RIDGE_GROUPS.includes(f.group as never)
    ) {
      throw bad(dir, `ridge feature ${i + 1} must have a name, a kind and a group`);
    }
    if (f.kind !== 'global' && !(isPosInt(f.column) && f.column < dim))
      throw bad(dir, `ridge feature "${f.name}" reads a column the encoder does not have`);
    if (
      f.kind === 'bin' &&
      !(Array.isArray(f.range) && f.range.length === 2 && f.range.every((v) => typeof v === 'number'))
    )
      throw bad(dir, `ridge feature "${f.name}" needs a range`);
    return f as unknown as RidgeFeature;
  });
  const rarity = value.rarityColumn;
  if (!(typeof rarity === 'number' && Number.isInteger(rarity) && rarity >= -1 && rarity < dim))
    throw bad(dir, 'ridge.rarityColumn must be a column of the encoder or −1');
  if (!(typeof value.lambda === 'number' && value.lambda > 0)) throw bad(dir, 'ridge.lambda must be a positive number');
  return { ...(value as unknown as RidgeHeadSpec), features };
}
