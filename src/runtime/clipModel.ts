/**
 * A CLIP model on onnxruntime-node through @huggingface/transformers: the tokenizer, the text
 * tower (pooled embeddings and per-token hidden states) and the vision tower. Loaded from a
 * complete local folder only (a user's copy, or the download cache once verified), and shared
 * by every scorer and encoder of the process that asks for the same folder.
 */
import * as path from 'node:path';
import { RouteT2IError, throwIfAborted } from '../router/errors';
import { ensureCachedModel } from './download';
import {
  checkDtype,
  checkModelId,
  defaultCacheDir,
  DEFAULT_CLIP_MODEL,
  DEFAULT_DTYPE,
  DTYPE_SUFFIX,
  localModelDir,
  requiredFiles,
  type ClipDtype,
  type ClipPart,
  type ModelLocation,
  type ModelProgress,
} from './modelStore';
import { loadTransformers, type Transformers } from './transformers';

export interface ClipLoadOptions extends ModelLocation {
  signal?: AbortSignal;
  onProgress?: (event: ModelProgress) => void;
  /** Hub token for gated models (the CLI passes HF_TOKEN). */
  token?: string;
  /** Send the token to a custom hub URL too (ROUTET2I_HUB_TRUST_TOKEN=1). */
  trustHub?: boolean;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  threads?: number;
  stallMs?: number;
  fetch?: typeof fetch;
}

type RawImage = InstanceType<Transformers['RawImage']>;
type Tokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type Model = Awaited<ReturnType<Transformers['PreTrainedModel']['from_pretrained']>>;
type Processor = Awaited<ReturnType<Transformers['AutoProcessor']['from_pretrained']>>;

/** Finds (and, without a local copy, downloads) the folder holding the parts' files. */
export async function locateClipModel(
  options: ClipLoadOptions,
  parts: readonly ClipPart[],
): Promise<{ dir: string; model: string; dtype: ClipDtype }> {
  const model = checkModelId(options.model ?? DEFAULT_CLIP_MODEL);
  const dtype = checkDtype(options.dtype ?? DEFAULT_DTYPE);
  const files = requiredFiles(dtype, parts);
  if (options.modelsDir) return { dir: localModelDir(options.modelsDir, model, files), model, dtype };
  const dir = await ensureCachedModel({
    model,
    files,
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    hubUrl: options.hubUrl,
    revision: options.revision,
    token: options.token,
    trustHub: options.trustHub,
    signal: options.signal,
    onProgress: options.onProgress,
    stallMs: options.stallMs,
    fetch: options.fetch,
  });
  return { dir, model, dtype };
}

const shared = new Map<string, Promise<ClipModel>>();

/** The model for these options and parts; one instance per folder, precision and parts per process. Call `release()` when done. */
export async function openClipModel(options: ClipLoadOptions, parts: readonly ClipPart[]): Promise<ClipModel> {
  const where = await locateClipModel(options, parts);
  throwIfAborted(options.signal);
  const wanted = [...new Set(parts)].sort();
  const key = [where.dir, where.dtype, wanted.join('+'), options.threads ?? ''].join('|');
  let pending = shared.get(key);
  if (!pending) {
    pending = ClipModel.load(where.dir, where.model, where.dtype, wanted, options.threads, () => shared.delete(key));
    pending.catch(() => shared.delete(key));
    shared.set(key, pending);
  }
  const model = await pending;
  model.retain();
  return model;
}

export class ClipModel {
  private users = 0;
  private readonly textCache = new Map<string, Float64Array>();
  private readonly wordCache = new Map<string, number[]>();
  private constructor(
    readonly dir: string,
    readonly model: string,
    readonly dtype: ClipDtype,
    private readonly t: Transformers,
    private readonly tokenizer: Tokenizer,
    private readonly textModel: Model | undefined,
    private readonly visionModel: Model | undefined,
    private readonly processor: Processor | undefined,
    /** Start- and end-of-text ids the tokenizer adds around a sequence. */
    readonly bosId: number,
    readonly eosId: number,
    /** Longest sequence the text tower takes, special tokens included. */
    readonly maxPositions: number,
    private readonly forget: () => void,
  ) {}

  static async load(
    dir: string,
    model: string,
    dtype: ClipDtype,
    parts: ClipPart[],
    threads: number | undefined,
    forget: () => void,
  ): Promise<ClipModel> {
    const t = await loadTransformers();
    const common = { local_files_only: true };
    const modelOptions = {
      ...common,
      dtype,
      device: 'cpu' as const,
      session_options: threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {},
    };
    const guard = <T>(what: string, file: string, p: Promise<T>): Promise<T> =>
      p.catch((e: unknown) => {
        throw new RouteT2IError(
          'model-damaged',
          `${path.join(dir, file)}: cannot load the CLIP ${what} (${firstLine(e)})`,
          'delete the model folder to download it again, or replace the local copy',
        );
      });
    const suffix = DTYPE_SUFFIX[dtype];
    const [tokenizer, textModel, visionModel, processor, config] = await Promise.all([
      guard('tokenizer', 'tokenizer.json', t.AutoTokenizer.from_pretrained(dir, common)),
      parts.includes('text')
        ? guard(
            'text model',
            `onnx/text_model${suffix}.onnx`,
            t.CLIPTextModelWithProjection.from_pretrained(dir, modelOptions),
          )
        : undefined,
      parts.includes('vision')
        ? guard(
            'vision model',
            `onnx/vision_model${suffix}.onnx`,
            t.CLIPVisionModelWithProjection.from_pretrained(dir, modelOptions),
          )
        : undefined,
      parts.includes('vision')
        ? guard('image preprocessor', 'preprocessor_config.json', t.AutoProcessor.from_pretrained(dir, common))
        : undefined,
      guard('configuration', 'config.json', t.AutoConfig.from_pretrained(dir, common)),
    ]);
    const ends = tokenizer.encode('', { add_special_tokens: true });
    if (ends.length !== 2) {
      throw new RouteT2IError(
        'model-damaged',
        `${path.join(dir, 'tokenizer.json')}: not a CLIP tokenizer (it must add a start and an end token)`,
      );
    }
    const textConfig = (config as unknown as { text_config?: { max_position_embeddings?: number } }).text_config;
    const maxPositions = textConfig?.max_position_embeddings ?? 77;
    const instance = new ClipModel(
      dir,
      model,
      dtype,
      t,
      tokenizer,
      textModel,
      visionModel,
      processor,
      ends[0]!,
      ends[1]!,
      maxPositions,
      forget,
    );
    instance.checkOutputs();
    return instance;
  }

  private checkOutputs(): void {
    const outputs = (m: Model | undefined) =>
      (m as unknown as { sessions?: Record<string, { outputNames: string[] }> })?.sessions?.model?.outputNames ?? [];
    const need = (m: Model | undefined, names: string[], file: string) => {
      if (!m) return;
      const missing = names.filter((n) => !outputs(m).includes(n));
      if (missing.length > 0) {
        throw new RouteT2IError(
          'model-damaged',
          `${path.join(this.dir, 'onnx', file)}: not a CLIP model with projection (no ${missing.join(', ')} output)`,
        );
      }
    };
    need(this.textModel, ['text_embeds', 'last_hidden_state'], 'text_model*.onnx');
    need(this.visionModel, ['image_embeds'], 'vision_model*.onnx');
  }

  retain(): void {
    this.users += 1;
  }

  /** Drops one user; the sessions are freed when the last one lets go. */
  async release(): Promise<void> {
    this.users -= 1;
    if (this.users > 0) return;
    this.forget();
    await Promise.all([this.textModel?.dispose(), this.visionModel?.dispose()]);
  }

  /** BPE ids of one piece of text, without start/end tokens (cached: prompts repeat words). */
  tokenIds(text: string): number[] {
    let ids = this.wordCache.get(text);
    if (!ids) {
      ids = this.tokenizer.encode(text, { add_special_tokens: false });
      remember(this.wordCache, text, ids, 4096);
    }
    return ids;
  }

  /** Unit-length CLIP embedding of a text (cached: metric texts and prompts are embedded once). */
  async embedText(text: string): Promise<Float64Array> {
    const cached = this.textCache.get(text);
    if (cached) return cached;
    const model = this.need(this.textModel, 'text');
    const inputs = this.tokenizer(text, { truncation: true, max_length: this.maxPositions });
    const out = await model(inputs);
    const v = unit(out.text_embeds.data as Float32Array);
    remember(this.textCache, text, v, 512);
    return v;
  }

  /**
   * last_hidden_state of id sequences (each with its start/end ids, at most `maxPositions` long).
   * One sequence per run: on a CPU, batching gains nothing measurable (bench/runtime.ts) and
   * padding would make the result depend on how the text tower treats pad positions.
   */
  async hiddenStates(sequences: readonly number[][], signal?: AbortSignal): Promise<Float32Array[]> {
    const model = this.need(this.textModel, 'text');
    const takesMask = this.inputNames(model).includes('attention_mask');
    const result: Float32Array[] = [];
    for (const sequence of sequences) {
      throwIfAborted(signal);
      const n = sequence.length;
      const feeds: Record<string, unknown> = {
        input_ids: new this.t.Tensor('int64', BigInt64Array.from(sequence, BigInt), [1, n]),
      };
      if (takesMask) feeds.attention_mask = new this.t.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
      const out = await model(feeds);
      const states = out.last_hidden_state as { data: Float32Array; dims: number[] };
      if (states.dims[1] !== n)
        throw new RouteT2IError(
          'model-damaged',
          `${this.dir}: the text model returned ${states.dims[1]} states for ${n} tokens`,
        );
      result.push(states.data);
    }
    return result;
  }

  /** Unit-length CLIP embedding of a decoded image. */
  async embedImage(image: RawImage): Promise<Float64Array> {
    const model = this.need(this.visionModel, 'vision');
    const inputs = await this.processor!(image);
    const out = await model(inputs);
    return unit(out.image_embeds.data as Float32Array);
  }

  get transformers(): Transformers {
    return this.t;
  }

  private inputNames(model: Model): string[] {
    return (
      (model as unknown as { sessions?: Record<string, { inputNames: string[] }> }).sessions?.model?.inputNames ?? [
        'input_ids',
      ]
    );
  }

  private need(model: Model | undefined, part: ClipPart): Model {
    if (!model) throw new Error(`CLIP ${part} tower was not loaded for ${this.dir}`);
    return model;
  }
}

export function unit(v: ArrayLike<number>): Float64Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm) || 1;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function remember<K, V>(cache: Map<K, V>, key: K, value: V, limit: number): void {
  if (cache.size >= limit) cache.delete(cache.keys().next().value as K);
  cache.set(key, value);
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split('\n')[0]!
    .slice(0, 300);
}
