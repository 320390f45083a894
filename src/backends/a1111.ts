import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { joinUrl } from './http';
import { decodeBase64 } from './image';
import type { BackendConfig, BackendHealth, GenerateOptions, GenerationRequest, GenerationResult } from './types';

/**
 * AUTOMATIC1111 / Forge web UI API (edge), as its modules/api/api.py and models.py define it:
 * POST /sdapi/v1/txt2img `{prompt, negative_prompt, seed, width, height, steps, cfg_scale, sampler_name,
 * batch_size, n_iter, override_settings}` → `{images: [base64 PNG], parameters, info: "<JSON string with
 * seed, sd_model_name…>"}` (the call blocks until the image is made); GET /sdapi/v1/progress
 * `?skip_current_image=true` → `{progress, eta_relative, state: {job_count, sampling_step, sampling_steps,
 * interrupted…}}`; POST /sdapi/v1/interrupt. Started with `--api-auth user:pass`, it wants HTTP basic auth:
 * the secret A1111_AUTH holds `user:password`.
 */
export class A1111Backend extends BaseBackend {
  readonly name = 'a1111';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'A1111_AUTH';
  private readonly checkpoint: string | undefined;
  private readonly steps: number;
  private readonly cfg: number;
  private readonly sampler: string;
  private readonly negative: string;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('a1111', config, deps, { url: 'http://127.0.0.1:7860', maxWaitMs: 30 * 60_000, pollIntervalMs: 1000 });
    const r = this.reader();
    this.side = r.side('edge');
    this.checkpoint = r.string('model');
    this.model = this.checkpoint ?? 'current checkpoint';
    this.steps = r.number('steps', 20, 1, 1000);
    this.cfg = r.number('cfg', 7, 0, 100);
    this.sampler = r.string('sampler', 'Euler a');
    this.negative = r.string('negative', '') ?? '';
  }

  estimateCost(): number {
    return this.price(0);
  }

  private async headers(): Promise<Record<string, string>> {
    const auth = await this.secret('A1111_AUTH');
    if (!auth) return {};
    if (!auth.includes(':')) throw this.fail('auth', 'A1111_AUTH must be "user:password", as given to --api-auth');
    const encoded = Buffer.from(auth).toString('base64');
    this.alsoSecret(encoded);
    for (const part of auth.split(':').slice(1)) if (part.length >= 4) this.alsoSecret(part);
    return { authorization: `Basic ${encoded}` };
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const { signal, onProgress } = options;
    const t0 = this.clock();
    const headers = await this.headers();
    const seed = request.seed ?? randomSeed();
    const extra = request.extra ?? {};
    const body: Record<string, unknown> = {
      prompt: request.prompt,
      negative_prompt: request.negative ?? this.negative,
      seed,
      width: request.width,
      height: request.height,
      steps: request.steps ?? this.steps,
      cfg_scale: typeof extra.cfg === 'number' ? extra.cfg : this.cfg,
      sampler_name: typeof extra.sampler === 'string' ? extra.sampler : this.sampler,
      batch_size: 1,
      n_iter: 1,
      send_images: true,
      save_images: false,
    };
    if (this.checkpoint) body.override_settings = { sd_model_checkpoint: this.checkpoint };

    // The txt2img call blocks until the image exists; progress comes from polling beside it.
    const poller = new AbortController();
    let started: number | undefined;
    const progress = (async () => {
      while (!poller.signal.aborted) {
        try {
          await this.sleep(this.settings.pollIntervalMs, poller.signal);
          const p = await this.http.json<{ progress?: number; state?: { job_count?: number; sampling_step?: number; sampling_steps?: number } }>(
            joinUrl(this.settings.url, 'sdapi/v1/progress?skip_current_image=true'),
            { headers, signal: poller.signal, retries: 0, timeoutMs: 10_000, what: 'GET /sdapi/v1/progress' },
          );
          if (poller.signal.aborted) break;
          const steps = p.state?.sampling_steps;
          if ((p.state?.job_count ?? 0) > 0 || (p.progress ?? 0) > 0) {
            started ??= this.clock();
            onProgress?.({ status: 'running', fraction: typeof p.progress === 'number' ? p.progress : undefined, step: p.state?.sampling_step, steps });
          } else if (started === undefined) onProgress?.({ status: 'queued' });
        } catch {
          // Progress is a courtesy: a failed poll never fails the generation.
        }
      }
    })();
    let reply: { images?: unknown; info?: unknown };
    try {
      reply = await this.http.json(joinUrl(this.settings.url, 'sdapi/v1/txt2img'), {
        json: body,
        headers,
        signal,
        timeoutMs: this.settings.maxWaitMs,
        idleTimeoutMs: this.settings.maxWaitMs,
        what: 'POST /sdapi/v1/txt2img',
        idempotent: false,
        free: this.estimateCost() === 0,
      });
    } catch (e) {
      if (signal?.aborted) {
        await this.interrupt(headers);
        throw this.fail('cancelled', 'generation cancelled; sent /sdapi/v1/interrupt', { accepted: true });
      }
      throw e;
    } finally {
      poller.abort();
      await progress;
    }
    const generated = this.clock();
    const images = reply.images;
    if (!Array.isArray(images) || typeof images[0] !== 'string') throw this.fail('bad-reply', 'the txt2img reply has no images');
    const bytes = decodeBase64(images[0]);
    if (!bytes) throw this.fail('bad-reply', 'the image in the txt2img reply is not base64');
    const kind = this.checkImage(bytes, 'the image in the txt2img reply');
    let info: { seed?: number; sd_model_name?: string } = {};
    if (typeof reply.info === 'string') {
      try {
        info = JSON.parse(reply.info) as typeof info;
      } catch {
        info = {};
      }
    }
    onProgress?.({ status: 'done' });
    return {
      image: bytes,
      mime: kind.mime,
      seed: typeof info.seed === 'number' ? info.seed : seed,
      backend: this.name,
      model: this.checkpoint ?? info.sd_model_name ?? this.model,
      cost: this.estimateCost(),
      timings: { queuedMs: Math.round((started ?? t0) - t0), generateMs: Math.round(generated - (started ?? t0)), totalMs: Math.round(this.clock() - t0) },
    };
  }

  private async interrupt(headers: Record<string, string>): Promise<void> {
    try {
      await this.http.request(joinUrl(this.settings.url, 'sdapi/v1/interrupt'), { method: 'POST', headers, timeoutMs: 5000, retries: 0, what: 'POST /sdapi/v1/interrupt' });
    } catch {
      // Best effort.
    }
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const headers = await this.headers();
      const o = await this.http.json<{ sd_model_checkpoint?: string }>(joinUrl(this.settings.url, 'sdapi/v1/options'), { headers, signal: options.signal, retries: 0, what: 'GET /sdapi/v1/options' });
      return { ok: true, detail: `AUTOMATIC1111/Forge API, checkpoint ${o.sd_model_checkpoint ?? 'unknown'}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}
