/**
 * The `clip` token encoder: per-word features from CLIP's text encoder (its last_hidden_state,
 * the states a diffusion model's cross-attention reads), for the token-level predictor.
 *
 * CLIP's byte-level BPE cuts words into pieces and knows nothing of the source's emphasis syntax,
 * so the prompt is first split into words with their source ranges by the engine's own prompt
 * tokenizer (src/router/prompt, the lexical encoder's words: the same tokens), each word is
 * tokenised on its own (CLIP's pre-tokenizer splits at word boundaries anyway, so the pieces are
 * the ones a whole-prompt tokenisation gives), the pieces are run in context as one sequence, and
 * a word's feature is the mean of its pieces' states. Text between words that is not syntax
 * (commas, full stops) is fed to CLIP as context but is not a token. Like A1111, a prompt longer
 * than one CLIP window (75 pieces) runs as several windows, cut at word boundaries, and `BREAK`
 * starts a new one. Emphasis weights travel on the tokens; features are not scaled by them.
 */
import { RouteT2IError, throwIfAborted } from '../router/errors';
import type { EncodedPrompt, EncoderContext, EncoderFactory, EncoderSpec, Token, TokenEncoder } from '../router/types';
import { openClipModel, type ClipLoadOptions, type ClipModel } from './clipModel';
import { checkDtype, checkModelId, DEFAULT_CLIP_MODEL, DEFAULT_DTYPE, type ClipDtype } from './modelStore';
import { normalise, wordHash } from '../router/encoders';
import { promptTokens } from '../router/prompt';

export const CLIP_ENCODER_ID = 'clip';
export const CLIP_ENCODER_VERSION = 1;

interface Item {
  ids: number[];
  /** Index of the reported token, or -1 for context text. */
  token: number;
  breakBefore: boolean;
}

export class ClipTokenEncoder implements TokenEncoder {
  private constructor(
    readonly spec: EncoderSpec,
    private readonly clip: ClipModel,
  ) {}

  static async open(options: ClipLoadOptions, expect: Partial<EncoderSpec> = {}): Promise<ClipTokenEncoder> {
    const model = checkModelId(options.model ?? DEFAULT_CLIP_MODEL);
    const dtype: ClipDtype = checkDtype(options.dtype ?? DEFAULT_DTYPE);
    const clip = await openClipModel({ ...options, model, dtype }, ['text']);
    try {
      // The feature width is what the text tower really emits (a probe of the empty prompt).
      const [probe] = await clip.hiddenStates([[clip.bosId, clip.eosId]]);
      const dim = probe!.length / 2;
      if (expect.dim !== undefined && expect.dim !== dim) {
        throw new RouteT2IError(
          'encoder-mismatch',
          `the predictor was trained on ${expect.dim}-wide clip features, but CLIP model ${model} (${dtype}) gives ${dim}`,
          `use the CLIP model the predictor was trained with`,
        );
      }
      return new ClipTokenEncoder(
        { id: CLIP_ENCODER_ID, version: CLIP_ENCODER_VERSION, dim, config: { model, dtype } },
        clip,
      );
    } catch (e) {
      await clip.release();
      throw e;
    }
  }

  async encode(prompts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<EncodedPrompt[]> {
    const dim = this.spec.dim;
    const capacity = this.clip.maxPositions - 2;
    const plans = prompts.map((prompt) => this.plan(prompt, capacity));
    const windows = plans.flatMap((p) =>
      p.windows.map((w) => [this.clip.bosId, ...w.flatMap((item) => item.ids), this.clip.eosId]),
    );
    throwIfAborted(options.signal);
    const states = await this.clip.hiddenStates(windows, options.signal);
    let next = 0;
    return plans.map(({ tokens, windows: ws }): EncodedPrompt => {
      const features = new Float32Array(tokens.length * dim);
      const counts = new Array<number>(tokens.length).fill(0);
      for (const window of ws) {
        const s = states[next++]!;
        let position = 1; // after the start token
        for (const item of window) {
          for (let k = 0; k < item.ids.length; k++, position++) {
            if (item.token < 0) continue;
            const row = item.token * dim;
            for (let j = 0; j < dim; j++) features[row + j] = features[row + j]! + s[position * dim + j]!;
            counts[item.token] = counts[item.token]! + 1;
          }
        }
      }
      counts.forEach((c, t) => {
        if (c > 1) for (let j = 0; j < dim; j++) features[t * dim + j] = features[t * dim + j]! / c;
      });
      // The same word ids as the lexical encoder, so a learned word embedding works alike on both.
      const wordIds = Uint32Array.from(tokens, (t) => wordHash(normalise(t.text)));
      return { tokens, features, wordIds };
    });
  }

  /** The prompt's words and context as CLIP pieces, packed into windows of at most `capacity` pieces. */
  private plan(prompt: string, capacity: number) {
    const { syntax, tokens } = promptTokens(prompt);
    const items: Array<Item & { start: number }> = [
      ...tokens.map((t, i) => ({ ids: this.clip.tokenIds(t.text), token: i, breakBefore: false, start: t.start })),
      ...contextRuns(syntax.masked, tokens).map((c) => ({
        ids: this.clip.tokenIds(c.text),
        token: -1,
        breakBefore: false,
        start: c.start,
      })),
    ].sort((a, b) => a.start - b.start);
    for (const b of syntax.breaks) {
      const first = items.find((item) => item.start >= b.end);
      if (first) first.breakBefore = true;
    }
    const windows: Item[][] = [];
    let current: Item[] = [];
    let used = 0;
    for (const item of items) {
      if (item.ids.length === 0) continue;
      const ids = item.ids.slice(0, capacity); // a single word longer than a window keeps its first pieces
      if (current.length > 0 && (item.breakBefore || used + ids.length > capacity)) {
        windows.push(current);
        current = [];
        used = 0;
      }
      current.push({ ...item, ids });
      used += ids.length;
    }
    if (current.length > 0) windows.push(current);
    return { tokens, windows };
  }

  async dispose(): Promise<void> {
    await this.clip.release();
  }
}

/**
 * Creates a `clip` encoder, for training (a fresh spec) or for a predictor file's spec (its model,
 * precision and feature width must match). Where the files come from: `context.modelsDir` or
 * $ROUTET2I_MODELS_DIR (offline), else the cache (`context.cacheDir`, default as in modelStore),
 * filled from $ROUTET2I_HUB_URL (default the Hugging Face hub) with $HF_TOKEN for gated models.
 * A fresh spec takes its model from $ROUTET2I_CLIP_MODEL / $ROUTET2I_CLIP_DTYPE when set.
 */
export function createClipEncoderFactory(defaults: ClipLoadOptions = {}): EncoderFactory {
  return async (spec: Partial<EncoderSpec> & { id: string }, context: EncoderContext) => {
    if (spec.id !== CLIP_ENCODER_ID)
      throw new RouteT2IError('encoder-mismatch', `the clip encoder cannot load encoder "${spec.id}"`);
    if (spec.version !== undefined && spec.version !== CLIP_ENCODER_VERSION) {
      throw new RouteT2IError(
        'encoder-version',
        `the predictor uses clip encoder version ${spec.version}; this RouteT2I has version ${CLIP_ENCODER_VERSION}`,
        'retrain the predictor with `routet2i train --encoder clip`',
      );
    }
    const config = spec.config ?? {};
    const env = process.env;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    return ClipTokenEncoder.open(
      {
        ...defaults,
        model: str(config.model) ?? defaults.model ?? str(env.ROUTET2I_CLIP_MODEL),
        dtype:
          (str(config.dtype) as ClipDtype | undefined) ??
          defaults.dtype ??
          (str(env.ROUTET2I_CLIP_DTYPE) as ClipDtype | undefined),
        modelsDir: context.modelsDir ?? defaults.modelsDir ?? str(env.ROUTET2I_MODELS_DIR),
        cacheDir: context.cacheDir ?? defaults.cacheDir,
        hubUrl: defaults.hubUrl ?? str(env.ROUTET2I_HUB_URL),
        token: defaults.token ?? str(env.HF_TOKEN),
        trustHub: defaults.trustHub ?? env.ROUTET2I_HUB_TRUST_TOKEN === '1',
        signal: context.signal ?? defaults.signal,
        onProgress: context.onProgress ?? defaults.onProgress,
      },
      spec,
    );
  };
}

export const clipEncoderFactory: EncoderFactory = createClipEncoderFactory();

/**
 * Text between the words that is not syntax (the syntax is blanked in `masked`): commas, full
 * stops, an escaped bracket. CLIP reads it as context; it is not a token.
 */
export function contextRuns(masked: string, tokens: readonly Token[]): Array<{ start: number; text: string }> {
  const runs: Array<{ start: number; text: string }> = [];
  const scan = (start: number, end: number) => {
    for (const m of masked.slice(start, end).matchAll(/\S+/g)) runs.push({ start: start + m.index, text: m[0] });
  };
  let from = 0;
  for (const t of tokens) {
    scan(from, t.start);
    from = t.end;
  }
  scan(from, masked.length);
  return runs;
}
