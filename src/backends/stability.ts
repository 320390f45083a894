import { nearestShape } from './image';
import { plainPromptText } from '../router/prompt';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { joinUrl, serverMessage } from './http';
import type { ModelEntry } from './catalog';
import type { BackendConfig, BackendHealth, GenerateOptions, GenerationRequest, GenerationResult } from './types';

/**
 * Stability AI v2beta Stable Image (cloud), per its API reference ("Generate"): POST
 * /v2beta/stable-image/generate/{ultra|core|sd3} as multipart/form-data (`prompt`, `negative_prompt`,
 * `aspect_ratio`, `seed`, `output_format`, `style_preset`, and `model` for sd3), `authorization: Bearer
 * <key>`, `accept: image/*` → the image bytes, with headers `finish-reason` (`SUCCESS` |
 * `CONTENT_FILTERED`) and `seed`. Errors are JSON `{id, name, errors: [..]}`; 403 with name
 * `content_moderation` is a refusal, 402 means no credits left.
 */

/** Aspect ratios the Stability v2beta endpoints accept. */
export const STABILITY_ASPECTS = ['21:9', '16:9', '3:2', '5:4', '1:1', '4:5', '2:3', '9:16', '9:21'] as const;

/** The listed aspect ratio closest to width:height, e.g. `16:9`. */
export function nearestAspect(width: number, height: number, aspects: readonly string[] = STABILITY_ASPECTS): string {
  return nearestShape(width, height, aspects, ':');
}

export class StabilityBackend extends BaseBackend {
  readonly name = 'stability';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'STABILITY_API_KEY';
  private readonly stylePreset: string | undefined;
  private readonly entry: ModelEntry | undefined;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('stability', config, deps, { url: 'https://api.stability.ai', timeoutMs: 120_000 });
    const r = this.reader();
    this.side = r.side('cloud');
    this.model = r.string('model', 'core');
    this.entry = this.catalogEntry('stability', this.model);
    this.stylePreset = r.string('stylePreset');
  }

  estimateCost(): number {
    const p = this.entry?.price;
    return this.price(p && 'perImage' in p ? p.perImage : 0);
  }

  private endpoint(): string {
    const path = this.model.startsWith('sd3') ? 'sd3' : this.model;
    return joinUrl(this.settings.url, `v2beta/stable-image/generate/${path}`);
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const { signal, onProgress } = options;
    const t0 = this.clock();
    const key = await this.requireSecret('STABILITY_API_KEY');
    const seed = request.seed ?? randomSeed();
    const form = new FormData();
    form.append('prompt', plainPromptText(request.prompt));
    if (request.negative) form.append('negative_prompt', plainPromptText(request.negative));
    form.append('aspect_ratio', nearestAspect(request.width, request.height));
    form.append('seed', String(seed));
    form.append('output_format', 'png');
    if (this.model.startsWith('sd3')) form.append('model', this.model);
    const preset = typeof request.extra?.stylePreset === 'string' ? request.extra.stylePreset : this.stylePreset;
    if (preset) form.append('style_preset', preset);
    onProgress?.({ status: 'running' });
    const what = `POST /v2beta/stable-image/generate`;
    const reply = await this.http.request(this.endpoint(), {
      body: form,
      headers: { authorization: `Bearer ${key}`, accept: 'image/*' },
      signal,
      timeoutMs: this.settings.maxWaitMs,
      what,
      idempotent: false,
      accept: (s) => s === 403 || s === 402,
    });
    if (reply.status === 403 || reply.status === 402) {
      const msg = serverMessage(reply.body, reply.headers.get('content-type'));
      let name: string | undefined;
      try {
        name = (JSON.parse(reply.text()) as { name?: string }).name;
      } catch {
        name = undefined;
      }
      if (reply.status === 403 && name === 'content_moderation')
        throw this.http.error('content-filter', `the prompt was flagged by content moderation: ${msg}`, {
          status: 403,
          notTaken: true,
        });
      if (reply.status === 402)
        throw this.http.error('billing', `${what}: HTTP 402 — the account has no credits left: ${msg}`, {
          status: 402,
          notTaken: true,
        });
      throw this.http.statusError(403, what, msg, 1, undefined, true);
    }
    const finish = reply.headers.get('finish-reason');
    if (finish === 'CONTENT_FILTERED') {
      // The API still returns (a blurred) image and charges for it: report the refusal, keep nothing.
      throw this.fail(
        'content-filter',
        'the image was filtered by content moderation (finish-reason CONTENT_FILTERED)',
        { accepted: true },
      );
    }
    if (finish !== null && finish !== 'SUCCESS')
      throw this.fail('failed', `generation finished with ${finish}`, { accepted: true });
    const kind = this.checkImage(reply.body, 'the image in the reply');
    const seedHeader = Number(reply.headers.get('seed'));
    onProgress?.({ status: 'done' });
    const total = Math.round(this.clock() - t0);
    return {
      image: reply.body,
      mime: kind.mime,
      seed: Number.isFinite(seedHeader) && reply.headers.get('seed') !== null ? seedHeader : seed,
      backend: this.name,
      model: this.model,
      cost: this.estimateCost(),
      timings: { generateMs: total, totalMs: total },
    };
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const key = await this.requireSecret('STABILITY_API_KEY');
      const b = await this.http.json<{ credits?: number }>(joinUrl(this.settings.url, 'v1/user/balance'), {
        headers: { authorization: `Bearer ${key}` },
        signal: options.signal,
        retries: 0,
        what: 'GET /v1/user/balance',
      });
      return {
        ok: true,
        detail: `Stability AI ${this.model}${typeof b.credits === 'number' ? `, ${b.credits} credits left` : ''}`,
      };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}
