import type { ErrorCode } from '../shared/errorCodes';

export type { ErrorCode } from '../shared/errorCodes';

/**
 * A problem the user can fix (bad input, a damaged model file, a wrong setting).
 * The CLI prints `message` on one line and exits with 1; the extension shows it.
 * `code` is stable so callers and tests can tell errors apart without parsing text.
 */
export class RouteT2IError extends Error {
  override readonly name = 'RouteT2IError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Wrong command-line usage: the CLI prints it with the command's help and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Thrown where work stops because an AbortSignal fired. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(message = 'cancelled') {
    super(message);
  }
}

export function isUserError(e: unknown): e is RouteT2IError | UsageError | CancelledError {
  return e instanceof RouteT2IError || e instanceof UsageError || e instanceof CancelledError;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
