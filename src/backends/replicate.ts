import { plainPromptText } from '../router/prompt';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { BackendError } from './errors';
import { joinUrl } from './http';
import { adaptRequest, FLUX_ASPECTS, type Capabilities, type ModelEntry } from './catalog';
import type { BackendConfig, BackendHealth, GenerateOptions, GenerationRequest, GenerationResult } from './types';

/**
 * Replicate (cloud), per its HTTP API reference: POST /v1/models/{owner}/{name}/predictions `{input}` for
 * an official model, or POST /v1/predictions `{version, input}`, with `Authorization: Bearer <token>` and
 * optionally `Prefer: wait=<s>` (sync mode: the reply holds until done or the wait ends). A prediction is
 * `{id, status: starting|processing|succeeded|failed|canceled, output, error, logs, metrics: {predict_time},
 * urls: {get, cancel, stream}}`; poll `urls.get`, cancel with POST `urls.cancel`. Output is a URL, a list
 * of URLs, or a data URI. Create is retried on 429 only, as replicate/replicate-javascript's request() does for
 * non-GET requests (withAutomaticRetries / shouldRetry): a 5xx may come after the prediction was queued. What each
 * official model accepts (steps field and range, aspect ratios, negative prompt) is in the catalog.
 */

interface Prediction {
  id?: string;
  status?: string;
  output?: unknown;
  error?: unknown;
  logs?: string;
  metrics?: { predict_time?: number };
  urls?: { get?: string; cancel?: string };
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

export class ReplicateBackend extends BaseBackend {
  readonly name = 'replicate';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'REPLICATE_API_TOKEN';
  private readonly owner: string | undefined;
  private readonly version: string | undefined;
  private readonly preferWait: number;
  private readonly entry: ModelEntry | undefined;
  private readonly caps: Capabilities;
  private readonly extraInput: Record<string, unknown>;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('replicate', config, deps, { url: 'https://api.replicate.com', timeoutMs: 90_000, pollIntervalMs: 1000 });
    const r = this.reader();
    this.side = r.side('cloud');
    this.model = r.string('model', 'black-forest-labs/flux-schnell');
    const m = /^([\w.-]+\/[\w.-]+)(?::([0-9a-f]{64}))?$/.exec(this.model);
    if (m) {
      this.owner = m[1];
      this.version = m[2];
    } else if (/^[0-9a-f]{64}$/.test(this.model)) {
      this.version = this.model;
    } else {
      throw this.fail(
        'config',
        `model "${this.model}" must be "owner/name", "owner/name:<version>" or a 64-character version id`,
      );
    }
    this.entry = this.catalogEntry('replicate', this.owner ?? this.model);
    this.preferWait = r.number('preferWait', 60, 0, 60);
    const sizeInput = r.oneOf('sizeInput', ['auto', 'aspect_ratio', 'width_height'] as const, 'auto');
    // A model the table does not know: pass steps, negative prompt and size through as configured.
    const passThrough: Capabilities = {
      steps: { min: 1, max: 1000, field: 'num_inference_steps' },
      negative: true,
      seed: true,
      ...(this.owner?.startsWith('black-forest-labs/') ? { aspects: FLUX_ASPECTS } : {}),
    };
    const caps = this.entry?.caps ?? passThrough;
    this.caps =
      sizeInput === 'aspect_ratio'
        ? { ...caps, aspects: caps.aspects ?? FLUX_ASPECTS }
        : sizeInput === 'width_height'
          ? { ...caps, aspects: undefined }
          : caps;
    this.extraInput = r.input('input', ['num_outputs', 'num_images', 'batch_size', 'width', 'height', 'megapixels']);
  }

  estimateCost(): number {
    const p = this.entry?.price;
    return this.price(p && 'perImage' in p ? p.perImage : 0);
  }

  /** URLs the API hands back are used only on its own origin (the token goes nowhere else). */
  private own(url: string | undefined, fallbackPath: string): string {
    if (url) {
      try {
        if (new URL(url).origin === new URL(this.settings.url).origin) return url;
      } catch {
        // fall through
      }
    }
    return joinUrl(this.settings.url, fallbackPath);
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const { signal, onProgress } = options;
    const t0 = this.clock();
    const token = await this.requireSecret('REPLICATE_API_TOKEN');
    const auth = { authorization: `Bearer ${token}` };
    const seed = request.seed ?? randomSeed();
    // Fit the request to what the model accepts before anything is paid for; the result records what was sent.
    const sent = adaptRequest(
      { ...request, seed, negative: request.negative ? plainPromptText(request.negative) : undefined },
      this.caps,
    );
    const input: Record<string, unknown> = { prompt: plainPromptText(request.prompt) };
    if (sent.seed !== undefined) input.seed = sent.seed;
    if (this.owner?.startsWith('black-forest-labs/flux')) input.num_outputs = 1;
    input.output_format = 'png';
    if (sent.aspectRatio) input.aspect_ratio = sent.aspectRatio;
    else Object.assign(input, { width: sent.width, height: sent.height });
    if (sent.negative) input.negative_prompt = sent.negative;
    if (sent.steps !== undefined && this.caps.steps) input[this.caps.steps.field] = sent.steps;
    Object.assign(input, this.extraInput);
    const create = this.version
      ? joinUrl(this.settings.url, 'v1/predictions')
      : joinUrl(this.settings.url, `v1/models/${this.owner}/predictions`);
    const body = this.version ? { version: this.version, input } : { input };
    const headers: Record<string, string> = { ...auth };
    if (this.preferWait > 0) headers.prefer = `wait=${this.preferWait}`;
    let p = await this.http.json<Prediction>(create, {
      json: body,
      headers,
      signal,
      timeoutMs: Math.max(this.settings.timeoutMs, (this.preferWait + 30) * 1000),
      what: 'create prediction',
      idempotent: false,
    });
    const id = this.need(p.id, 'prediction id');
    let started: number | undefined;
    try {
      const report = (q: Prediction) => {
        if (q.status === 'starting') onProgress?.({ status: 'queued' });
        else if (q.status === 'processing') {
          started ??= this.clock();
          onProgress?.({ status: 'running', fraction: logFraction(q.logs) });
        }
      };
      report(p);
      if (!TERMINAL.has(p.status ?? '')) {
        p = await this.pollUntil('the prediction', signal, async () => {
          const q = await this.http.json<Prediction>(
            this.own(p.urls?.get, `v1/predictions/${encodeURIComponent(id)}`),
            { headers: auth, signal, what: 'get prediction' },
          );
          report(q);
          return TERMINAL.has(q.status ?? '') ? q : undefined;
        });
      }
    } catch (e) {
      if (signal?.aborted || (e instanceof BackendError && e.code === 'cancelled')) {
        await this.cancel(p, id, auth);
        throw this.fail('cancelled', `prediction ${id} cancelled`, { accepted: true });
      }
      throw e instanceof BackendError
        ? this.fail(e.code, e.message.replace(/^replicate: /, ''), { ...e.details, accepted: true })
        : e;
    }
    const generated = this.clock();
    if (p.status === 'failed') {
      const err = typeof p.error === 'string' ? p.error : JSON.stringify(p.error ?? 'no reason given');
      const filtered = /nsfw|safety|content/i.test(err);
      throw this.fail(filtered ? 'content-filter' : 'failed', `prediction ${id} failed: ${err.slice(0, 300)}`, {
        accepted: true,
      });
    }
    if (p.status === 'canceled' || p.status === 'aborted')
      throw this.fail('cancelled', `prediction ${id} was ${p.status} on the server`, { accepted: true });
    const url = firstUrl(p.output);
    if (!url)
      throw this.fail('bad-reply', `prediction ${id} succeeded without an image URL in its output`, { accepted: true });
    const sameOrigin = (() => {
      try {
        return new URL(url).origin === new URL(this.settings.url).origin;
      } catch {
        return false;
      }
    })();
    const { bytes, kind } = await this.download(url, { signal, onProgress, headers: sameOrigin ? auth : {} });
    onProgress?.({ status: 'done' });
    return {
      image: bytes,
      mime: kind.mime,
      seed: sent.seed,
      backend: this.name,
      model: this.model,
      cost: this.estimateCost(),
      sent,
      timings: {
        queuedMs: Math.round((started ?? generated) - t0),
        generateMs: Math.round(generated - (started ?? generated)),
        totalMs: Math.round(this.clock() - t0),
      },
    };
  }

  private async cancel(p: Prediction, id: string, auth: Record<string, string>): Promise<void> {
    try {
      await this.http.request(this.own(p.urls?.cancel, `v1/predictions/${encodeURIComponent(id)}/cancel`), {
        method: 'POST',
        headers: auth,
        timeoutMs: 5000,
        retries: 0,
        what: 'cancel prediction',
      });
    } catch {
      // Best effort.
    }
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const token = await this.requireSecret('REPLICATE_API_TOKEN');
      const a = await this.http.json<{ username?: string }>(joinUrl(this.settings.url, 'v1/account'), {
        headers: { authorization: `Bearer ${token}` },
        signal: options.signal,
        retries: 0,
        what: 'GET /v1/account',
      });
      return { ok: true, detail: `Replicate ${this.model}${a.username ? ` as ${a.username}` : ''}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}

function firstUrl(output: unknown): string | undefined {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    for (const o of output) {
      const u = firstUrl(o);
      if (u) return u;
    }
  }
  if (output && typeof output === 'object') {
    const o = output as Record<string, unknown>;
    for (const k of ['image', 'images', 'url', 'output']) {
      const u = firstUrl(o[k]);
      if (u) return u;
    }
  }
  return undefined;
}

/** The last tqdm percentage in a prediction's logs ("… 45%|████"), as a fraction. */
function logFraction(logs: string | undefined): number | undefined {
  if (!logs) return undefined;
  const all = [...logs.matchAll(/(\d{1,3})%\|/g)];
  const last = all[all.length - 1];
  return last ? Math.min(1, Number(last[1]) / 100) : undefined;
}
