// A backend whose every call is booked in the money ledger, for calibration (which calls backends directly rather than
// through the dispatcher): the estimate is reserved first — the monthly cap refuses a call that would pass it — and
// settled at the real cost, or at the estimate when the provider may have charged a failed call. No `vscode` here.
import { BackendError } from '../../backends/errors';
import type { Ledger } from '../../generation/ledger';
import type { Backend, GenerateOptions, GenerationRequest, GenerationResult } from '../../backends/types';
import { RouteT2IError } from '../../router/errors';

export function withLedger(backend: Backend, ledger: Ledger, note: string): Backend {
  return {
    name: backend.name,
    side: backend.side,
    model: backend.model,
    ...(backend.secretName ? { secretName: backend.secretName } : {}),
    estimateCost: (request) => backend.estimateCost(request),
    health: (options) => backend.health(options),
    async generate(request: GenerationRequest, options?: GenerateOptions): Promise<GenerationResult> {
      const estimate = backend.estimateCost(request);
      if (estimate === 0 && backend.side === 'edge') return backend.generate(request, options);
      const reservation = await ledger.reserve(estimate, { backend: backend.name, note });
      if (!reservation) {
        throw new RouteT2IError('money-cap', `${backend.name}: this month's money cap would be passed (a call may cost $${estimate.toFixed(3)})`, 'raise "routet2i.policy.monthlyCap" or wait for next month');
      }
      try {
        const result = await backend.generate(request, options);
        await ledger.settle(reservation.id, result.cost);
        return result;
      } catch (error) {
        const mayBeCharged = error instanceof BackendError ? error.details.accepted === true : true;
        if (mayBeCharged) await ledger.settle(reservation.id, estimate);
        else await ledger.release(reservation.id);
        throw error;
      }
    },
  };
}
