import { credentialRefusal, isCredentialHeader, sameOrigin, withoutCredentials } from '../shared/secrets';
import { BackendError, NOT_TAKEN_STATUSES, excerpt } from './errors';
import { CancelledError } from '../router/errors';

/**
 * The one HTTP layer every backend uses (Node's global fetch, i.e. undici): a deadline for the reply's
 * headers, an idle deadline between body chunks (a server that hangs mid-stream), a size limit,
 * bounded retries with backoff that honours Retry-After, cancellation through AbortSignal, and errors
 * that name the backend and never carry a secret. Credentials go only where src/shared/secrets.ts allows
 * (https, loopback, or the backend's `allowInsecureHttp`), and redirects are followed by hand so that no
 * credential header crosses to another origin.
 */

export interface RetryPolicy {
  /** Extra attempts after the first. */
  retries: number;
  /** First backoff; doubles each attempt, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails as rate-limited at once. */
  maxRetryAfterMs: number;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface HttpSettings {
  /** Backend name, the first word of every error. */
  backend: string;
  /** Until the reply's headers arrive. */
  timeoutMs: number;
  /** Longest silence between two chunks of a reply body. */
  idleTimeoutMs: number;
  maxBytes: number;
  retry: RetryPolicy;
  /** Injectable so tests run retries without real waits. */
  sleep: Sleep;
  random: () => number;
  /** Values to scrub from any message (API keys, passwords). */
  secrets: () => readonly (string | undefined)[];
  fetch: typeof fetch;
  /** The user's explicit opt-in to send credentials over plain http to a non-loopback host. */
  allowInsecureHttp: boolean;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  retries: 3,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
});

export const DEFAULT_HTTP: Readonly<Omit<HttpSettings, 'backend' | 'secrets'>> = Object.freeze({
  allowInsecureHttp: false,
  timeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  maxBytes: 64 * 1024 * 1024,
  retry: DEFAULT_RETRY,
  sleep: abortableSleep,
  random: Math.random,
  fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args),
});

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  /** A JSON body (sets content-type). */
  json?: unknown;
  /** Any other body; FormData gets its multipart boundary from fetch. */
  body?: string | Uint8Array | FormData;
  signal?: AbortSignal;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  maxBytes?: number;
  /**
   * Whether repeating the request is harmless. Defaults to true for GET/HEAD/PUT/DELETE. A request that
   * is not idempotent (a paid submit) is retried only where the provider positively did not take it: a 429
   * or a refused connection; never after a 5xx, a 408 or a timeout (the job may run and be charged). Its
   * errors carry `notTaken` when the provider did not take it (see BackendError).
   */
  idempotent?: boolean;
  retries?: number;
  /**
   * The request costs nothing (a local edge server's own generation): a 5xx or 408 may be retried though it is not
   * idempotent, since a job run twice is only time. Never set it for a paid provider.
   */
  free?: boolean;
  /** A status to hand back to the caller instead of failing (e.g. a 403 that means content moderation). */
  accept?: (status: number) => boolean;
  /** Names the step in messages: "submit", "poll", "download". */
  what?: string;
  onDownload?: (loaded: number, total: number | undefined) => void;
}

export interface HttpReply {
  status: number;
  headers: Headers;
  body: Uint8Array;
  url: string;
  text(): string;
  /** The body as JSON; a malformed body is a `bad-reply` error. */
  json<T = unknown>(): T;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // An aborted signal's reason is an Error (an AbortError DOMException) unless the caller chose another.
    const reason = (): Error => (signal!.reason instanceof Error ? signal!.reason : new CancelledError());
    if (signal?.aborted) return reject(reason());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(reason());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After (seconds or an HTTP date) or retry-after-ms, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const v = headers.get('retry-after');
  if (v === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The most useful message inside an error reply, as the common API shapes put it. */
export function serverMessage(body: Uint8Array, contentType: string | null): string {
  const text = Buffer.from(body).toString('utf8');
  if (!text.trim()) return '';
  if (contentType?.includes('json') || /^\s*[{[]/.test(text)) {
    try {
      return messageFrom(JSON.parse(text)) ?? text;
    } catch {
      return text;
    }
  }
  return contentType?.includes('html') ? '' : text;
}

function messageFrom(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const parts = v.map(messageFrom).filter((s): s is string => Boolean(s));
    return parts.length ? parts.join('; ') : undefined;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // `detail`/`errors` before `error`: AUTOMATIC1111's handler answers {error: "HTTPException", detail: "Sampler not
    // found", errors: "…"} (modules/api/api.py handle_exception), where `error` is only the exception's class name.
    for (const key of ['message', 'detail', 'errors', 'error', 'msg', 'title', 'name']) {
      const m = messageFrom(o[key]);
      if (m) return m;
    }
  }
  return undefined;
}

/** `error.code` of an OpenAI-style error body (`{error: {code}}`), if any. */
export function errorCode(body: Uint8Array): string | undefined {
  try {
    const v = JSON.parse(Buffer.from(body).toString('utf8')) as { error?: { code?: unknown; type?: unknown } };
    const c = v?.error?.code ?? v?.error?.type;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

type Failure = { kind: 'timeout' | 'idle' | 'cancelled' | 'network'; cause?: unknown };

const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errnoOf(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

export class HttpClient {
  readonly settings: HttpSettings;

  constructor(settings: Partial<HttpSettings> & Pick<HttpSettings, 'backend' | 'secrets'>) {
    this.settings = { ...DEFAULT_HTTP, ...settings, retry: { ...DEFAULT_RETRY, ...settings.retry } };
  }

  get backend(): string {
    return this.settings.backend;
  }

  error(
    code: ConstructorParameters<typeof BackendError>[0],
    message: string,
    details?: ConstructorParameters<typeof BackendError>[3],
  ): BackendError {
    return new BackendError(code, this.backend, excerpt(message, this.settings.secrets(), 400), details);
  }

  /** Sends a request, retrying as the policy allows; resolves with a 2xx (or accepted) reply. */
  async request(url: string, req: HttpRequest = {}): Promise<HttpReply> {
    const method = (req.method ?? (req.json !== undefined || req.body !== undefined ? 'POST' : 'GET')).toUpperCase();
    const idempotent = req.idempotent ?? ['GET', 'HEAD', 'PUT', 'DELETE'].includes(method);
    const retries = Math.max(0, req.retries ?? this.settings.retry.retries);
    const what = req.what ?? `${method} ${safePath(url)}`;
    const headers: Record<string, string> = { ...req.headers };
    let body: string | Uint8Array | FormData | undefined = req.body;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    }
    // Every attempt before this one of a paid submit was refused (not taken): a stop now sends nothing.
    const unsent = idempotent ? {} : { notTaken: true };
    for (let attempt = 0; ; attempt++) {
      if (req.signal?.aborted) throw this.error('cancelled', `${what} cancelled`, unsent);
      const outcome = await this.once(url, method, headers, body, req);
      if ('failure' in outcome) {
        const f = outcome.failure;
        if (f.kind === 'cancelled') throw this.error('cancelled', `${what} cancelled`, { accepted: !idempotent });
        const code = errnoOf(f.cause);
        const notSent = code !== undefined && NOT_SENT.has(code);
        const retryable = f.kind === 'network' ? idempotent || notSent : idempotent && f.kind === 'timeout';
        if (retryable && attempt < retries) {
          await this.pause(this.backoff(attempt), req.signal, what, unsent);
          continue;
        }
        // A paid submit that was sent and then failed may have been taken (and charged): say so.
        const accepted = !idempotent && !notSent;
        if (f.kind === 'timeout') {
          throw this.error(
            'timeout',
            `no reply to ${what} within ${seconds(req.timeoutMs ?? this.settings.timeoutMs)}`,
            { accepted },
          );
        }
        if (f.kind === 'idle') {
          throw this.error(
            'timeout',
            `the reply to ${what} stopped arriving for ${seconds(req.idleTimeoutMs ?? this.settings.idleTimeoutMs)} (the server hangs mid-stream)`,
            { accepted },
          );
        }
        if (notSent) {
          throw this.error(
            'unreachable',
            `cannot reach ${safeOrigin(url)} (${code}); is the server running and the URL right?`,
            unsent,
          );
        }
        const detail = (f.cause as Error)?.message ?? String(f.cause);
        throw this.error('bad-reply', `the reply to ${what} was cut off or the connection failed (${code ?? detail})`, {
          accepted,
        });
      }
      const reply = outcome.reply;
      if ((reply.status >= 200 && reply.status < 300) || req.accept?.(reply.status)) return reply;
      const retryAfterMs = parseRetryAfter(reply.headers);
      // A paid submit is sent again only after a 429 (not taken); a 5xx or 408 may hide a job that runs and is charged.
      const transient =
        reply.status === 429 ||
        ((idempotent || req.free === true) &&
          (reply.status === 408 ||
            reply.status === 500 ||
            reply.status === 502 ||
            reply.status === 503 ||
            reply.status === 504));
      const message = excerpt(serverMessage(reply.body, reply.headers.get('content-type')), this.settings.secrets());
      // OpenAI answers an exhausted account with 429 `insufficient_quota`: a billing refusal, not a rate limit.
      if (reply.status === 429 && errorCode(reply.body) === 'insufficient_quota') {
        throw this.error(
          'billing',
          `${what}: HTTP 429 — the account has no quota or credits left${message ? `: ${message}` : ''}`,
          { status: 429, hint: "check the provider account's billing", ...unsent },
        );
      }
      if (transient && attempt < retries) {
        if (retryAfterMs !== undefined && retryAfterMs > this.settings.retry.maxRetryAfterMs) {
          throw this.error(
            'rate-limited',
            `${what}: HTTP ${reply.status}; the server asks to wait ${seconds(retryAfterMs)}, longer than the ${seconds(this.settings.retry.maxRetryAfterMs)} allowed${message ? `: ${message}` : ''}`,
            { status: reply.status, retryAfterMs, ...unsent },
          );
        }
        await this.pause(retryAfterMs ?? this.backoff(attempt), req.signal, what, unsent);
        continue;
      }
      throw this.statusError(reply.status, what, message, attempt + 1, retryAfterMs, !idempotent);
    }
  }

  /** GET/POST returning parsed JSON. */
  async json<T = unknown>(url: string, req: HttpRequest = {}): Promise<T> {
    const reply = await this.request(url, { ...req, headers: { accept: 'application/json', ...req.headers } });
    return reply.json<T>();
  }

  /**
   * The error for an HTTP status. `submit`: the status answers a paid submit itself (before any job id), so a
   * 4xx of NOT_TAKEN_STATUSES marks the error `notTaken`.
   */
  statusError(
    status: number,
    what: string,
    message: string,
    attempts: number,
    retryAfterMs?: number,
    submit = false,
  ): BackendError {
    const e = this.statusErrorOf(status, what, message, attempts, retryAfterMs);
    if (submit && NOT_TAKEN_STATUSES.has(status)) (e.details as { notTaken?: boolean }).notTaken = true;
    return e;
  }

  private statusErrorOf(
    status: number,
    what: string,
    message: string,
    attempts: number,
    retryAfterMs?: number,
  ): BackendError {
    const tail = message ? `: ${message}` : '';
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    if (status === 401 || status === 403) {
      return this.error('auth', `${what}: HTTP ${status} — the credentials were refused${tail}`, {
        status,
        hint: 'check the API key or password for this backend',
      });
    }
    if (status === 402)
      return this.error('billing', `${what}: HTTP 402 — the account has no credits left${tail}`, {
        status,
        hint: "check the provider account's billing",
      });
    if (status === 429)
      return this.error('rate-limited', `${what}: HTTP 429 (rate limited)${tries}${tail}`, { status, retryAfterMs });
    if (status >= 500) return this.error('server', `${what}: HTTP ${status} (server error)${tries}${tail}`, { status });
    if (status === 408) return this.error('timeout', `${what}: HTTP 408 (request timeout)${tries}${tail}`, { status });
    if (status === 413) return this.error('too-large', `${what}: HTTP 413 (request too large)${tail}`, { status });
    if (status === 404)
      return this.error('config', `${what}: HTTP 404 (not found; check the URL and model name)${tail}`, { status });
    return this.error('bad-request', `${what}: HTTP ${status}${tail}`, { status });
  }

  /** Refuses, before anything is sent, a credential header bound for a place src/shared/secrets.ts forbids. */
  private checkCredentials(url: string, headers: Record<string, string>): void {
    if (!Object.keys(headers).some(isCredentialHeader)) return;
    const why = credentialRefusal(url, { allowInsecureHttp: this.settings.allowInsecureHttp });
    if (why)
      throw this.error('config', `refusing to send the key: ${why}`, {
        hint: 'change the backend URL to https://',
        notTaken: true,
      });
  }

  private backoff(attempt: number): number {
    const { baseDelayMs, maxDelayMs } = this.settings.retry;
    const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    return Math.round(cap / 2 + (cap / 2) * this.settings.random());
  }

  private async pause(
    ms: number,
    signal: AbortSignal | undefined,
    what: string,
    details: { notTaken?: boolean } = {},
  ): Promise<void> {
    try {
      await this.settings.sleep(ms, signal);
    } catch {
      throw this.error('cancelled', `${what} cancelled`, details);
    }
    if (signal?.aborted) throw this.error('cancelled', `${what} cancelled`, details);
  }

  private async once(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | FormData | undefined,
    req: HttpRequest,
  ): Promise<{ reply: HttpReply } | { failure: Failure }> {
    const controller = new AbortController();
    let failure: Failure | undefined;
    const fail = (kind: Failure['kind']) => {
      if (!failure) failure = { kind };
      controller.abort();
    };
    const onAbort = () => fail('cancelled');
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = req.timeoutMs ?? this.settings.timeoutMs;
    const idleMs = req.idleTimeoutMs ?? this.settings.idleTimeoutMs;
    const maxBytes = req.maxBytes ?? this.settings.maxBytes;
    let timer: NodeJS.Timeout | undefined = setTimeout(() => fail('timeout'), timeoutMs);
    try {
      let res: Response;
      let current = url;
      let hopHeaders = headers;
      let hopMethod = method;
      let hopBody = body;
      for (let hop = 0; ; hop++) {
        this.checkCredentials(current, hopHeaders);
        try {
          res = await this.settings.fetch(current, {
            method: hopMethod,
            headers: hopHeaders,
            body: hopBody as RequestInit['body'],
            signal: controller.signal,
            redirect: 'manual',
          });
        } catch (e) {
          return { failure: failure ?? { kind: 'network', cause: e } };
        }
        const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
        if (location === null) break;
        await res.body?.cancel().catch(() => undefined);
        if (hop >= 5)
          throw this.error('bad-reply', `${req.what ?? method}: more than 5 redirects`, { status: res.status });
        let next: string;
        try {
          next = new URL(location, current).toString();
        } catch {
          throw this.error('bad-reply', `${req.what ?? method}: a redirect to something that is not a URL`, {
            status: res.status,
          });
        }
        // fetch drops Authorization across origins but not custom headers (BFL's x-key): drop them all here.
        if (!sameOrigin(current, next)) hopHeaders = withoutCredentials(hopHeaders);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && hopMethod === 'POST')) {
          hopMethod = 'GET';
          hopBody = undefined;
          hopHeaders = Object.fromEntries(
            Object.entries(hopHeaders).filter(([k]) => k.toLowerCase() !== 'content-type'),
          );
        }
        current = next;
      }
      clearTimeout(timer);
      const lengthHeader = res.headers.get('content-length');
      const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
      if (total !== undefined && total > maxBytes) {
        controller.abort();
        throw this.error(
          'too-large',
          `the reply to ${req.what ?? method} is ${total} bytes, over the ${maxBytes}-byte limit`,
          { status: res.status },
        );
      }
      const chunks: Uint8Array[] = [];
      let loaded = 0;
      if (res.body) {
        const reader = res.body.getReader();
        const arm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => fail('idle'), idleMs);
        };
        arm();
        try {
          for (;;) {
            // fetch's body is typed as a stream of `any` chunks; its chunks are bytes.
            const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
            if (done || !value) break;
            loaded += value.byteLength;
            if (loaded > maxBytes) {
              controller.abort();
              throw this.error('too-large', `the reply to ${req.what ?? method} is over the ${maxBytes}-byte limit`, {
                status: res.status,
              });
            }
            chunks.push(value);
            req.onDownload?.(loaded, total);
            arm();
          }
        } catch (e) {
          if (e instanceof BackendError) throw e;
          return { failure: failure ?? { kind: 'network', cause: e } };
        } finally {
          clearTimeout(timer);
        }
      }
      if (total !== undefined && loaded < total)
        return { failure: { kind: 'network', cause: new Error(`truncated: ${loaded} of ${total} bytes`) } };
      const bytes = concat(chunks, loaded);
      const self = this;
      const what = req.what ?? `${method} ${safePath(url)}`;
      return {
        reply: {
          status: res.status,
          headers: res.headers,
          body: bytes,
          url: current,
          text: () => Buffer.from(bytes).toString('utf8'),
          json<T>(): T {
            try {
              return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
            } catch {
              throw self.error(
                'bad-reply',
                `the reply to ${what} is not valid JSON (HTTP ${res.status}, ${bytes.byteLength} bytes)`,
                { status: res.status },
              );
            }
          },
        },
      };
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The path of a URL without its query (queries can hold tokens), for messages. */
export function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(bad URL)';
  }
}

export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(bad URL)';
  }
}

/** Joins a base URL and a path without doubling or dropping slashes. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}
