import { SecretSet } from '../shared/secrets';
import { modelFor, staleCatalogWarning, type ModelEntry, type Provider } from './catalog';
import { BackendError } from './errors';
import { HttpClient, abortableSleep, type HttpSettings, type Sleep } from './http';
import { decodeBase64, isCompleteImage, sniffImage, type ImageKind } from './image';
import type {
  Backend,
  BackendConfig,
  BackendHealth,
  GenerateOptions,
  GenerationProgress,
  GenerationRequest,
  GenerationResult,
  SecretSource,
} from './types';

/** What a backend needs from its surroundings; tests inject fetch, sleep and the clock. */
export interface BackendDeps {
  secrets: SecretSource;
  /** HTTP overrides (fetch, sleep, random, retry policy). */
  http?: Partial<Omit<HttpSettings, 'backend' | 'secrets'>>;
  /** Waits between polls; defaults to a real, abortable sleep. */
  sleep?: Sleep;
  /** Milliseconds, monotonic. */
  clock?: () => number;
  /** Today's date, for model shutdown dates and the price table's age (tests pin it). */
  now?: () => Date;
  /** Where once-per-run warnings go (a stale price table); defaults to process.emitWarning. */
  warn?: (message: string) => void;
}

/** Reads one backend's config with a type, a default and a guard for every key; errors name the key. */
export class ConfigReader {
  constructor(
    private readonly backend: string,
    private readonly raw: BackendConfig,
  ) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new BackendError('config', backend, 'its configuration must be an object of settings');
    }
  }

  private bad(key: string, want: string): never {
    throw new BackendError(
      'config',
      this.backend,
      `setting "${key}" must be ${want} (got ${JSON.stringify(this.raw[key])?.slice(0, 80)})`,
    );
  }

  url(key: string, fallback: string | undefined): string {
    const v = this.raw[key] ?? fallback;
    if (v === undefined) {
      throw new BackendError(
        'config',
        this.backend,
        `no server URL; set "${key}" in the config file or pass --edge-url/--cloud-url`,
      );
    }
    if (typeof v !== 'string') this.bad(key, 'an http(s) URL');
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      this.bad(key, 'an http(s) URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') this.bad(key, 'an http(s) URL');
    if (u.username || u.password)
      this.bad(key, 'a URL without credentials (put passwords in the secret store or environment)');
    return v.replace(/\/+$/, '');
  }

  string(key: string, fallback: string): string;
  string(key: string, fallback?: string): string | undefined;
  string(key: string, fallback?: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || v.trim() === '') this.bad(key, 'a non-empty string');
    return v;
  }

  number(key: string, fallback: number, min: number, max: number): number;
  number(key: string, fallback: number | undefined, min: number, max: number): number | undefined;
  number(key: string, fallback: number | undefined, min: number, max: number): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      this.bad(key, `a number from ${min} to ${max}`);
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.bad(key, 'true or false');
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.bad(key, `one of ${allowed.join(', ')}`);
    return v as T;
  }

  object(key: string): Record<string, unknown> | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.bad(key, 'an object');
    return v as Record<string, unknown>;
  }

  /**
   * A backend's extra `input` object, refusing the keys that change how many images or pixels are bought: RouteT2I
   * buys one image of the request's size per call, and that is what the ledger reserves.
   */
  input(key: string, bought: readonly string[]): Record<string, unknown> {
    const o = this.object(key) ?? {};
    const wrong = bought.filter((k) => k in o);
    if (wrong.length) {
      throw new BackendError(
        'config',
        this.backend,
        `setting "${key}" must not set ${wrong.map((k) => `"${k}"`).join(', ')}: it changes how many images or pixels are bought, and the ledger books one image of the requested size per call`,
        {
          hint: "remove it; set the size with --size or the prompt file's front matter",
        },
      );
    }
    return o;
  }

  side(fallback: 'edge' | 'cloud'): 'edge' | 'cloud' {
    return this.oneOf('side', ['edge', 'cloud'] as const, fallback);
  }
}

/** Settings every backend shares, read once with their guards. */
export interface CommonSettings {
  url: string;
  timeoutMs: number;
  idleTimeoutMs: number;
  maxWaitMs: number;
  pollIntervalMs: number;
  retries: number;
  /** First backoff between retries (doubles each time, capped at 8 s); Retry-After wins over it. */
  retryDelayMs: number;
  price: number | undefined;
  /** Send this backend's key over plain http to a non-loopback host (off: only https or loopback). */
  allowInsecureHttp: boolean;
}

export function commonSettings(
  r: ConfigReader,
  defaults: { url?: string; timeoutMs?: number; maxWaitMs?: number; pollIntervalMs?: number },
): CommonSettings {
  return {
    url: r.url('url', defaults.url),
    timeoutMs: r.number('timeoutMs', defaults.timeoutMs ?? 60_000, 1, 3_600_000),
    idleTimeoutMs: r.number('idleTimeoutMs', 120_000, 1, 3_600_000),
    maxWaitMs: r.number('maxWaitMs', defaults.maxWaitMs ?? 600_000, 1, 24 * 3_600_000),
    pollIntervalMs: r.number('pollIntervalMs', defaults.pollIntervalMs ?? 1000, 1, 600_000),
    retries: r.number('retries', 3, 0, 10),
    retryDelayMs: r.number('retryDelayMs', 500, 0, 60_000),
    price: r.number('price', undefined, 0, 1000),
    allowInsecureHttp: r.boolean('allowInsecureHttp', false),
  };
}

export function randomSeed(): number {
  // 32 bits: every backend here accepts it (Stability's limit is 4294967294).
  return Math.floor(Math.random() * 4_294_967_294);
}

/** Shared machinery: lazily read keys (scrubbed from every message), image download and checks, polling. */
export abstract class BaseBackend implements Backend {
  abstract readonly name: string;
  abstract readonly side: 'edge' | 'cloud';
  abstract readonly model: string;
  readonly secretName?: string;
  protected readonly http: HttpClient;
  protected readonly settings: CommonSettings;
  private readonly secretValues = new SecretSet();
  protected readonly sleep: Sleep;
  protected readonly clock: () => number;

  constructor(
    backend: string,
    protected readonly config: BackendConfig,
    protected readonly deps: BackendDeps,
    defaults: { url?: string; timeoutMs?: number; maxWaitMs?: number; pollIntervalMs?: number },
  ) {
    const reader = new ConfigReader(backend, config);
    this.settings = commonSettings(reader, defaults);
    this.http = new HttpClient({
      ...deps.http,
      backend,
      secrets: () => this.secretValues.list(),
      allowInsecureHttp: this.settings.allowInsecureHttp,
      timeoutMs: this.settings.timeoutMs,
      idleTimeoutMs: this.settings.idleTimeoutMs,
      retry: {
        baseDelayMs: this.settings.retryDelayMs,
        ...deps.http?.retry,
        retries: this.settings.retries,
      } as HttpSettings['retry'],
    });
    this.sleep = deps.sleep ?? deps.http?.sleep ?? abortableSleep;
    this.clock = deps.clock ?? (() => performance.now());
  }

  protected today(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /**
   * The catalog's entry for this backend's model: refuses a model past its shutdown date or one with no price,
   * and gives the once-per-run warning when the table is old.
   */
  protected catalogEntry(provider: Provider, id: string): ModelEntry | undefined {
    const now = this.today();
    const stale = staleCatalogWarning(now);
    if (stale) (this.deps.warn ?? ((m: string) => process.emitWarning(m)))(stale);
    return modelFor(provider, id, { price: this.settings.price, now, backend: this.name ?? provider });
  }

  /** The longest one generate() may take in all; the metered call (src/generation) holds it whatever the server does. */
  get maxWaitMs(): number {
    return this.settings.maxWaitMs;
  }

  protected reader(): ConfigReader {
    return new ConfigReader(this.name, this.config);
  }

  abstract generate(request: GenerationRequest, options?: GenerateOptions): Promise<GenerationResult>;
  abstract estimateCost(request: GenerationRequest): number;
  abstract health(options?: { signal?: AbortSignal }): Promise<BackendHealth>;

  /** A BackendError naming this backend, its message scrubbed of every secret read so far. */
  protected fail(
    code: ConstructorParameters<typeof BackendError>[0],
    message: string,
    details?: ConstructorParameters<typeof BackendError>[3],
  ): BackendError {
    return this.http.error(code, message, details);
  }

  /** Reads a secret; remembers its value so no message can ever show it. */
  protected async secret(name: string): Promise<string | undefined> {
    const v = await this.deps.secrets.get(name);
    if (v === undefined || v === '') return undefined;
    const value = v.trim();
    this.secretValues.add(value);
    return value;
  }

  /** Another form of a secret (an encoded header value) that must be scrubbed as well. */
  protected alsoSecret(value: string): void {
    this.secretValues.add(value);
  }

  protected async requireSecret(name: string): Promise<string> {
    const v = await this.secret(name);
    if (v === undefined) {
      // Nothing was sent: the provider cannot have taken a job.
      throw this.fail(
        'auth',
        `no API key: set ${name} in the environment (CLI) or store it with "RouteT2I: Set API Key" (VS Code)`,
        { notTaken: true },
      );
    }
    return v;
  }

  /** Checks that bytes are a whole image; a truncated or non-image reply is a bad-reply error. */
  protected checkImage(bytes: Uint8Array, what: string): ImageKind {
    const kind = sniffImage(bytes);
    if (!kind) throw this.fail('bad-reply', `${what} is not an image (${bytes.byteLength} bytes)`);
    if (!isCompleteImage(bytes, kind))
      throw this.fail('bad-reply', `${what} is a truncated ${kind.ext.toUpperCase()} (${bytes.byteLength} bytes)`);
    return kind;
  }

  /** Downloads a finished image. Auth headers go only where the caller passes them (never to a CDN). */
  protected async download(
    url: string,
    options: {
      signal?: AbortSignal;
      onProgress?: (p: GenerationProgress) => void;
      headers?: Record<string, string>;
      what?: string;
    },
  ): Promise<{ bytes: Uint8Array; kind: ImageKind }> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw this.fail('bad-reply', `the image address in the reply is not a URL`);
    }
    if (parsed.protocol === 'data:') {
      const bytes = decodeBase64(url);
      if (!bytes) throw this.fail('bad-reply', 'the image data URI is not base64');
      return { bytes, kind: this.checkImage(bytes, 'the image') };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw this.fail('bad-reply', `the image address uses ${parsed.protocol}, not http(s)`);
    }
    const reply = await this.http.request(url, {
      headers: { accept: 'image/*', ...options.headers },
      signal: options.signal,
      what: options.what ?? 'image download',
      onDownload: options.onProgress
        ? (loaded, total) => options.onProgress!({ status: 'downloading', loaded, total })
        : undefined,
    });
    return { bytes: reply.body, kind: this.checkImage(reply.body, 'the downloaded image') };
  }

  /**
   * Calls `step` until it returns a value, sleeping `pollIntervalMs` between calls; fails with a timeout
   * after `maxWaitMs` and with `cancelled` when the signal fires.
   */
  protected async pollUntil<T>(
    what: string,
    signal: AbortSignal | undefined,
    step: (attempt: number) => Promise<T | undefined>,
  ): Promise<T> {
    const deadline = this.clock() + this.settings.maxWaitMs;
    for (let attempt = 0; ; attempt++) {
      const value = await step(attempt);
      if (value !== undefined) return value;
      if (this.clock() >= deadline) {
        throw this.fail('timeout', `${what} did not finish within ${Math.round(this.settings.maxWaitMs / 1000)} s`, {
          accepted: true,
        });
      }
      try {
        await this.sleep(this.settings.pollIntervalMs, signal);
      } catch {
        throw this.fail('cancelled', `${what} cancelled`, { accepted: true });
      }
      if (signal?.aborted) throw this.fail('cancelled', `${what} cancelled`, { accepted: true });
    }
  }

  /** A reply field that must be there; otherwise a bad-reply error naming it. */
  protected need<T>(value: T | undefined | null, what: string): T {
    if (value === undefined || value === null || value === '') throw this.fail('bad-reply', `the reply has no ${what}`);
    return value;
  }

  protected price(fallback: number): number {
    return this.settings.price ?? fallback;
  }
}

/** A short JSON-ish description of a value's type, for messages about unexpected replies. */
export function shape(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : typeof v;
}
