import { BackendError, notTaken } from '../backends/errors';
import type { Backend, GenerationProgress, GenerationRequest, GenerationResult } from '../backends/types';
import { RouteT2IError } from '../router/errors';
import type { MoneyLedger } from './ledgerStore';

/**
 * The one metered call: every paid generation (generate, collect, calibration, cascade escalation, Compare on Both,
 * the gateway) goes through `meteredGenerate`. The money rule, written once:
 *
 * A call is booked from the moment its request may have reached the provider until the provider has positively said
 * that it did not take the job (`notTaken` on the backend's error: a 400, 401, 402, 403, 404, 413, 415, 422 or 429
 * answer to the submit itself, before any job id, or a submit that was never sent). Everything else — a 5xx, an
 * unreadable or truncated reply, a reply without data, bytes that are not an image, an over-size reply, a failed
 * download after the job ran, a refusal after acceptance, a cancellation, a timeout, a crash, a failed settle — stays
 * booked, at the real cost when the provider reported one and at the estimate otherwise.
 *
 * The ledger is written before the request leaves (a reservation of the estimate, refused when it would pass the
 * monthly cap) and after it ends (settle or release). A settle that fails keeps the image and is retried a bounded
 * number of times; the reservation keeps counting meanwhile, and a later run settles it at its estimate when this
 * process is gone (Ledger.reconcile).
 */

export interface MeteredOptions {
  /** Required whenever the call may cost money (a cloud backend, or an estimate above zero). */
  ledger?: MoneyLedger;
  /** Written with the ledger entry: the prompt id, "calibration", "compare"… */
  note?: string;
  signal?: AbortSignal;
  onProgress?: (progress: GenerationProgress) => void;
  /** Called once the call is booked (or needs no booking) and about to be sent. */
  onStart?: () => void;
  /** Things the user must know that do not stop the call (a settle that failed, a booking kept). */
  onWarning?: (message: string) => void;
  /** Tries of a failed settle (default 3), and the pause before the first retry (doubles; default 100 ms). */
  settleTries?: number;
  settleDelayMs?: number;
}

export type MeteredOutcome =
  | {
      ok: true;
      result: GenerationResult;
      /** What this call costs: the provider's figure. */
      cost: number;
      estimate: number;
      /** The settle failed every try: the reservation still counts (at the estimate) and is reconciled later. */
      unsettled?: boolean;
    }
  | {
      ok: false;
      error: Error;
      /** What stays booked for this call: the estimate, or 0 when the provider did not take it. */
      cost: number;
      estimate: number;
      /** Whether the call stays booked (false only after a positive "not taken"). */
      booked: boolean;
    };

/** The monthly cap refuses this call; nothing was sent. */
export class MoneyCapError extends RouteT2IError {
  constructor(
    readonly backend: string,
    readonly estimate: number,
  ) {
    super(
      'money-cap',
      `${backend}: this month's money cap would be passed (a call may cost $${estimate.toFixed(3)})`,
      'raise the monthly cap ("monthlyCap" in the config file, "routet2i.policy.monthlyCap" in VS Code) or wait for next month',
    );
  }
}

/** Whether a call to this backend must be booked (the edge's free servers need no ledger). */
export function isMetered(backend: Backend, request: GenerationRequest): boolean {
  return backend.side === 'cloud' || backend.estimateCost(request) > 0;
}

/**
 * Sends one generation to one backend under the money rule. Resolves with the image and its cost, or with the error and
 * what stays booked for it; rejects only before anything was sent (MoneyCapError, a damaged or busy ledger, a missing
 * ledger for a paid call), so a rejection never hides money.
 */
export async function meteredGenerate(
  backend: Backend,
  request: GenerationRequest,
  options: MeteredOptions = {},
): Promise<MeteredOutcome> {
  const estimate = backend.estimateCost(request);
  if (!(Number.isFinite(estimate) && estimate >= 0))
    throw new RouteT2IError(
      'bad-estimate',
      `${backend.name}: the estimated cost must be a non-negative amount (got ${estimate})`,
    );
  const metered = isMetered(backend, request);
  const { ledger } = options;
  if (metered && !ledger)
    throw new RouteT2IError('no-ledger', `${backend.name}: a paid cloud backend needs the money ledger`);
  const reservation = metered ? await ledger!.reserve(estimate, { backend: backend.name, note: options.note }) : null;
  if (metered && !reservation) throw new MoneyCapError(backend.name, estimate);
  // From here on the request may reach the provider: every path below books or positively releases.
  let result: GenerationResult;
  try {
    options.onStart?.();
    result = await withDeadline(backend, request, options);
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    if (!reservation) return { ok: false, error, cost: 0, estimate, booked: false };
    if (notTaken(error)) {
      await keep(
        () => ledger!.release(reservation.id),
        options,
        `${backend.name}: the reservation of a call the provider did not take could not be released (it counts until \`routet2i ledger --reconcile\` settles it)`,
      );
      return { ok: false, error, cost: 0, estimate, booked: false };
    }
    await keep(
      () => ledger!.settle(reservation.id, estimate),
      options,
      `${backend.name}: the failed call could not be written to the ledger; its reservation of $${estimate.toFixed(3)} keeps counting`,
    );
    return { ok: false, error, cost: estimate, estimate, booked: true };
  }
  if (!reservation) return { ok: true, result, cost: result.cost, estimate };
  const settled = await keep(
    () => ledger!.settle(reservation.id, result.cost),
    options,
    `${backend.name}: the cost of a finished image ($${result.cost.toFixed(3)}) could not be written to the ledger; the image is kept and its reservation of $${estimate.toFixed(3)} keeps counting until a later run settles it`,
  );
  return settled
    ? { ok: true, result, cost: result.cost, estimate }
    : { ok: true, result, cost: result.cost, estimate, unsettled: true };
}

/** Runs a ledger write, retrying a bounded number of times; false (with a warning) when every try failed. */
async function keep(write: () => Promise<void>, options: MeteredOptions, warning: string): Promise<boolean> {
  const tries = Math.max(1, options.settleTries ?? 3);
  let delay = options.settleDelayMs ?? 100;
  for (let i = 1; ; i++) {
    try {
      await write();
      return true;
    } catch (e) {
      if (i >= tries) {
        options.onWarning?.(`${warning} (${(e as Error).message})`);
        return false;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }
}

/**
 * The backend's call, held to its `maxWaitMs` whatever the server does (a reply that trickles in byte by byte, a
 * client that does not hear the abort): at the deadline the call is aborted and fails as a timeout, which stays
 * booked since the job may still run.
 */
async function withDeadline(
  backend: Backend,
  request: GenerationRequest,
  options: MeteredOptions,
): Promise<GenerationResult> {
  const limit = backend.maxWaitMs;
  if (!(typeof limit === 'number' && limit > 0 && Number.isFinite(limit)))
    return backend.generate(request, { signal: options.signal, onProgress: options.onProgress });
  const controller = new AbortController();
  const outer = options.signal;
  const onOuter = () => controller.abort(outer!.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      controller.abort(new Error('maxWaitMs'));
      reject(
        new BackendError(
          'timeout',
          backend.name,
          `the generation did not finish within maxWaitMs (${Math.round(limit / 100) / 10} s)`,
          { accepted: true },
        ),
      );
    }, limit);
  });
  const call = backend.generate(request, { signal: controller.signal, onProgress: options.onProgress });
  call.catch(() => undefined); // its late failure after the deadline is already answered
  try {
    return await Promise.race([call, deadline]);
  } catch (e) {
    // The client saw our abort before the race did: the cause is the deadline, not the user.
    if (expired && !outer?.aborted) {
      throw new BackendError(
        'timeout',
        backend.name,
        `the generation did not finish within maxWaitMs (${Math.round(limit / 100) / 10} s)`,
        notTaken(e) ? { notTaken: true } : { accepted: true },
      );
    }
    throw e;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}
