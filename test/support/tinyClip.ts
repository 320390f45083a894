/**
 * A tiny CLIP-shaped model folder whose outputs are known in closed form, written by the
 * tests themselves (no download). It has the files and names of the Hugging Face layout that
 * @huggingface/transformers loads (config.json, tokenizer.json, tokenizer_config.json,
 * preprocessor_config.json, onnx/{text,vision}_model[_quantized].onnx), and:
 *
 *   text:   last_hidden_state[t] = E[id_t] + Pos[t]        (E row of <|endoftext|> is zero)
 *           text_embeds          = (Σ_t E[id_t]) · Wt       (so padding with <|endoftext|> changes nothing)
 *   vision: image_embeds         = mean_hw(pixel_values) · Wv + bv   (per-channel means after CLIP preprocessing)
 *
 * E, Pos and Wt hold multiples of 1/8, so the text side is exact in float32.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeModel, type GraphSpec } from './onnxGraph';

export const TEXT_HIDDEN = 8;
export const PROJECTION = 4;
export const MAX_POSITIONS = 77;
export const IMAGE_SIZE = 32;
export const IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const IMAGE_STD = [0.26862954, 0.26130258, 0.27577711];

/** Words that BPE assembles into one piece; anything else falls apart into smaller pieces. */
const WHOLE_WORDS = [
  'high',
  'low',
  'definition',
  'photo',
  'detailed',
  'blurry',
  'clear',
  'hazy',
  'sharp',
  'out',
  'of',
  'focus',
  'harmonious',
  'discordant',
  'realistic',
  'artificial',
  'colorful',
  'dull',
  'consistent',
  'inconsistent',
  'well',
  'badly',
  'composed',
  'complete',
  'fragmented',
  'a',
  'cat',
  'dog',
  'on',
  'the',
  'red',
  'blue',
  'sofa',
  'portrait',
  'painting',
  'oil',
  'in',
  'style',
  'with',
  'and',
  'light',
];

// GPT-2/CLIP byte-to-unicode table: every byte gets a printable character.
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i]!)));
  return table;
}

const BYTE_CHAR = bytesToUnicode();
/** The byte order of CLIP's base vocabulary (printable bytes first). */
const BASE_ORDER = (() => {
  const order: number[] = [];
  for (let b = 33; b <= 126; b++) order.push(b);
  for (let b = 161; b <= 172; b++) order.push(b);
  for (let b = 174; b <= 255; b++) order.push(b);
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
  return order;
})();

export const BOS = '<|startoftext|>';
export const EOS = '<|endoftext|>';

function buildVocab(extraWords: readonly string[] = []): {
  vocab: Map<string, number>;
  merges: Array<[string, string]>;
} {
  const vocab = new Map<string, number>();
  for (const b of BASE_ORDER) vocab.set(BYTE_CHAR[b]!, vocab.size);
  for (const b of BASE_ORDER) vocab.set(BYTE_CHAR[b]! + '</w>', vocab.size);
  const merges: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const word of [...WHOLE_WORDS, ...extraWords]) {
    const symbols = wordSymbols(word);
    let acc = symbols[0]!;
    for (const next of symbols.slice(1)) {
      const key = `${acc} ${next}`;
      if (!seen.has(key)) {
        seen.add(key);
        merges.push([acc, next]);
        if (!vocab.has(acc + next)) vocab.set(acc + next, vocab.size);
      }
      acc += next;
    }
  }
  vocab.set(BOS, vocab.size);
  vocab.set(EOS, vocab.size);
  return { vocab, merges };
}

/** A pre-token as byte characters, the last one carrying the end-of-word suffix. */
function wordSymbols(word: string): string[] {
  const chars = Array.from(Buffer.from(word, 'utf8'), (b) => BYTE_CHAR[b]!);
  chars[chars.length - 1] += '</w>';
  return chars;
}

const PRE_TOKEN = /'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;

export interface TinyClip {
  dir: string;
  vocab: Map<string, number>;
  merges: Array<[string, string]>;
  bosId: number;
  eosId: number;
  /** Files of the folder, relative to it, in the Hugging Face layout. */
  files: string[];
  /** CLIP's tokenisation, written independently of the library: ids without BOS/EOS. */
  tokenize(text: string): number[];
  /** The closed forms of the graphs. */
  textEmbeds(text: string): number[];
  hiddenStates(ids: readonly number[]): number[][];
  imageEmbedsOfMeans(channelMeans: readonly number[]): number[];
  /** Per-channel mean of the preprocessed pixels of a solid colour (0..255 each). */
  solidColourMeans(rgb: readonly number[]): number[];
}

/** Deterministic multiples of 1/8 in [-1, 1] (a small LCG; no randomness between runs). */
function eighths(count: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(((s >>> 8) % 17) / 8 - 1);
  }
  return out;
}

function textGraph(vocabSize: number, embed: number[], pos: number[], proj: number[]): GraphSpec {
  return {
    name: 'tiny_clip_text',
    opset: 18,
    inputs: [{ name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] }],
    outputs: [
      { name: 'text_embeds', type: 'float', shape: ['batch_size', PROJECTION] },
      { name: 'last_hidden_state', type: 'float', shape: ['batch_size', 'sequence_length', TEXT_HIDDEN] },
    ],
    initializers: [
      { name: 'token_embedding', type: 'float', dims: [vocabSize, TEXT_HIDDEN], values: embed },
      { name: 'position_embedding', type: 'float', dims: [MAX_POSITIONS, TEXT_HIDDEN], values: pos },
      { name: 'text_projection', type: 'float', dims: [TEXT_HIDDEN, PROJECTION], values: proj },
      { name: 'axis_tokens', type: 'int64', dims: [1], values: [1] },
      { name: 'zero', type: 'int64', dims: [], values: [0] },
      { name: 'one', type: 'int64', dims: [], values: [1] },
    ],
    nodes: [
      { op: 'Gather', inputs: ['token_embedding', 'input_ids'], outputs: ['tok'], attributes: { axis: 0 } },
      // positions 0..S-1 from the length of input_ids
      { op: 'Shape', inputs: ['input_ids'], outputs: ['ids_shape'] },
      { op: 'Gather', inputs: ['ids_shape', 'one'], outputs: ['length'], attributes: { axis: 0 } },
      { op: 'Range', inputs: ['zero', 'length', 'one'], outputs: ['positions'] },
      { op: 'Gather', inputs: ['position_embedding', 'positions'], outputs: ['pos'], attributes: { axis: 0 } },
      { op: 'Add', inputs: ['tok', 'pos'], outputs: ['last_hidden_state'] },
      { op: 'ReduceSum', inputs: ['tok', 'axis_tokens'], outputs: ['pooled'], attributes: { keepdims: 0 } },
      { op: 'MatMul', inputs: ['pooled', 'text_projection'], outputs: ['text_embeds'] },
    ],
  };
}

function visionGraph(weights: number[], bias: number[]): GraphSpec {
  return {
    name: 'tiny_clip_vision',
    opset: 18,
    inputs: [{ name: 'pixel_values', type: 'float', shape: ['batch_size', 3, IMAGE_SIZE, IMAGE_SIZE] }],
    outputs: [{ name: 'image_embeds', type: 'float', shape: ['batch_size', PROJECTION] }],
    initializers: [
      { name: 'axes_hw', type: 'int64', dims: [2], values: [2, 3] },
      { name: 'visual_projection', type: 'float', dims: [3, PROJECTION], values: weights },
      { name: 'visual_bias', type: 'float', dims: [PROJECTION], values: bias },
    ],
    nodes: [
      // ReduceMean takes its axes as an input from opset 18 on.
      { op: 'ReduceMean', inputs: ['pixel_values', 'axes_hw'], outputs: ['means'], attributes: { keepdims: 0 } },
      { op: 'MatMul', inputs: ['means', 'visual_projection'], outputs: ['projected'] },
      { op: 'Add', inputs: ['projected', 'visual_bias'], outputs: ['image_embeds'] },
    ],
  };
}

function tokenizerJson(vocab: Map<string, number>, merges: Array<[string, string]>) {
  const special = (content: string) => ({
    id: vocab.get(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(BOS), special(EOS)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: {
            Regex:
              "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
          },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [EOS, vocab.get(EOS)],
      cls: [BOS, vocab.get(BOS)],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOS,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** Writes the folder and returns its closed forms. */
export interface TinyClipOptions {
  /** More words BPE keeps whole (a benchmark makes its prompts' words single pieces, as in real CLIP). */
  extraWords?: readonly string[];
  /** Write these graphs instead of the closed-form ones (the benchmark's CLIP-shaped model). */
  graphs?: (vocabSize: number) => {
    text: Uint8Array;
    vision: Uint8Array;
    textHidden: number;
    projection: number;
    imageSize: number;
  };
}

export function writeTinyClip(dir: string, options: TinyClipOptions = {}): TinyClip {
  const { vocab, merges } = buildVocab(options.extraWords);
  const V = vocab.size;
  const bosId = vocab.get(BOS)!;
  const eosId = vocab.get(EOS)!;
  const embed = eighths(V * TEXT_HIDDEN, 7);
  for (let j = 0; j < TEXT_HIDDEN; j++) embed[eosId * TEXT_HIDDEN + j] = 0;
  const pos = eighths(MAX_POSITIONS * TEXT_HIDDEN, 11).map((v) => v / 4);
  const proj = eighths(TEXT_HIDDEN * PROJECTION, 13);
  const visW = eighths(3 * PROJECTION, 17);
  const visB = eighths(PROJECTION, 19).map((v) => v / 2);

  const custom = options.graphs?.(V);
  const hidden = custom?.textHidden ?? TEXT_HIDDEN;
  const projection = custom?.projection ?? PROJECTION;
  const imageSize = custom?.imageSize ?? IMAGE_SIZE;
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const write = (rel: string, data: string | Uint8Array) => fs.writeFileSync(path.join(dir, rel), data);
  write(
    'config.json',
    JSON.stringify(
      {
        architectures: ['CLIPModel'],
        model_type: 'clip',
        projection_dim: projection,
        logit_scale_init_value: 2.6592,
        text_config: {
          model_type: 'clip_text_model',
          hidden_size: hidden,
          vocab_size: V,
          max_position_embeddings: MAX_POSITIONS,
          projection_dim: projection,
        },
        vision_config: { model_type: 'clip_vision_model', image_size: imageSize, projection_dim: projection },
      },
      null,
      2,
    ),
  );
  write('tokenizer.json', JSON.stringify(tokenizerJson(vocab, merges)));
  write(
    'tokenizer_config.json',
    JSON.stringify({
      tokenizer_class: 'CLIPTokenizer',
      model_max_length: MAX_POSITIONS,
      bos_token: BOS,
      eos_token: EOS,
      pad_token: EOS,
      unk_token: EOS,
      do_lower_case: true,
      clean_up_tokenization_spaces: true,
    }),
  );
  write(
    'preprocessor_config.json',
    JSON.stringify({
      crop_size: { height: imageSize, width: imageSize },
      do_center_crop: true,
      do_convert_rgb: true,
      do_normalize: true,
      do_rescale: true,
      do_resize: true,
      feature_extractor_type: 'CLIPFeatureExtractor',
      image_processor_type: 'CLIPImageProcessor',
      image_mean: IMAGE_MEAN,
      image_std: IMAGE_STD,
      resample: 3,
      rescale_factor: 1 / 255,
      size: { shortest_edge: imageSize },
    }),
  );
  const text = custom?.text ?? encodeModel(textGraph(V, embed, pos, proj));
  const vision = custom?.vision ?? encodeModel(visionGraph(visW, visB));
  // Both the full-precision and the quantized names: the loader asks for one by dtype.
  // (custom graphs are the quantized variant only: large, and written once)
  if (!custom) write('onnx/text_model.onnx', text);
  write('onnx/text_model_quantized.onnx', text);
  if (!custom) write('onnx/vision_model.onnx', vision);
  write('onnx/vision_model_quantized.onnx', vision);

  const ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const bpe = (word: string): string[] => {
    let symbols = wordSymbols(word);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) return symbols;
      symbols = [...symbols.slice(0, best), symbols[best]! + symbols[best + 1]!, ...symbols.slice(best + 2)];
    }
  };
  const tokenize = (text: string): number[] => {
    const normal = text.normalize('NFC').replace(/\s+/g, ' ').toLowerCase();
    return (normal.match(PRE_TOKEN) ?? []).flatMap((w) => bpe(w).map((s) => vocab.get(s)!));
  };
  const row = (m: number[], cols: number, r: number) => m.slice(r * cols, (r + 1) * cols);
  const times = (v: number[], m: number[], cols: number) =>
    Array.from({ length: cols }, (_, j) => v.reduce((acc, x, i) => acc + x * m[i * cols + j]!, 0));
  const textEmbeds = (text: string) => {
    const pooled = new Array(TEXT_HIDDEN).fill(0);
    for (const id of [bosId, ...tokenize(text), eosId]) row(embed, TEXT_HIDDEN, id).forEach((v, j) => (pooled[j] += v));
    return times(pooled, proj, PROJECTION);
  };
  const hiddenStates = (ids: readonly number[]) =>
    ids.map((id, t) => row(embed, TEXT_HIDDEN, id).map((v, j) => v + pos[t * TEXT_HIDDEN + j]!));
  const imageEmbedsOfMeans = (means: readonly number[]) =>
    times([...means], visW, PROJECTION).map((v, j) => v + visB[j]!);
  const solidColourMeans = (rgb: readonly number[]) => rgb.map((v, c) => (v / 255 - IMAGE_MEAN[c]!) / IMAGE_STD[c]!);

  return {
    dir,
    vocab,
    merges,
    bosId,
    eosId,
    files: [
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'preprocessor_config.json',
      'onnx/text_model.onnx',
      'onnx/text_model_quantized.onnx',
      'onnx/vision_model.onnx',
      'onnx/vision_model_quantized.onnx',
    ],
    tokenize,
    textEmbeds,
    hiddenStates,
    imageEmbedsOfMeans,
    solidColourMeans,
  };
}
