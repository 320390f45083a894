import { plainPromptText } from '../router/prompt';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { BackendError } from './errors';
import { joinUrl } from './http';
import { adaptRequest, type Capabilities, type ModelEntry } from './catalog';
import type { BackendConfig, BackendHealth, GenerateOptions, GenerationRequest, GenerationResult } from './types';

/**
 * Black Forest Labs FLUX API (cloud), per docs.bfl.ai: POST {base}/v1/{model} with header `x-key` and JSON
 * `{prompt, width, height, seed, steps?, prompt_upsampling, safety_tolerance, output_format}` (the ultra
 * model takes `aspect_ratio`) → `{id, polling_url, cost?}` (`cost` in credits, 1 credit = USD 0.01);
 * GET polling_url (or /v1/get_result?id=) → `{id, status: Pending|Ready|Error|Failed|Request Moderated|
 * Content Moderated|Task not found, result: {sample: <signed URL>, seed?}, progress?}`; the sample URL is
 * fetched without the key. The API has no cancel endpoint. Endpoints, sizes or aspect ratios and prices are the
 * catalog's (BFL's OpenAPI has no `flux-pro`; Kontext takes `aspect_ratio` only). An `Error` status whose details
 * name `content_policy_violation` is a refusal (docs.bfl.ai/api_integration/errors), not a plain failure; 402 is
 * a billing refusal. `x-key` is a custom header, which fetch would carry across a redirect: HttpClient follows
 * redirects by hand and drops it on another origin.
 */

interface SubmitReply {
  id?: string;
  polling_url?: string;
  cost?: number;
}

interface ResultReply {
  status?: string;
  result?: { sample?: string; seed?: number } | null;
  progress?: number | null;
  details?: unknown;
}

export class BflBackend extends BaseBackend {
  readonly name = 'bfl';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'BFL_API_KEY';
  private readonly safetyTolerance: number;
  private readonly entry: ModelEntry | undefined;
  private readonly caps: Capabilities;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('bfl', config, deps, { url: 'https://api.bfl.ai', timeoutMs: 60_000, pollIntervalMs: 500 });
    const r = this.reader();
    this.side = r.side('cloud');
    this.model = r.string('model', 'flux-pro-1.1');
    if (!/^[\w.-]+$/.test(this.model))
      throw this.fail('config', `model "${this.model}" must be an endpoint name such as flux-pro-1.1`);
    this.entry = this.catalogEntry('bfl', this.model);
    // An endpoint the table does not know (with a `price`): width and height, as the FLUX.1 pro endpoints take.
    this.caps = this.entry?.caps ?? { dims: { min: 256, max: 1440, multiple: 32 }, negative: false, seed: true };
    this.safetyTolerance = r.number('safetyTolerance', 2, 0, 6);
  }

  /** An upper bound: per image, or per started megapixel for FLUX.2 (the submit reply's `cost` is the charge). */
  estimateCost(request?: GenerationRequest): number {
    const p = this.entry?.price;
    if (this.settings.price !== undefined || !p) return this.price(0);
    if ('perImage' in p) return p.perImage;
    if ('perMegapixel' in p) {
      const sent = request ? adaptRequest(request, this.caps) : { width: 1024, height: 1024 };
      return Math.round(p.perMegapixel * Math.max(1, Math.ceil((sent.width * sent.height) / 1_000_000)) * 1e6) / 1e6;
    }
    return 0;
  }

  /**
   * The key goes to the API's own hosts only: the base origin, or (for a named host such as api.bfl.ai)
   * a sibling under the same parent domain, where the global endpoint sends regional polling URLs.
   */
  private trusted(url: string): boolean {
    try {
      const u = new URL(url);
      const b = new URL(this.settings.url);
      if (u.origin === b.origin) return true;
      if (u.protocol !== 'https:' || /^[\d.]+$|:/.test(b.hostname)) return false;
      const parent = b.hostname.split('.').slice(1).join('.');
      return parent.includes('.') && u.hostname.endsWith(`.${parent}`);
    } catch {
      return false;
    }
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const { signal, onProgress } = options;
    const t0 = this.clock();
    const key = await this.requireSecret('BFL_API_KEY');
    const auth = { 'x-key': key };
    const seed = request.seed ?? randomSeed();
    const sent = adaptRequest({ ...request, seed }, this.caps);
    const body: Record<string, unknown> = {
      prompt: plainPromptText(request.prompt),
      seed,
      prompt_upsampling: false,
      safety_tolerance: this.safetyTolerance,
      output_format: 'png',
    };
    if (sent.aspectRatio) body.aspect_ratio = sent.aspectRatio;
    else Object.assign(body, { width: sent.width, height: sent.height });
    if (sent.steps !== undefined) body.steps = sent.steps;
    const submit = await this.http.json<SubmitReply>(joinUrl(this.settings.url, `v1/${this.model}`), {
      json: body,
      headers: auth,
      signal,
      what: 'submit',
      idempotent: false,
    });
    const id = this.need(submit.id, 'task id');
    const pollUrl =
      submit.polling_url && this.trusted(submit.polling_url)
        ? submit.polling_url
        : `${joinUrl(this.settings.url, 'v1/get_result')}?id=${encodeURIComponent(id)}`;
    onProgress?.({ status: 'queued' });
    let started: number | undefined;
    let done: ResultReply;
    try {
      done = await this.pollUntil('the task', signal, async () => {
        const r = await this.http.json<ResultReply>(pollUrl, { headers: auth, signal, what: 'get result' });
        switch (r.status) {
          case 'Ready':
            return r;
          case 'Pending':
            if (typeof r.progress === 'number') {
              started ??= this.clock();
              onProgress?.({ status: 'running', fraction: r.progress > 1 ? r.progress / 100 : r.progress });
            }
            return undefined;
          case 'Request Moderated':
          case 'Content Moderated':
            throw this.fail('content-filter', `task ${id}: ${r.status} (the provider's safety filter refused it)`, {
              accepted: true,
            });
          case 'Error':
          case 'Failed':
            if (JSON.stringify(r.details ?? '').includes('content_policy_violation')) {
              throw this.fail(
                'content-filter',
                `task ${id}: ${r.status}, content_policy_violation (the provider's safety filter refused it)`,
                { accepted: true },
              );
            }
            throw this.fail(
              'failed',
              `task ${id}: ${r.status}${r.details ? ` (${JSON.stringify(r.details).slice(0, 200)})` : ''}`,
              { accepted: true },
            );
          case 'Task not found':
            throw this.fail(
              'failed',
              `task ${id}: ${r.status}${r.details ? ` (${JSON.stringify(r.details).slice(0, 200)})` : ''}`,
              { accepted: true },
            );
          default:
            throw this.fail('bad-reply', `task ${id}: unknown status ${JSON.stringify(r.status)?.slice(0, 40)}`, {
              accepted: true,
            });
        }
      });
    } catch (e) {
      if (signal?.aborted)
        throw this.fail('cancelled', `stopped waiting for task ${id} (BFL has no cancel; it may still be charged)`, {
          accepted: true,
        });
      throw e instanceof BackendError && !e.details.accepted
        ? this.fail(e.code, e.message.replace(/^bfl: /, ''), { ...e.details, accepted: true })
        : e;
    }
    const generated = this.clock();
    const sample = done.result?.sample;
    if (!sample) throw this.fail('bad-reply', `task ${id} is Ready without result.sample`, { accepted: true });
    const { bytes, kind } = await this.download(sample, {
      signal,
      onProgress,
      headers: this.trusted(sample) && new URL(sample).origin === new URL(this.settings.url).origin ? auth : {},
    });
    onProgress?.({ status: 'done' });
    const cost =
      typeof submit.cost === 'number' && submit.cost >= 0 && this.settings.price === undefined
        ? submit.cost / 100
        : this.estimateCost(request);
    return {
      image: bytes,
      mime: kind.mime,
      seed: typeof done.result?.seed === 'number' ? done.result.seed : seed,
      backend: this.name,
      model: this.model,
      cost,
      sent,
      timings: {
        queuedMs: Math.round((started ?? generated) - t0),
        generateMs: Math.round(generated - (started ?? generated)),
        totalMs: Math.round(this.clock() - t0),
      },
    };
  }

  async health(): Promise<BackendHealth> {
    const key = await this.secret('BFL_API_KEY');
    return key
      ? { ok: true, detail: `Black Forest Labs ${this.model} (key present)` }
      : { ok: false, detail: 'bfl: no API key: set BFL_API_KEY' };
  }
}
