import { nearestShape } from './image';
import { plainPromptText } from '../router/prompt';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { joinUrl, serverMessage, type HttpReply } from './http';
import { decodeBase64 } from './image';
import type { BackendConfig, BackendHealth, GenerateOptions, GenerationRequest, GenerationResult } from './types';

/**
 * OpenAI Images and the servers that copy its shape (stable-diffusion.cpp's server, LocalAI, …).
 * POST {base}/v1/images/generations `{model, prompt, n, size: "WxH", quality, response_format}` →
 * `{created, data: [{b64_json | url, revised_prompt?}], usage?: {input_tokens, input_tokens_details:
 * {text_tokens, image_tokens}, output_tokens, total_tokens}}` (OpenAI API reference, "Create image";
 * `usage` is returned for the GPT image models only, which always answer in b64_json and reject
 * `response_format`). Refusals are HTTP 400 with `error.code` `content_policy_violation` (DALL·E) or
 * `moderation_blocked` (GPT image).
 */

type ImagesReply = {
  data?: { b64_json?: string; url?: string; revised_prompt?: string }[];
  usage?: { input_tokens?: number; output_tokens?: number; input_tokens_details?: { text_tokens?: number; image_tokens?: number } };
  error?: { code?: string; message?: string; type?: string };
};

function imagesUrl(base: string): string {
  return /\/v1$/.test(base) ? joinUrl(base, 'images/generations') : joinUrl(base, 'v1/images/generations');
}

function isRefusal(reply: HttpReply): boolean {
  if (reply.status !== 400) return false;
  try {
    const code = (JSON.parse(reply.text()) as ImagesReply).error?.code;
    return code === 'content_policy_violation' || code === 'moderation_blocked';
  } catch {
    return false;
  }
}

/** Shared: send the request, treat refusals as content-filter, turn `data[0]` into image bytes. */
abstract class ImagesApiBackend extends BaseBackend {
  protected async callImages(
    body: Record<string, unknown>,
    headers: Record<string, string>,
    options: GenerateOptions,
  ): Promise<{ bytes: Uint8Array; mime: string; reply: ImagesReply }> {
    const { signal, onProgress } = options;
    onProgress?.({ status: 'running' });
    const reply = await this.http.request(imagesUrl(this.settings.url), {
      json: body,
      headers: { accept: 'application/json', ...headers },
      signal,
      timeoutMs: this.settings.maxWaitMs,
      what: 'POST /v1/images/generations',
      idempotent: false,
      accept: (s) => s === 400,
    });
    if (reply.status === 400) {
      const msg = serverMessage(reply.body, reply.headers.get('content-type'));
      if (isRefusal(reply)) throw this.http.error('content-filter', `the prompt was refused by the provider's safety system: ${msg}`, { status: 400, notTaken: true });
      throw this.http.statusError(400, 'POST /v1/images/generations', msg, 1, undefined, true);
    }
    const parsed = reply.json<ImagesReply>();
    const item = parsed.data?.[0];
    if (!item) throw this.fail('bad-reply', 'the reply has no data[0]');
    let bytes: Uint8Array;
    if (typeof item.b64_json === 'string') {
      const b = decodeBase64(item.b64_json);
      if (!b) throw this.fail('bad-reply', 'data[0].b64_json is not base64');
      bytes = b;
    } else if (typeof item.url === 'string') {
      // Only our own API gets the key; an image host never does.
      const sameOrigin = new URL(item.url, this.settings.url).origin === new URL(this.settings.url).origin;
      bytes = (await this.download(new URL(item.url, this.settings.url).toString(), { signal, onProgress, headers: sameOrigin ? headers : {} })).bytes;
    } else {
      throw this.fail('bad-reply', 'data[0] has neither b64_json nor url');
    }
    const kind = this.checkImage(bytes, 'the image in the reply');
    onProgress?.({ status: 'done' });
    return { bytes, mime: kind.mime, reply: parsed };
  }
}

/** Any OpenAI-compatible images endpoint; an edge server by default (a local stable-diffusion.cpp). */
export class OpenAICompatibleBackend extends ImagesApiBackend {
  readonly name = 'openai-compatible';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'OPENAI_COMPATIBLE_API_KEY';
  private readonly sendExtras: boolean;
  /** Strip the emphasis syntax for servers that do not read it (stable-diffusion.cpp does; keep is the default). */
  private readonly plain: boolean;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('openai-compatible', config, deps, { maxWaitMs: 30 * 60_000 });
    const r = this.reader();
    this.side = r.side('edge');
    this.model = r.string('model', 'default');
    this.sendExtras = r.boolean('sendExtras', true);
    this.plain = r.oneOf('promptSyntax', ['keep', 'plain'] as const, 'keep') === 'plain';
  }

  estimateCost(): number {
    return this.price(0);
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const t0 = this.clock();
    const key = await this.secret('OPENAI_COMPATIBLE_API_KEY');
    const seed = request.seed ?? randomSeed();
    const body: Record<string, unknown> = { prompt: this.plain ? plainPromptText(request.prompt) : request.prompt, n: 1, size: `${request.width}x${request.height}`, response_format: 'b64_json' };
    if (this.model !== 'default') body.model = this.model;
    // Fields OpenAI lacks but local servers read (stable-diffusion.cpp, LocalAI); `sendExtras: false` drops them.
    if (this.sendExtras) {
      body.seed = seed;
      if (request.negative) body.negative_prompt = this.plain ? plainPromptText(request.negative) : request.negative;
      if (request.steps) body.steps = request.steps;
    }
    const { bytes, mime } = await this.callImages(body, key ? { authorization: `Bearer ${key}` } : {}, options);
    const total = Math.round(this.clock() - t0);
    return { image: bytes, mime, seed: this.sendExtras ? seed : undefined, backend: this.name, model: this.model, cost: this.estimateCost(), timings: { generateMs: total, totalMs: total } };
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const key = await this.secret('OPENAI_COMPATIBLE_API_KEY');
      const base = /\/v1$/.test(this.settings.url) ? this.settings.url : joinUrl(this.settings.url, 'v1');
      await this.http.request(joinUrl(base, 'models'), { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: options.signal, retries: 0, what: 'GET /v1/models' });
      return { ok: true, detail: `OpenAI-compatible server at ${this.settings.url}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}

/** Prices per 1M tokens (OpenAI pricing page, image generation models). */
const TOKEN_PRICES: Record<string, { textIn: number; imageIn: number; imageOut: number }> = {
  'gpt-image-1': { textIn: 5, imageIn: 10, imageOut: 40 },
  'gpt-image-1-mini': { textIn: 2, imageIn: 2.5, imageOut: 8 },
};

/** Output tokens per image by quality, square vs. portrait/landscape (OpenAI image generation guide, "Cost and latency"). */
const GPT_IMAGE_OUTPUT_TOKENS: Record<string, [number, number]> = {
  low: [272, 408],
  medium: [1056, 1584],
  high: [4160, 6240],
};

/** DALL·E 3 price per image (OpenAI pricing page): [square, wide]. */
const DALLE3_PRICES: Record<string, [number, number]> = {
  standard: [0.04, 0.08],
  hd: [0.08, 0.12],
};

/** OpenAI Images (cloud): gpt-image-1 (and -mini) priced from `usage`, dall-e-3 from the per-image table. */
export class OpenAIBackend extends ImagesApiBackend {
  readonly name = 'openai';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'OPENAI_API_KEY';
  private readonly quality: string;
  private readonly style: string | undefined;
  private readonly moderation: string | undefined;
  private readonly family: 'gpt-image' | 'dall-e-3';

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('openai', config, deps, { url: 'https://api.openai.com', timeoutMs: 60_000, maxWaitMs: 5 * 60_000 });
    const r = this.reader();
    this.side = r.side('cloud');
    this.model = r.string('model', 'gpt-image-1');
    if (this.model === 'dall-e-3') this.family = 'dall-e-3';
    else if (this.model in TOKEN_PRICES) this.family = 'gpt-image';
    else if (this.settings.price !== undefined) this.family = this.model.startsWith('dall-e') ? 'dall-e-3' : 'gpt-image';
    else throw this.fail('config', `no price is known for model "${this.model}"; use gpt-image-1, gpt-image-1-mini or dall-e-3, or set "price" (USD per image)`);
    this.quality = this.family === 'dall-e-3' ? r.oneOf('quality', ['standard', 'hd'] as const, 'standard') : r.oneOf('quality', ['low', 'medium', 'high'] as const, 'medium');
    this.style = this.family === 'dall-e-3' ? r.oneOf('style', ['vivid', 'natural'] as const, 'vivid') : undefined;
    this.moderation = this.family === 'gpt-image' ? r.oneOf('moderation', ['auto', 'low'] as const, 'auto') : undefined;
  }

  private size(req: GenerationRequest): string {
    return this.family === 'dall-e-3' ? nearestShape(req.width, req.height, ['1024x1024', '1792x1024', '1024x1792'], 'x') : nearestShape(req.width, req.height, ['1024x1024', '1536x1024', '1024x1536'], 'x');
  }

  /**
   * An upper bound of the charge, so a reservation always covers it: for GPT image models the output
   * tokens at the quality and size plus the prompt's text tokens (never more than its characters + a margin).
   */
  estimateCost(request: GenerationRequest): number {
    if (this.settings.price !== undefined) return this.settings.price;
    const square = this.size(request) === '1024x1024';
    if (this.family === 'dall-e-3') return DALLE3_PRICES[this.quality]![square ? 0 : 1];
    const p = TOKEN_PRICES[this.model]!;
    const out = GPT_IMAGE_OUTPUT_TOKENS[this.quality]![square ? 0 : 1];
    return roundUsd((out * p.imageOut + (request.prompt.length + 64) * p.textIn) / 1e6);
  }

  /** The charge from `usage` where the reply has it, else the estimate. */
  private costFrom(reply: ImagesReply, request: GenerationRequest): number {
    const u = reply.usage;
    const p = TOKEN_PRICES[this.model];
    if (this.settings.price !== undefined || !u || !p || typeof u.output_tokens !== 'number') return this.estimateCost(request);
    const text = u.input_tokens_details?.text_tokens ?? u.input_tokens ?? 0;
    const image = u.input_tokens_details?.image_tokens ?? 0;
    return roundUsd((text * p.textIn + image * p.imageIn + u.output_tokens * p.imageOut) / 1e6);
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const t0 = this.clock();
    const key = await this.requireSecret('OPENAI_API_KEY');
    // The A1111/ComfyUI emphasis syntax means nothing to this API: send the plain words.
    const body: Record<string, unknown> = { model: this.model, prompt: plainPromptText(request.prompt), n: 1, size: this.size(request), quality: this.quality };
    if (this.family === 'dall-e-3') {
      body.response_format = 'b64_json';
      body.style = this.style;
    } else {
      body.output_format = 'png';
      body.moderation = this.moderation;
    }
    const { bytes, mime, reply } = await this.callImages(body, { authorization: `Bearer ${key}` }, options);
    const total = Math.round(this.clock() - t0);
    return { image: bytes, mime, backend: this.name, model: this.model, cost: this.costFrom(reply, request), timings: { generateMs: total, totalMs: total } };
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const key = await this.requireSecret('OPENAI_API_KEY');
      await this.http.request(joinUrl(this.settings.url, `v1/models/${encodeURIComponent(this.model)}`), { headers: { authorization: `Bearer ${key}` }, signal: options.signal, retries: 0, what: 'GET /v1/models' });
      return { ok: true, detail: `OpenAI ${this.model} (${this.quality})` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}

/** Rounds up to a millionth of a dollar: never below the real charge. */
export function roundUsd(x: number): number {
  return Math.ceil(x * 1e6 - 1e-6) / 1e6;
}
