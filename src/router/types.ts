/**
 * Shared value types of the engine. Offsets are UTF-16 code-unit offsets, the unit of
 * JavaScript strings and of VS Code positions, so an editor can use them directly.
 */

/** Where a prompt sits in its input. `start`/`end` index the whole input text. */
export interface PromptSource {
  file: string;
  start: number;
  end: number;
  /** 0-based line of `start`. */
  line: number;
  /** Set where the format escapes characters (CSV `""`, JSON `\n`), so `prompt` is not the literal slice. */
  escaped?: boolean;
}

/** Per-file or per-prompt generation settings (from `.t2i` front matter and the like). */
export interface PromptSettings {
  width?: number;
  height?: number;
  seed?: number;
  steps?: number;
  backend?: string;
  [key: string]: unknown;
}

/** One prompt read from an input file. `prompt` is the exact source text `input.slice(source.start, source.end)`,
 * unless `source.escaped`. Inside `prompt`, `#` comment lines and the A1111 syntax are kept; the engine skips them. */
export interface PromptEntry {
  id: string;
  prompt: string;
  negative?: string;
  source: PromptSource;
  settings: PromptSettings;
  /** A `# route: cloud|edge` comment line just above the prompt (`.t2i`): the user's choice, over the policy. */
  route?: { side: Side; start: number; end: number };
}

/** A word of a prompt. `start`/`end` index the prompt string; `weight` is its emphasis (1 = none). */
export interface Token {
  text: string;
  start: number;
  end: number;
  weight: number;
}

/** Per-token features produced by an encoder: `features` is n × dim, row-major. */
export interface EncodedPrompt {
  tokens: Token[];
  features: Float32Array;
  /** Optional stable 32-bit hash of each token's normalised word, for a learned word embedding. */
  wordIds?: Uint32Array;
}

/** What a predictor file records about the encoder it was trained with. */
export interface EncoderSpec {
  id: string;
  version: number;
  dim: number;
  config: Record<string, unknown>;
}

/**
 * Turns prompts into per-token features. The `lexical` encoder (embedded, synchronous)
 * and the `clip` encoder (src/runtime, ONNX) both implement it.
 */
export interface TokenEncoder {
  readonly spec: EncoderSpec;
  encode(prompts: readonly string[], options?: { signal?: AbortSignal }): Promise<EncodedPrompt[]>;
  /** Present where encoding needs no I/O: the editor's per-keystroke heat uses it. */
  encodeSync?(prompt: string): EncodedPrompt;
  dispose?(): Promise<void> | void;
}

/** Where and how an encoder may find its own model files. */
export interface EncoderContext {
  /** The predictor's folder (for encoders that keep files beside the weights). */
  modelDir?: string;
  /** A local folder of encoder models (offline use); when set, nothing is downloaded. */
  modelsDir?: string;
  /** The download cache folder. */
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (event: { status: string; file?: string; loaded?: number; total?: number; progress?: number }) => void;
}

/**
 * Creates an encoder from a spec (the one a predictor file names, or a fresh one for training).
 * The engine knows `lexical`; the CLI and the extension register `clip` (src/runtime).
 */
export type EncoderFactory = (
  spec: Partial<EncoderSpec> & { id: string },
  context: EncoderContext,
) => Promise<TokenEncoder>;

export type Scores = Record<string, number>;

/** The strict Pareto relation of the predicted edge and cloud score vectors. */
export type ParetoRelation = 'cloud-dominates' | 'edge-dominates' | 'incomparable' | 'equal';

export type Side = 'edge' | 'cloud';

/** A token with its signed effect. `impact[m]`: on the edge's predicted quality of metric m (logit units, + raises);
 * `cloudGain[m]`: how much more the token helps the cloud than the edge on m (+ favours the cloud). */
export interface TokenImpact {
  text: string;
  start: number;
  end: number;
  impact: Scores;
  cloudGain: Scores;
}

/** Set on a prediction whose prompt was longer than the engine analyses (src/router/prompt/limits.ts). */
export interface Truncation {
  /** Offset in the prompt where analysis stopped: tokens end at or before it. */
  at: number;
  /** The limit that cut it, in characters. */
  limit: number;
  /** One line for people: what was cut and why. */
  reason: string;
}

export interface Prediction {
  edge: Scores;
  cloud: Scores;
  prs: number;
  pareto: ParetoRelation;
  tokens: TokenImpact[];
  /** Present when only the start of the prompt was analysed. */
  truncated?: Truncation;
}

/** A labelled pair (one JSON line of a pairs file). */
export interface LabelledPair {
  id: string;
  prompt: string;
  edge: Scores;
  cloud: Scores;
  [extra: string]: unknown;
}
