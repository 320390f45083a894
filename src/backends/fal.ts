import { plainPromptText } from '../router/prompt';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { BackendError } from './errors';
import { joinUrl } from './http';
import { adaptRequest, type Capabilities, type ModelEntry } from './catalog';
import { serverMessage } from './http';
import type { BackendConfig, BackendHealth, GenerateOptions, GenerationRequest, GenerationResult } from './types';

/**
 * fal.ai queue (cloud), per docs.fal.ai "Queue": POST https://queue.fal.run/{model_id}[/{subpath}] with
 * `Authorization: Key <FAL_KEY>` → `{request_id, status_url, response_url, cancel_url, queue_position}`;
 * GET status_url → `{status: IN_QUEUE|IN_PROGRESS|COMPLETED, queue_position?, logs?, error?}`; GET
 * response_url → the model's output (`{images: [{url, content_type}], seed, has_nsfw_concepts}` for the
 * FLUX/SDXL image models); PUT cancel_url → 202 `{status: CANCELLATION_REQUESTED}` (or 400
 * `ALREADY_COMPLETED`). Status and result paths use the app id without its subpath.
 *
 * A request that ran and failed still ends COMPLETED on the status URL: its error is what GET response_url answers
 * (fal-ai/fal-js libs/client/src/queue.ts `result()` reads response_url and response.ts turns a non-2xx reply into
 * an ApiError/ValidationError with the body's `detail`): 422 with `detail: [{loc, msg, type:
 * "content_policy_violation"}]` is a refusal (docs.fal.ai/errors), anything else a failure of the job.
 */

interface QueueReply {
  request_id?: string;
  status_url?: string;
  response_url?: string;
  cancel_url?: string;
  queue_position?: number;
}

interface StatusReply {
  status?: string;
  queue_position?: number;
  error?: string;
  error_type?: string;
}

interface ResultReply {
  images?: { url?: string; content_type?: string }[];
  image?: { url?: string };
  seed?: number;
  has_nsfw_concepts?: boolean[];
}

export class FalBackend extends BaseBackend {
  readonly name = 'fal';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'FAL_KEY';
  private readonly app: string;
  private readonly safetyChecker: boolean;
  private readonly extraInput: Record<string, unknown>;
  private readonly entry: ModelEntry | undefined;
  private readonly caps: Capabilities;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('fal', config, deps, { url: 'https://queue.fal.run', timeoutMs: 60_000, pollIntervalMs: 1000 });
    const r = this.reader();
    this.side = r.side('cloud');
    this.model = r.string('model', 'fal-ai/flux/schnell');
    if (!/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?$/.test(this.model))
      throw this.fail('config', `model "${this.model}" must be a fal model id such as fal-ai/flux/dev`);
    this.app = this.model.split('/').slice(0, 2).join('/');
    this.entry = this.catalogEntry('fal', this.model);
    this.caps = this.entry?.caps ?? {
      steps: { min: 1, max: 1000, field: 'num_inference_steps' },
      negative: true,
      seed: true,
    };
    this.safetyChecker = r.boolean('safetyChecker', true);
    this.extraInput = r.input('input', ['num_images', 'image_size', 'width', 'height', 'batch_size']);
  }

  estimateCost(request: GenerationRequest): number {
    if (this.settings.price !== undefined) return this.settings.price;
    const p = this.entry?.price;
    const sent = adaptRequest(request, this.caps);
    const mp = Math.max(1, Math.ceil((sent.width * sent.height) / 1_000_000));
    const rate = p && 'perMegapixel' in p ? p.perMegapixel : p && 'perImage' in p ? p.perImage : 0;
    return Math.round(rate * mp * 1e6) / 1e6;
  }

  private own(url: string | undefined, path: string): string {
    if (url) {
      try {
        if (new URL(url).origin === new URL(this.settings.url).origin) return url;
      } catch {
        // fall through
      }
    }
    return joinUrl(this.settings.url, path);
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const { signal, onProgress } = options;
    const t0 = this.clock();
    const key = await this.requireSecret('FAL_KEY');
    const auth = { authorization: `Key ${key}` };
    const seed = request.seed ?? randomSeed();
    const sent = adaptRequest(
      { ...request, seed, negative: request.negative ? plainPromptText(request.negative) : undefined },
      this.caps,
    );
    const input: Record<string, unknown> = {
      prompt: plainPromptText(request.prompt),
      seed,
      image_size: { width: sent.width, height: sent.height },
      num_images: 1,
      output_format: 'png',
      enable_safety_checker: this.safetyChecker,
    };
    if (sent.negative) input.negative_prompt = sent.negative;
    if (sent.steps !== undefined && this.caps.steps) input[this.caps.steps.field] = sent.steps;
    Object.assign(input, this.extraInput);
    const q = await this.http.json<QueueReply>(joinUrl(this.settings.url, this.model), {
      json: input,
      headers: auth,
      signal,
      what: 'queue submit',
      idempotent: false,
    });
    const id = this.need(q.request_id, 'request_id');
    const base = `${this.app}/requests/${encodeURIComponent(id)}`;
    onProgress?.({ status: 'queued', position: q.queue_position });
    let started: number | undefined;
    let result: ResultReply;
    try {
      const status = await this.pollUntil('the request', signal, async () => {
        const s = await this.http.json<StatusReply>(this.own(q.status_url, `${base}/status`), {
          headers: auth,
          signal,
          what: 'queue status',
        });
        if (s.status === 'IN_QUEUE') onProgress?.({ status: 'queued', position: s.queue_position });
        else if (s.status === 'IN_PROGRESS') {
          started ??= this.clock();
          onProgress?.({ status: 'running' });
        } else if (s.status === 'COMPLETED') return s;
        else if (s.status === 'FAILED' || s.status === 'CANCELED' || s.status === 'CANCELLED') return s;
        else
          throw this.fail('bad-reply', `unknown queue status ${JSON.stringify(s.status)?.slice(0, 40)}`, {
            accepted: true,
          });
        return undefined;
      });
      if (status.status !== 'COMPLETED' || status.error) {
        const why = status.error ?? status.status;
        throw this.fail(
          status.error_type === 'content_policy_violation' ? 'content-filter' : 'failed',
          `request ${id} failed: ${String(why).slice(0, 300)}`,
          { accepted: true },
        );
      }
      result = await this.result(this.own(q.response_url, base), id, auth, signal);
    } catch (e) {
      if (signal?.aborted) {
        await this.cancel(q, base, auth);
        throw this.fail('cancelled', `request ${id} cancelled`, { accepted: true });
      }
      throw e instanceof BackendError && !e.details.accepted
        ? this.fail(e.code, e.message.replace(/^fal: /, ''), { ...e.details, accepted: true })
        : e;
    }
    const generated = this.clock();
    if (result.has_nsfw_concepts?.[0] === true) {
      throw this.fail(
        'content-filter',
        `request ${id}: the safety checker flagged the image (fal returns a black image instead)`,
        { accepted: true },
      );
    }
    const url = result.images?.[0]?.url ?? result.image?.url;
    if (!url) throw this.fail('bad-reply', `request ${id} finished without images[0].url`, { accepted: true });
    const { bytes, kind } = await this.download(url, { signal, onProgress });
    onProgress?.({ status: 'done' });
    return {
      image: bytes,
      mime: kind.mime,
      seed: typeof result.seed === 'number' ? result.seed : seed,
      backend: this.name,
      model: this.model,
      cost: this.estimateCost(request),
      sent,
      timings: {
        queuedMs: Math.round((started ?? generated) - t0),
        generateMs: Math.round(generated - (started ?? generated)),
        totalMs: Math.round(this.clock() - t0),
      },
    };
  }

  /** GET response_url: the output, or the job's error as fal reports it there (refusals included). */
  private async result(
    url: string,
    id: string,
    auth: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<ResultReply> {
    const reply = await this.http.request(url, {
      headers: { accept: 'application/json', ...auth },
      signal,
      what: 'queue result',
      accept: (s) => s >= 400 && s <= 500 && s !== 401 && s !== 403 && s !== 408 && s !== 429,
    });
    if (reply.status < 300) return reply.json<ResultReply>();
    let detail: unknown;
    try {
      detail = (JSON.parse(reply.text()) as { detail?: unknown }).detail;
    } catch {
      detail = undefined;
    }
    const items = Array.isArray(detail) ? (detail as { type?: string; msg?: string; loc?: unknown[] }[]) : [];
    const message = serverMessage(reply.body, reply.headers.get('content-type')).slice(0, 300);
    if (items.some((d) => d?.type === 'content_policy_violation')) {
      throw this.fail(
        'content-filter',
        `request ${id}: refused by the content checker (content_policy_violation): ${message}`,
        { status: reply.status, accepted: true },
      );
    }
    throw this.fail('failed', `request ${id} failed: HTTP ${reply.status}: ${message}`, {
      status: reply.status,
      accepted: true,
    });
  }

  private async cancel(q: QueueReply, base: string, auth: Record<string, string>): Promise<void> {
    try {
      await this.http.request(this.own(q.cancel_url, `${base}/cancel`), {
        method: 'PUT',
        headers: auth,
        timeoutMs: 5000,
        retries: 0,
        what: 'queue cancel',
        accept: (s) => s === 400,
      });
    } catch {
      // Best effort.
    }
  }

  async health(): Promise<BackendHealth> {
    // The queue has no cheap authenticated probe; check that a key is there.
    const key = await this.secret('FAL_KEY');
    return key
      ? { ok: true, detail: `fal.ai ${this.model} (key present)` }
      : { ok: false, detail: 'fal: no API key: set FAL_KEY' };
  }
}
