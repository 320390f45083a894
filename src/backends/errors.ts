import { RouteT2IError } from '../router/errors';
import { scrub } from '../shared/secrets';

/**
 * What went wrong talking to a generation backend. Stable, so the dispatcher can decide on retries
 * and fallbacks without parsing messages.
 */
export type BackendErrorCode =
  /** No reply within the time allowed, or a reply that stopped mid-stream. */
  | 'timeout'
  /** 429 after the bounded retries, or a Retry-After longer than we wait. */
  | 'rate-limited'
  /** 5xx after the bounded retries. */
  | 'server'
  /** A reply we cannot use: malformed JSON, a truncated body, a missing field, not an image. */
  | 'bad-reply'
  /** The provider refused the prompt or the image on content grounds. */
  | 'content-filter'
  /** Missing, wrong or insufficient credentials. */
  | 'auth'
  /** The account has no credits or quota left (OpenAI 429 insufficient_quota, Stability 402): not retried. */
  | 'billing'
  /** The run was cancelled through its AbortSignal. */
  | 'cancelled'
  /** The provider rejected the request itself (4xx other than the above). */
  | 'bad-request'
  /** The job ran and failed on the server. */
  | 'failed'
  /** Nothing listens at the address, or the name does not resolve. */
  | 'unreachable'
  /** The reply is larger than the size limit. */
  | 'too-large'
  /** The backend's configuration is wrong (unknown model, bad URL, bad workflow). */
  | 'config';

/**
 * A backend failure the user can act on. It extends RouteT2IError so the CLI prints it on one line
 * (exit 1). The message always starts with the backend's name and never contains a secret.
 */
export class BackendError extends RouteT2IError {
  declare readonly code: BackendErrorCode;
  constructor(
    code: BackendErrorCode,
    readonly backend: string,
    message: string,
    readonly details: {
      /** HTTP status, where one was received. */
      status?: number;
      /** The server accepted the job (money may have been spent) before this failure. */
      accepted?: boolean;
      /**
       * The provider positively did not take the job: the submit was never sent (no key, connection refused, cancelled
       * before sending) or it answered the submit itself with 400, 401, 402, 403, 404, 413, 415, 422 or 429 before any job
       * id. Only then may a paid call be released from the ledger or sent again (src/generation/metered.ts).
       */
      notTaken?: boolean;
      /** Retry-After the server asked for, in ms. */
      retryAfterMs?: number;
      hint?: string;
    } = {},
  ) {
    // URL passwords go whatever the caller forgot; keys are scrubbed where they are known (HttpClient.error).
    super(code, scrub(`${backend}: ${message}`, []), details.hint);
  }

  /** Whether a later attempt could succeed without any change by the user. */
  get transient(): boolean {
    return (
      this.code === 'timeout' || this.code === 'rate-limited' || this.code === 'server' || this.code === 'unreachable'
    );
  }
}

/** The answers to a submit that say the provider did not take the job (see `notTaken`). */
export const NOT_TAKEN_STATUSES: ReadonlySet<number> = new Set([400, 401, 402, 403, 404, 413, 415, 422, 429]);

/** Whether an error says the provider did not take the job; anything else may have been charged. */
export function notTaken(e: unknown): boolean {
  return e instanceof BackendError && e.details.notTaken === true;
}

/** Scrubs every form of every secret (and URL passwords) from `text`: the one scrubber, src/shared/secrets.ts. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return scrub(text, secrets);
}

/** A short, single-line excerpt of a server's error text, safe to show. */
export function excerpt(text: string, secrets: readonly (string | undefined)[], max = 240): string {
  const one = redact(text, secrets).replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
