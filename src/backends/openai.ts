import { plainPromptText } from '../router/prompt';
import { adaptRequest, type Capabilities, type ModelEntry, type Price } from './catalog';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { joinUrl, serverMessage, type HttpReply } from './http';
import { decodeBase64 } from './image';
import type {
  BackendConfig,
  BackendHealth,
  GenerateOptions,
  GenerationRequest,
  GenerationResult,
  SentRequest,
} from './types';

/**
 * OpenAI Images and the servers that copy its shape (stable-diffusion.cpp's server, LocalAI, …).
 * POST {base}/v1/images/generations `{model, prompt, n, size: "WxH", quality, response_format}` →
 * `{created, data: [{b64_json | url, revised_prompt?}], usage?: {input_tokens, input_tokens_details:
 * {text_tokens, image_tokens}, output_tokens, total_tokens}}` (OpenAI API reference, "Create image";
 * `usage` is returned for the GPT image models only, which always answer in b64_json and reject
 * `response_format`). Refusals are HTTP 400 with `error.code` `content_policy_violation` (DALL·E) or
 * `moderation_blocked` (GPT image). An exhausted account is 429 `insufficient_quota` (a billing refusal,
 * never retried; HttpClient turns it into `billing`).
 */

type ImagesReply = {
  data?: { b64_json?: string; url?: string; revised_prompt?: string }[];
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    input_tokens_details?: { text_tokens?: number; image_tokens?: number };
  };
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
      if (isRefusal(reply))
        throw this.http.error('content-filter', `the prompt was refused by the provider's safety system: ${msg}`, {
          status: 400,
          notTaken: true,
        });
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
      bytes = (
        await this.download(new URL(item.url, this.settings.url).toString(), {
          signal,
          onProgress,
          headers: sameOrigin ? headers : {},
        })
      ).bytes;
    } else {
      throw this.fail('bad-reply', 'data[0] has neither b64_json nor url');
    }
    const kind = this.checkImage(bytes, 'the image in the reply');
    onProgress?.({ status: 'done' });
    return { bytes, mime: kind.mime, reply: parsed };
  }
}

/**
 * Which server an `openai-compatible` URL is, because each reads the extras differently:
 * - `sd-server` (leejet/stable-diffusion.cpp examples/server/routes_openai.cpp): reads prompt, n, size,
 *   output_format only; seed, negative_prompt, steps… go as JSON inside `<sd_cpp_extra_args>…</sd_cpp_extra_args>`
 *   in the prompt (extract_and_remove_sd_cpp_extra_args → SDGenerationParams::from_json_str); always b64_json.
 * - `localai` (mudler/LocalAI docs/content/docs/features/image-generation.md): `step` for steps and the negative
 *   prompt after a `|` in the prompt; no seed input we can rely on.
 * - `openai`: OpenAI itself or a strict copy: no extras; GPT image models refuse `response_format`.
 * - `plain`: any other server: the standard fields only.
 * - `auto` (the default): sd-server when its GET /v1/models lists `sd-cpp-local` (routes_openai.cpp), else `plain`,
 *   so no server gets extras it would read as part of the prompt.
 */
export const COMPATIBLE_SERVERS = ['auto', 'sd-server', 'localai', 'openai', 'plain'] as const;
export type CompatibleServer = Exclude<(typeof COMPATIBLE_SERVERS)[number], 'auto'>;

/** Any OpenAI-compatible images endpoint; an edge server by default (a local stable-diffusion.cpp). */
export class OpenAICompatibleBackend extends ImagesApiBackend {
  readonly name = 'openai-compatible';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'OPENAI_COMPATIBLE_API_KEY';
  private readonly configuredServer: CompatibleServer | 'auto';
  private server: CompatibleServer = 'plain';
  private detected = false;
  /** Strip the emphasis syntax for servers that do not read it (stable-diffusion.cpp does; keep is the default). */
  private readonly plain: boolean;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('openai-compatible', config, deps, { maxWaitMs: 30 * 60_000 });
    const r = this.reader();
    this.side = r.side('edge');
    this.model = r.string('model', 'default');
    // `sendExtras: false` (the older setting) means: send the standard fields only.
    this.configuredServer = r.boolean('sendExtras', true) ? r.oneOf('server', COMPATIBLE_SERVERS, 'auto') : 'plain';
    this.plain = r.oneOf('promptSyntax', ['keep', 'plain'] as const, 'keep') === 'plain';
  }

  estimateCost(): number {
    return this.price(0);
  }

  /** The request body as this server reads it, and what it will really use. */
  private body(request: GenerationRequest, seed: number): { body: Record<string, unknown>; sent: SentRequest } {
    const text = (t: string) => (this.plain ? plainPromptText(t) : t);
    const size = `${request.width}x${request.height}`;
    const sent: SentRequest = { width: request.width, height: request.height, size, notes: [] };
    const body: Record<string, unknown> = { n: 1, size };
    if (this.model !== 'default') body.model = this.model;
    let prompt = text(request.prompt);
    switch (this.server) {
      case 'sd-server': {
        const extra: Record<string, unknown> = { seed };
        if (request.negative) extra.negative_prompt = sent.negative = text(request.negative);
        if (request.steps) extra.steps = sent.steps = request.steps;
        sent.seed = seed;
        prompt = `${prompt}<sd_cpp_extra_args>${JSON.stringify(extra)}</sd_cpp_extra_args>`;
        body.output_format = 'png';
        break;
      }
      case 'localai':
        if (request.negative) {
          prompt = `${prompt}|${text(request.negative)}`;
          sent.negative = text(request.negative);
        }
        if (request.steps) body.step = sent.steps = request.steps;
        body.response_format = 'b64_json';
        break;
      case 'openai':
        if (!/^gpt-image|^chatgpt-image/.test(this.model)) body.response_format = 'b64_json';
        break;
      case 'plain':
        body.response_format = 'b64_json';
        break;
    }
    if (this.server !== 'sd-server' && this.server !== 'localai') {
      if (request.negative) sent.notes!.push('negative prompt not sent (the server has no field for it)');
      if (request.steps) sent.notes!.push(`steps ${request.steps} not sent (the server has no field for them)`);
    }
    if (this.server === 'localai' && request.seed !== undefined)
      sent.notes!.push('seed not sent (LocalAI has no seed input)');
    body.prompt = prompt;
    return { body, sent };
  }

  /** `auto`: ask GET /v1/models once which server this is. */
  private async detectServer(headers: Record<string, string>, signal: AbortSignal | undefined): Promise<void> {
    if (this.detected) return;
    if (this.configuredServer !== 'auto') this.server = this.configuredServer;
    else {
      try {
        const base = /\/v1$/.test(this.settings.url) ? this.settings.url : joinUrl(this.settings.url, 'v1');
        const list = await this.http.json<{ data?: { id?: string }[] }>(joinUrl(base, 'models'), {
          headers,
          signal,
          retries: 0,
          timeoutMs: Math.min(this.settings.timeoutMs, 10_000),
          what: 'GET /v1/models',
        });
        this.server = list?.data?.some((m) => m?.id === 'sd-cpp-local') ? 'sd-server' : 'plain';
      } catch (e) {
        if (signal?.aborted) throw e;
        this.server = 'plain';
      }
    }
    this.detected = true;
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const t0 = this.clock();
    const key = await this.secret('OPENAI_COMPATIBLE_API_KEY');
    const seed = request.seed ?? randomSeed();
    await this.detectServer(key ? { authorization: `Bearer ${key}` } : {}, options.signal);
    const { body, sent } = this.body(request, seed);
    const { bytes, mime } = await this.callImages(body, key ? { authorization: `Bearer ${key}` } : {}, options);
    const total = Math.round(this.clock() - t0);
    return {
      image: bytes,
      mime,
      seed: sent.seed,
      backend: this.name,
      model: this.model,
      cost: this.estimateCost(),
      timings: { generateMs: total, totalMs: total },
      sent,
    };
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const key = await this.secret('OPENAI_COMPATIBLE_API_KEY');
      const base = /\/v1$/.test(this.settings.url) ? this.settings.url : joinUrl(this.settings.url, 'v1');
      await this.http.request(joinUrl(base, 'models'), {
        headers: key ? { authorization: `Bearer ${key}` } : {},
        signal: options.signal,
        retries: 0,
        what: 'GET /v1/models',
      });
      return { ok: true, detail: `OpenAI-compatible server (${this.server}) at ${this.settings.url}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}

/**
 * OpenAI Images (cloud). Models, prices and shutdown dates come from the catalog (src/backends/catalog.ts): the GPT
 * image models are priced from the reply's `usage` (the estimate is an upper bound from the output tokens per image
 * at the quality and size, and the published per-image price where one is higher); a model past its shutdown date
 * is refused with its successor named.
 */
export class OpenAIBackend extends ImagesApiBackend {
  readonly name = 'openai';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'OPENAI_API_KEY';
  private readonly quality: string;
  private readonly style: string | undefined;
  private readonly moderation: string | undefined;
  private readonly family: 'gpt-image' | 'dall-e';
  private readonly entry: ModelEntry | undefined;
  private readonly caps: Capabilities;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('openai', config, deps, { url: 'https://api.openai.com', timeoutMs: 60_000, maxWaitMs: 5 * 60_000 });
    const r = this.reader();
    this.side = r.side('cloud');
    this.model = r.string('model', DEFAULT_OPENAI_MODEL);
    this.entry = this.catalogEntry('openai', this.model);
    this.family = this.model.startsWith('dall-e') ? 'dall-e' : 'gpt-image';
    this.caps = this.entry?.caps ?? { sizes: ['1024x1024', '1536x1024', '1024x1536'], negative: false, seed: false };
    this.quality =
      this.family === 'dall-e'
        ? r.oneOf('quality', ['standard', 'hd'] as const, 'standard')
        : r.oneOf('quality', ['low', 'medium', 'high'] as const, 'medium');
    this.style = this.family === 'dall-e' ? r.oneOf('style', ['vivid', 'natural'] as const, 'vivid') : undefined;
    this.moderation = this.family === 'gpt-image' ? r.oneOf('moderation', ['auto', 'low'] as const, 'auto') : undefined;
  }

  /**
   * An upper bound of the charge, so a reservation always covers it: for GPT image models the output
   * tokens at the quality and size plus the prompt's text tokens (never more than its characters + a margin),
   * and never below the published per-image price.
   */
  estimateCost(request: GenerationRequest): number {
    if (this.settings.price !== undefined) return this.settings.price;
    const square = adaptRequest(request, this.caps).size === '1024x1024';
    return estimateFromPrice(this.entry!.price!, this.quality, square, request.prompt.length);
  }

  /** The charge from `usage` where the reply has it, else the estimate. */
  private costFrom(reply: ImagesReply, request: GenerationRequest): number {
    const u = reply.usage;
    const price = this.entry?.price;
    if (
      this.settings.price !== undefined ||
      !u ||
      !price ||
      !('tokens' in price) ||
      typeof u.output_tokens !== 'number'
    )
      return this.estimateCost(request);
    const p = price.tokens;
    const text = u.input_tokens_details?.text_tokens ?? u.input_tokens ?? 0;
    const image = u.input_tokens_details?.image_tokens ?? 0;
    return roundUsd((text * p.textIn + image * p.imageIn + u.output_tokens * p.imageOut) / 1e6);
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const t0 = this.clock();
    const key = await this.requireSecret('OPENAI_API_KEY');
    const sent = adaptRequest(request, this.caps);
    // The A1111/ComfyUI emphasis syntax means nothing to this API: send the plain words.
    const body: Record<string, unknown> = {
      model: this.model,
      prompt: plainPromptText(request.prompt),
      n: 1,
      size: sent.size,
      quality: this.quality,
    };
    if (this.family === 'dall-e') {
      body.response_format = 'b64_json';
      body.style = this.style;
    } else {
      // GPT image models always answer in b64_json and refuse `response_format`.
      body.output_format = 'png';
      body.moderation = this.moderation;
    }
    const { bytes, mime, reply } = await this.callImages(body, { authorization: `Bearer ${key}` }, options);
    const total = Math.round(this.clock() - t0);
    return {
      image: bytes,
      mime,
      backend: this.name,
      model: this.model,
      cost: this.costFrom(reply, request),
      timings: { generateMs: total, totalMs: total },
      sent,
    };
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const key = await this.requireSecret('OPENAI_API_KEY');
      await this.http.request(joinUrl(this.settings.url, `v1/models/${encodeURIComponent(this.model)}`), {
        headers: { authorization: `Bearer ${key}` },
        signal: options.signal,
        retries: 0,
        what: 'GET /v1/models',
      });
      return { ok: true, detail: `OpenAI ${this.model} (${this.quality})` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}

/** The model a new `openai` backend uses: the current fast GPT image model (catalog, checked CATALOG_CHECKED). */
export const DEFAULT_OPENAI_MODEL = 'gpt-image-2.6-flare';

/** Upper bound of one image's charge under an OpenAI price entry. */
export function estimateFromPrice(price: Price, quality: string, square: boolean, promptChars: number): number {
  const i = square ? 0 : 1;
  if ('byQuality' in price)
    return price.byQuality[quality]?.[i] ?? Math.max(...Object.values(price.byQuality).map((q) => q[i]));
  if ('perImage' in price) return price.perImage;
  if ('perMegapixel' in price) return price.perMegapixel;
  const out = price.outputTokens[quality]?.[i] ?? Math.max(...Object.values(price.outputTokens).map((q) => q[i]));
  const tokens = roundUsd((out * price.tokens.imageOut + (promptChars + 64) * price.tokens.textIn) / 1e6);
  const floor = price.perImageFloor?.[quality]?.[i] ?? 0;
  return Math.max(tokens, floor);
}

/** Rounds up to a millionth of a dollar: never below the real charge. */
export function roundUsd(x: number): number {
  return Math.ceil(x * 1e6 - 1e-6) / 1e6;
}
