import { randomUUID } from 'node:crypto';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { BackendError } from './errors';
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
 *
 * Errors are `{error: <exception class>, detail, body, errors: str(e)}` (api.py handle_exception): the message is in
 * `detail` or `errors`. An unknown sampler is 404 `Sampler not found` (validate_sampler_name); an unknown
 * `sd_model_checkpoint` override is not an error at all — the server loads a fallback checkpoint — so the name is
 * checked against GET /sdapi/v1/sd-models first, and the result records the checkpoint the server reports in
 * `info.sd_model_name`. /sdapi/v1/interrupt stops whatever job runs, so each request carries `force_task_id` and a
 * cancel interrupts only when POST /internal/progress {id_task} says that task is the active one (modules/progress.py).
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
  /** The checkpoint name already found in /sdapi/v1/sd-models. */
  private checkpointChecked: string | undefined;

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
    const taskId = `task(routet2i-${randomUUID()})`;
    body.force_task_id = taskId;
    if (this.checkpoint) body.override_settings = { sd_model_checkpoint: await this.knownCheckpoint(headers, signal) };

    // The txt2img call blocks until the image exists; progress comes from polling beside it.
    const poller = new AbortController();
    let started: number | undefined;
    const progress = (async () => {
      while (!poller.signal.aborted) {
        try {
          await this.sleep(this.settings.pollIntervalMs, poller.signal);
          const p = await this.http.json<{
            progress?: number;
            state?: { job_count?: number; sampling_step?: number; sampling_steps?: number };
          }>(joinUrl(this.settings.url, 'sdapi/v1/progress?skip_current_image=true'), {
            headers,
            signal: poller.signal,
            retries: 0,
            timeoutMs: 10_000,
            what: 'GET /sdapi/v1/progress',
          });
          if (poller.signal.aborted) break;
          const steps = p.state?.sampling_steps;
          if ((p.state?.job_count ?? 0) > 0 || (p.progress ?? 0) > 0) {
            started ??= this.clock();
            onProgress?.({
              status: 'running',
              fraction: typeof p.progress === 'number' ? p.progress : undefined,
              step: p.state?.sampling_step,
              steps,
            });
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
        const how = await this.interruptOwn(taskId, headers);
        throw this.fail('cancelled', `generation cancelled; ${how}`, { accepted: true });
      }
      if (e instanceof BackendError && e.details.status === 404 && /sampler not found/i.test(e.message)) {
        throw this.fail(
          'config',
          `the server has no sampler "${String(body.sampler_name)}"${await this.samplerList(headers)}`,
          { status: 404, hint: 'set "sampler" to one the server lists', notTaken: true },
        );
      }
      throw e;
    } finally {
      poller.abort();
      await progress;
    }
    const generated = this.clock();
    const images = reply.images;
    if (!Array.isArray(images) || typeof images[0] !== 'string')
      throw this.fail('bad-reply', 'the txt2img reply has no images');
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
      // What the server really used (a checkpoint it could not find is replaced by a loaded one).
      model: info.sd_model_name ?? this.checkpoint ?? this.model,
      cost: this.estimateCost(),
      sent: {
        width: request.width,
        height: request.height,
        steps: body.steps as number,
        negative: (body.negative_prompt as string) || undefined,
        seed: typeof info.seed === 'number' ? info.seed : seed,
      },
      timings: {
        queuedMs: Math.round((started ?? t0) - t0),
        generateMs: Math.round(generated - (started ?? t0)),
        totalMs: Math.round(this.clock() - t0),
      },
    };
  }

  /**
   * Interrupts our job only: /sdapi/v1/interrupt stops whatever runs, so ask /internal/progress first whether our
   * task is the active one. Says what was done, for the message.
   */
  private async interruptOwn(taskId: string, headers: Record<string, string>): Promise<string> {
    const quick = { headers, timeoutMs: 5000, retries: 0 };
    let state: { active?: boolean; queued?: boolean; completed?: boolean };
    try {
      state = await this.http.json(joinUrl(this.settings.url, 'internal/progress'), {
        ...quick,
        json: { id_task: taskId, id_live_preview: -1, live_preview: false },
        what: 'POST /internal/progress',
      });
    } catch {
      return 'the server cannot say which job is ours (no /internal/progress), so the running job was left alone';
    }
    if (state.active) {
      try {
        await this.http.request(joinUrl(this.settings.url, 'sdapi/v1/interrupt'), {
          ...quick,
          method: 'POST',
          what: 'POST /sdapi/v1/interrupt',
        });
        return 'interrupted our job on the server (/sdapi/v1/interrupt)';
      } catch {
        return 'the interrupt did not reach the server';
      }
    }
    if (state.queued) return 'our job is still queued on the server, which has no way to remove it; it will run';
    return 'our job was not running';
  }

  /** The configured checkpoint as the server names it; a name it does not have is a config error, before any work. */
  private async knownCheckpoint(headers: Record<string, string>, signal: AbortSignal | undefined): Promise<string> {
    const want = this.checkpoint!;
    if (this.checkpointChecked === want) return want;
    const models = await this.http.json<
      { title?: string; model_name?: string; hash?: string; sha256?: string; filename?: string }[]
    >(joinUrl(this.settings.url, 'sdapi/v1/sd-models'), { headers, signal, what: 'GET /sdapi/v1/sd-models' });
    const list = Array.isArray(models) ? models : [];
    const names = (m: (typeof list)[number]) =>
      [
        m.title,
        m.title?.replace(/\s*\[[0-9a-f]+\]$/, ''),
        m.model_name,
        m.hash,
        m.sha256,
        m.filename?.split(/[\\/]/).pop(),
      ].filter((x): x is string => Boolean(x));
    if (!list.some((m) => names(m).includes(want))) {
      const have = list
        .map((m) => m.title ?? m.model_name)
        .filter(Boolean)
        .slice(0, 12)
        .join(', ');
      throw this.fail(
        'config',
        `the server has no checkpoint "${want}" (it would silently render with another one)${have ? `; it has: ${have}` : ''}`,
        { hint: 'set "model" to one of the listed checkpoints', notTaken: true },
      );
    }
    this.checkpointChecked = want;
    return want;
  }

  private async samplerList(headers: Record<string, string>): Promise<string> {
    try {
      const list = await this.http.json<{ name?: string }[]>(joinUrl(this.settings.url, 'sdapi/v1/samplers'), {
        headers,
        timeoutMs: 5000,
        retries: 0,
        what: 'GET /sdapi/v1/samplers',
      });
      const names = (Array.isArray(list) ? list : []).map((x) => x.name).filter(Boolean);
      return names.length ? `; it has: ${names.slice(0, 20).join(', ')}` : '';
    } catch {
      return '';
    }
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const headers = await this.headers();
      const o = await this.http.json<{ sd_model_checkpoint?: string }>(joinUrl(this.settings.url, 'sdapi/v1/options'), {
        headers,
        signal: options.signal,
        retries: 0,
        what: 'GET /sdapi/v1/options',
      });
      return { ok: true, detail: `AUTOMATIC1111/Forge API, checkpoint ${o.sd_model_checkpoint ?? 'unknown'}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}
