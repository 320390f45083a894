import { decodeBase64, sniffImage } from '../backends/image';
import type { GenerationRequest } from '../backends/types';
import { CancelledError, RouteT2IError } from '../router/errors';
import type { Scores, Side } from '../router/types';
import { credentialRefusal, scrub } from '../shared/secrets';
import type { DispatchOutcome } from './dispatcher';
import { parseMonthView, type MonthView } from './monthView';

/**
 * The editor's side of a RouteT2I gateway (`routet2i serve`, src/server): it asks the gateway to route and render a
 * prompt (POST /v1/images/generations), and reads the team's month (GET /v1/ledger) and policy (GET /v1/policy). The
 * gateway owns the money: nothing here books anything, and a cancelled request is the gateway's to keep booked.
 *
 * The gateway key goes only over https or to a loopback address (the one credential rule, src/shared/secrets.ts), and
 * never follows a redirect. Errors in OpenAI's shape become a GatewayError with a code a face can act on.
 */

export type GatewayErrorCode =
  /** The address is not usable (not a URL, or plain http to another host with a key). */
  | 'gateway-config'
  /** 401: the key is missing or unknown. */
  | 'gateway-auth'
  /** 402: the team's or this key's monthly cap would be passed. */
  | 'gateway-cap'
  /** 429: the provider behind the gateway rate-limited the call. */
  | 'gateway-rate-limited'
  /** 400 (and 404, 405, 413, 415): the gateway refused the request or the provider refused the prompt. */
  | 'gateway-refused'
  /** 5xx, nothing listening, or a reply that is not what the gateway sends. */
  | 'gateway-unavailable';

export class GatewayError extends RouteT2IError {
  declare readonly code: GatewayErrorCode;
  constructor(
    code: GatewayErrorCode,
    message: string,
    readonly details: { status?: number; apiCode?: string; retryAfterMs?: number } = {},
    hint?: string,
  ) {
    super(code, message, hint);
  }
}

/** The `routet2i` object the gateway adds to an Images reply (docs/gateway.md). */
export interface GatewayRouting {
  id: string;
  route: Side | 'mixed';
  why: string;
  prs: number;
  pareto: string;
  alpha: number;
  mode: string;
  predicted: { edge: Scores; cloud: Scores };
  measured: Scores | null;
  cost: number;
  backend: string;
  model: string;
  images: Array<{
    route: Side | null;
    why: string;
    backend: string | null;
    model: string | null;
    seed: number | null;
    cost: number;
    measured: Scores | null;
    error: { code: string; message: string } | null;
  }>;
  key?: string;
}

export interface GatewayImages {
  images: Uint8Array[];
  mime: string;
  routet2i: GatewayRouting;
}

/** The team's policy as the gateway applies it (GET /v1/policy). */
export interface GatewayPolicy {
  mode: string;
  budget: number;
  monthlyCap: number | null;
  fallback: string;
  edge: string | null;
  cloud: string | null;
  cloudPrice: number;
  alpha: number;
  /** The PRS values α is calibrated on (the gateway predictor's reference, then the store's recent ones). */
  history: number[];
}

export interface GatewayClientOptions {
  /** The gateway's base address (http://127.0.0.1:8787 or https://…); a trailing /v1 is accepted. */
  url: string;
  /** The gateway's own key (not a provider's); none for an open gateway on loopback. */
  key?: string;
  /** Longest a generation may take before it is abandoned (the gateway keeps what it may have cost booked). */
  generateTimeoutMs?: number;
  /** Longest a read of the month or the policy may take. */
  readTimeoutMs?: number;
  maxReplyBytes?: number;
  fetch?: typeof fetch;
}

const MB = 1 << 20;

/** The base URL without `/v1` or a trailing slash; throws a GatewayError for an address that cannot be one. */
export function gatewayBase(url: string): URL {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new GatewayError('gateway-config', `the gateway address "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new GatewayError('gateway-config', `the gateway address must be http(s), not ${u.protocol}`);
  if (u.username || u.password)
    throw new GatewayError(
      'gateway-config',
      'the gateway address must not hold a user or password: the key goes in the secret storage',
    );
  u.search = '';
  u.hash = '';
  u.pathname = u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return u;
}

export class GatewayClient {
  readonly base: URL;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: GatewayClientOptions) {
    this.base = gatewayBase(o.url);
    this.fetch = o.fetch ?? globalThis.fetch;
    const refusal = o.key ? credentialRefusal(this.base) : undefined;
    if (refusal) throw new GatewayError('gateway-config', `the gateway key is not sent to ${this.where}: ${refusal}`);
  }

  /** The gateway's address for messages. */
  get where(): string {
    return this.base.origin + this.base.pathname;
  }

  /**
   * Routes and renders one prompt on the gateway. `model` is auto (the team's policy decides), edge, cloud, or a
   * backend name the gateway knows.
   */
  async generate(
    request: Pick<GenerationRequest, 'prompt' | 'negative' | 'width' | 'height'> & { quality?: string },
    model: string,
    signal?: AbortSignal,
  ): Promise<GatewayImages> {
    const body: Record<string, unknown> = {
      prompt: request.prompt,
      model,
      n: 1,
      size: `${request.width}x${request.height}`,
      response_format: 'b64_json',
    };
    if (request.negative) body.negative_prompt = request.negative;
    if (request.quality) body.quality = request.quality;
    const reply = (await this.call(
      'POST',
      '/v1/images/generations',
      body,
      this.o.generateTimeoutMs ?? 600_000,
      signal,
    )) as {
      data?: Array<{ b64_json?: unknown }>;
      output_format?: unknown;
      routet2i?: GatewayRouting;
    };
    const r = reply.routet2i;
    if (
      !Array.isArray(reply.data) ||
      !reply.data.length ||
      !r ||
      typeof r.route !== 'string' ||
      typeof r.why !== 'string' ||
      typeof r.cost !== 'number'
    )
      throw this.badReply('an Images reply without data or its routet2i object');
    const images = reply.data.map((d) => {
      if (typeof d.b64_json !== 'string') throw this.badReply('an image without b64_json');
      const bytes = decodeBase64(d.b64_json);
      if (!bytes || !sniffImage(bytes)) throw this.badReply('b64_json that is not an image');
      return bytes;
    });
    const mime = sniffImage(images[0]!)!.mime;
    return { images, mime, routet2i: r };
  }

  /** The team's month: exactly what `routet2i ledger --json` prints for the gateway's ledger. */
  async ledger(signal?: AbortSignal): Promise<MonthView> {
    const raw = await this.call('GET', '/v1/ledger', undefined, this.o.readTimeoutMs ?? 15_000, signal);
    try {
      return parseMonthView(raw);
    } catch (e) {
      throw this.badReply((e as Error).message);
    }
  }

  /** The team's policy and α's history. */
  async policy(signal?: AbortSignal): Promise<GatewayPolicy> {
    const p = (await this.call('GET', '/v1/policy', undefined, this.o.readTimeoutMs ?? 15_000, signal)) as Record<
      string,
      unknown
    >;
    const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
    if (
      !p ||
      !num(p.budget) ||
      !num(p.alpha) ||
      !num(p.cloudPrice) ||
      !(p.monthlyCap === null || num(p.monthlyCap)) ||
      typeof p.mode !== 'string' ||
      !Array.isArray(p.history) ||
      !p.history.every(num)
    )
      throw this.badReply('a policy reply without budget, alpha, cloudPrice, monthlyCap, mode or history');
    return {
      mode: p.mode,
      budget: p.budget as number,
      monthlyCap: p.monthlyCap as number | null,
      fallback: typeof p.fallback === 'string' ? p.fallback : 'none',
      edge: typeof p.edge === 'string' ? p.edge : null,
      cloud: typeof p.cloud === 'string' ? p.cloud : null,
      cloudPrice: p.cloudPrice as number,
      alpha: p.alpha as number,
      history: p.history as number[],
    };
  }

  private badReply(what: string): GatewayError {
    return new GatewayError('gateway-unavailable', `the gateway at ${this.where} sent ${what}`);
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (signal?.aborted) throw new CancelledError();
    const timeout = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.o.key) headers.authorization = `Bearer ${this.o.key}`;
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        // A key never follows a redirect: a gateway answers where it is asked.
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      if (signal?.aborted) throw new CancelledError();
      if (timeout.aborted)
        throw new GatewayError(
          'gateway-unavailable',
          `the gateway at ${this.where} did not answer within ${Math.round(timeoutMs / 1000)} s`,
        );
      throw new GatewayError(
        'gateway-unavailable',
        `the gateway at ${this.where} cannot be reached (${this.clean(errorCause(e))})`,
        {},
        'is `routet2i serve` running there? Check "routet2i.gateway.url"',
      );
    }
    let text: string;
    try {
      text = await readBounded(res, this.o.maxReplyBytes ?? 256 * MB);
    } catch (e) {
      if (signal?.aborted) throw new CancelledError();
      throw new GatewayError(
        'gateway-unavailable',
        `the gateway at ${this.where}: ${this.clean((e as Error).message)}`,
      );
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok && json !== undefined) return json;
    if (res.ok) throw this.badReply(`a reply to ${method} ${path} that is not JSON`);
    throw this.error(res, json, text, `${method} ${path}`);
  }

  /** An OpenAI-shaped error reply as a GatewayError: the gateway's own message, and what to do. */
  private error(res: Response, json: unknown, text: string, what: string): GatewayError {
    const e = (json as { error?: { message?: unknown; code?: unknown } } | undefined)?.error;
    const apiCode = typeof e?.code === 'string' ? e.code : undefined;
    const said = this.clean(
      typeof e?.message === 'string' ? e.message : text.replace(/\s+/g, ' ').trim().slice(0, 200) || res.statusText,
    );
    const status = res.status;
    const details = { status, ...(apiCode ? { apiCode } : {}) };
    if (status >= 300 && status < 400)
      return new GatewayError(
        'gateway-config',
        `the gateway at ${this.where} redirects ${what} (${status}); set its final address`,
        details,
      );
    if (status === 401)
      return new GatewayError(
        'gateway-auth',
        `the gateway at ${this.where} refused the key (${said})`,
        details,
        'run "RouteT2I: Set Gateway Key"',
      );
    if (status === 402)
      return new GatewayError(
        'gateway-cap',
        `the gateway refused: ${said}`,
        details,
        "the team's monthly cap is reached; ask who runs the gateway",
      );
    if (status === 429) {
      const after = retryAfterMs(res.headers.get('retry-after'));
      return new GatewayError(
        'gateway-rate-limited',
        `the gateway's provider is rate-limited: ${said}`,
        { ...details, ...(after !== undefined ? { retryAfterMs: after } : {}) },
        after !== undefined ? `try again in ${Math.ceil(after / 1000)} s` : 'try again later',
      );
    }
    if (status >= 400 && status < 500)
      return new GatewayError('gateway-refused', `the gateway refused the request: ${said}`, details);
    return new GatewayError('gateway-unavailable', `the gateway at ${this.where} failed (${status}): ${said}`, details);
  }

  private clean(text: string): string {
    return scrub(text, [this.o.key]);
  }
}

function errorCause(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
}

/** Retry-After in seconds or as an HTTP date, in ms. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** The body as text, refusing one larger than `limit` bytes while it arrives. */
async function readBounded(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`the reply is larger than ${Math.round(limit / MB)} MiB`);
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`the reply is larger than ${Math.round(limit / MB)} MiB`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A gateway's image as the generation layer's outcome, so the faces save it with its sidecar exactly as a local
 * generation (src/generation/output.ts): the route, why, backend, model, seed and cost are the gateway's.
 */
export function gatewayOutcome(
  id: string,
  request: GenerationRequest,
  reply: GatewayImages,
  tookMs: number,
): DispatchOutcome {
  const r = reply.routet2i;
  const first = r.images[0];
  const route: Side = first?.route ?? (r.route === 'mixed' ? 'cloud' : r.route);
  const backend = first?.backend ?? r.backend;
  const model = first?.model ?? r.model;
  const result = {
    image: reply.images[0]!,
    mime: reply.mime,
    backend,
    model,
    cost: r.cost,
    timings: { totalMs: tookMs },
    ...(first?.seed !== null && first?.seed !== undefined ? { seed: first.seed } : {}),
  };
  return {
    id,
    request,
    plan: { id, action: route, why: r.why, estimate: r.cost, maxEstimate: r.cost },
    route,
    why: `${r.why} (gateway ${r.id})`,
    result,
    ...(r.measured ? { measured: r.measured } : {}),
    attempts: [{ side: route, backend, ok: true, cost: r.cost, estimate: r.cost, result, role: 'planned' }],
    cost: r.cost,
  };
}
