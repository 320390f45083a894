import { plainPromptText } from '../router/prompt';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import { BackendError } from './errors';
import { joinUrl } from './http';
import { FLUX_ASPECTS, nearestAspect } from './stability';
import type { BackendConfig, BackendHealth, GenerateOptions, GenerationRequest, GenerationResult } from './types';

/**
 * Black Forest Labs FLUX API (cloud), per docs.bfl.ai: POST {base}/v1/{model} with header `x-key` and JSON
 * `{prompt, width, height, seed, steps?, prompt_upsampling, safety_tolerance, output_format}` (the ultra
 * model takes `aspect_ratio`) → `{id, polling_url, cost?}` (`cost` in credits, 1 credit = USD 0.01);
 * GET polling_url (or /v1/get_result?id=) → `{id, status: Pending|Ready|Error|Failed|Request Moderated|
 * Content Moderated|Task not found, result: {sample: <signed URL>, seed?}, progress?}`; the sample URL is
 * fetched without the key. The API has no cancel endpoint.
 */

/** USD per image (docs.bfl.ai pricing). */
const PRICES: Record<string, number> = {
  'flux-pro-1.1': 0.04,
  'flux-pro-1.1-ultra': 0.06,
  'flux-pro': 0.05,
  'flux-dev': 0.025,
  'flux-kontext-pro': 0.04,
  'flux-kontext-max': 0.08,
};

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

function multipleOf32(x: number): number {
  return Math.min(1440, Math.max(256, Math.round(x / 32) * 32));
}

export class BflBackend extends BaseBackend {
  readonly name = 'bfl';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  override readonly secretName = 'BFL_API_KEY';
  private readonly safetyTolerance: number;

  constructor(config: BackendConfig, deps: BackendDeps) {
    super('bfl', config, deps, { url: 'https://api.bfl.ai', timeoutMs: 60_000, pollIntervalMs: 500 });
    const r = this.reader();
    this.side = r.side('cloud');
    this.model = r.string('model', 'flux-pro-1.1');
    if (!/^[\w.-]+$/.test(this.model)) throw this.fail('config', `model "${this.model}" must be an endpoint name such as flux-pro-1.1`);
    if (this.settings.price === undefined && !(this.model in PRICES)) {
      throw this.fail('config', `no price is known for "${this.model}"; set "price" (USD per image) so the ledger can reserve it`);
    }
    this.safetyTolerance = r.number('safetyTolerance', 2, 0, 6);
  }

  estimateCost(): number {
    return this.price(PRICES[this.model] ?? 0);
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
    const body: Record<string, unknown> = { prompt: plainPromptText(request.prompt), seed, prompt_upsampling: false, safety_tolerance: this.safetyTolerance, output_format: 'png' };
    if (this.model.includes('ultra')) body.aspect_ratio = nearestAspect(request.width, request.height, FLUX_ASPECTS);
    else Object.assign(body, { width: multipleOf32(request.width), height: multipleOf32(request.height) });
    if (request.steps && this.model === 'flux-dev') body.steps = request.steps;
    const submit = await this.http.json<SubmitReply>(joinUrl(this.settings.url, `v1/${this.model}`), { json: body, headers: auth, signal, what: 'submit', idempotent: false });
    const id = this.need(submit.id, 'task id');
    const pollUrl = submit.polling_url && this.trusted(submit.polling_url) ? submit.polling_url : `${joinUrl(this.settings.url, 'v1/get_result')}?id=${encodeURIComponent(id)}`;
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
            throw this.fail('content-filter', `task ${id}: ${r.status} (the provider's safety filter refused it)`, { accepted: true });
          case 'Error':
          case 'Failed':
          case 'Task not found':
            throw this.fail('failed', `task ${id}: ${r.status}${r.details ? ` (${JSON.stringify(r.details).slice(0, 200)})` : ''}`, { accepted: true });
          default:
            throw this.fail('bad-reply', `task ${id}: unknown status ${JSON.stringify(r.status)?.slice(0, 40)}`, { accepted: true });
        }
      });
    } catch (e) {
      if (signal?.aborted) throw this.fail('cancelled', `stopped waiting for task ${id} (BFL has no cancel; it may still be charged)`, { accepted: true });
      throw e instanceof BackendError && !e.details.accepted ? this.fail(e.code, e.message.replace(/^bfl: /, ''), { ...e.details, accepted: true }) : e;
    }
    const generated = this.clock();
    const sample = done.result?.sample;
    if (!sample) throw this.fail('bad-reply', `task ${id} is Ready without result.sample`, { accepted: true });
    const { bytes, kind } = await this.download(sample, { signal, onProgress, headers: this.trusted(sample) && new URL(sample).origin === new URL(this.settings.url).origin ? auth : {} });
    onProgress?.({ status: 'done' });
    const cost = typeof submit.cost === 'number' && submit.cost >= 0 && this.settings.price === undefined ? submit.cost / 100 : this.estimateCost();
    return {
      image: bytes,
      mime: kind.mime,
      seed: typeof done.result?.seed === 'number' ? done.result.seed : seed,
      backend: this.name,
      model: this.model,
      cost,
      timings: { queuedMs: Math.round((started ?? generated) - t0), generateMs: Math.round(generated - (started ?? generated)), totalMs: Math.round(this.clock() - t0) },
    };
  }

  async health(): Promise<BackendHealth> {
    const key = await this.secret('BFL_API_KEY');
    return key ? { ok: true, detail: `Black Forest Labs ${this.model} (key present)` } : { ok: false, detail: 'bfl: no API key: set BFL_API_KEY' };
  }
}
