import { CancelledError, RouteT2IError } from '../router/errors';
import {
  calibrateAlpha,
  decideEscalation,
  escalationAllowance,
  explainEscalation,
  mayEscalate,
  weightedQuality,
  type CascadeTally,
  type EscalationVerdict,
  type FallbackPolicy,
  type GenerationMode,
  type PolicyConfig,
} from '../router/policy';
import type { Normalisation } from '../router/prs';
import type { Prediction, Scores, Side } from '../router/types';
import { BackendError } from '../backends/errors';
import type { MoneyLedger } from './ledgerStore';
import { MoneyCapError, meteredGenerate, type MeteredOutcome } from './metered';
import { planPrompt, type PlanEntry } from './plan';

export type { PlanEntry, PlannedAction } from './plan';
import type {
  Backend,
  GenerationProgress,
  GenerationRequest,
  GenerationResult,
  QualityScorer,
} from '../backends/types';

/**
 * The cost policy in force: which side renders each prompt, and what money may be spent. Decisions come
 * from the pure policy in src/router/policy.ts; this module carries them out against real backends, with
 * the ledger as the only authority on money (a reservation before every cloud call).
 */

export interface DispatchItem {
  id: string;
  request: GenerationRequest;
  /** The predictor's output for the prompt; needed by predict and hybrid, and by cascade's default bar. */
  prediction?: Prediction;
  /**
   * A side the user chose for this prompt (a `# route:` line): the policy does not decide it, the ledger still caps it,
   * and it renders there or nowhere (no fallback to the other side).
   */
  force?: { side: Side; why: string };
  /** A backend this prompt's file names (front matter `backend:`) in place of the run's one on that side. */
  backends?: { edge?: Backend; cloud?: Backend };
}

export interface DispatchConfig {
  mode: GenerationMode;
  policy: PolicyConfig;
  edge?: Backend;
  cloud?: Backend;
  /** Required whenever a cloud backend is set: it enforces the monthly cap. */
  ledger?: MoneyLedger;
  /** Measures images for cascade; without it cascade keeps edge images unmeasured, and says so. */
  scorer?: QualityScorer;
  /** The predictor's μ, Γ and metric weights (for measured quality and measured PRS). */
  normalisation?: Normalisation;
  /** Recent PRS values that calibrate α with the batch (the model's reference sample for a cold start). */
  history?: readonly number[];
  /** Cascade bar: a weighted quality in [0,1], or null to compare with the predicted cloud scores at α. */
  cascadeThreshold: number | null;
  /** Hybrid: cascade where |PRS − α| ≤ band. */
  hybridBand: number;
  fallback: FallbackPolicy;
  concurrency?: number;
}

export interface Plan {
  mode: GenerationMode;
  alpha: number;
  entries: PlanEntry[];
  /** Sum of the entries' expected cost (cascade counted at zero, its bound in `maxCost`). */
  estimatedCost: number;
  maxCost: number;
  /** How many cloud calls this batch's cascades may make at most under the cloud share (bounds `maxCost`). */
  escalationBudget: number;
}

export interface Attempt {
  side: Side;
  backend: string;
  ok: boolean;
  cost: number;
  estimate: number;
  error?: { code: string; message: string };
  result?: GenerationResult;
  measured?: Scores;
  /** Why this attempt was made ("planned", "fallback", "escalation"). */
  role: 'planned' | 'fallback' | 'escalation';
  /** A failed call that stays booked (the provider may have charged it): `cost` holds what was booked. */
  booked?: boolean;
}

export interface DispatchOutcome {
  id: string;
  request: GenerationRequest;
  plan: PlanEntry;
  /** Side of the final image; undefined when none was made. */
  route?: Side;
  /** Why the final image comes from where it does. */
  why: string;
  result?: GenerationResult;
  /** Measured scores of the final image, where a scorer ran. */
  measured?: Scores;
  escalation?: EscalationVerdict;
  attempts: Attempt[];
  /** Money spent on this prompt (all attempts). */
  cost: number;
  error?: Error;
  /** Set when cascade could not measure (no scorer). */
  unmeasured?: boolean;
}

export type DispatchEvent =
  | { type: 'start'; id: string; side: Side; backend: string; role: Attempt['role'] }
  | { type: 'progress'; id: string; side: Side; progress: GenerationProgress }
  | { type: 'scored'; id: string; side: Side; quality: number | undefined }
  | { type: 'escalate'; id: string; why: string }
  | { type: 'fallback'; id: string; from: Side; to: Side; error: string }
  | { type: 'warning'; message: string }
  | { type: 'done'; outcome: DispatchOutcome };

class MoneyCap extends Error {}

function errorInfo(e: unknown): { code: string; message: string } {
  if (e instanceof RouteT2IError) return { code: e.code, message: e.message };
  return { code: 'error', message: (e as Error)?.message ?? String(e) };
}

/** Errors after which the other side must not stand in: the user stopped, or a provider refused the content. */
function noFallback(e: unknown): boolean {
  return (
    e instanceof CancelledError ||
    (e instanceof BackendError && (e.code === 'cancelled' || e.code === 'content-filter'))
  );
}

export class Dispatcher {
  private warnedNoScorer = false;

  constructor(private readonly config: DispatchConfig) {
    if (!(config.hybridBand >= 0 && config.hybridBand <= 0.5))
      throw new RouteT2IError('bad-policy', 'the hybrid band must be from 0 to 0.5');
    if (config.cascadeThreshold !== null && !(config.cascadeThreshold >= 0 && config.cascadeThreshold <= 1))
      throw new RouteT2IError('bad-policy', 'the cascade threshold must be from 0 to 1');
  }

  /**
   * Decides, with no network call, what each prompt will do and what it may cost. `committed` is what
   * this month already holds (spent + reserved), so the plan shows where the cap will stop cloud calls;
   * `cascade` is this month's cascade tally (none: the batch is counted on its own).
   */
  plan(items: readonly DispatchItem[], committed = 0, cascade: CascadeTally = { cascaded: 0, escalated: 0 }): Plan {
    const { mode, policy } = this.config;
    const missing = items.find((i) => !i.prediction);
    if (mode !== 'cascade' && missing)
      throw new RouteT2IError(
        'no-prediction',
        `prompt ${missing.id}: ${mode} mode needs a prediction for every prompt`,
      );
    const prs = items.filter((i) => i.prediction).map((i) => i.prediction!.prs);
    const alpha = calibrateAlpha(
      this.config.history?.length ? [...this.config.history, ...prs] : prs,
      policy.cloudShare,
    );
    let money = committed;
    let estimatedCost = 0;
    let maxCost = 0;
    const cascadePrices: number[] = [];
    const entries = items.map((item): PlanEntry => {
      const { edge, cloud } = this.sides(item);
      const price = cloud ? cloud.estimateCost(item.request) : 0;
      const entry = planPrompt(
        item,
        { edge: !!edge, cloud: !!cloud, cloudPrice: price },
        { mode, policy, alpha, hybridBand: this.config.hybridBand, committed: money },
      );
      money += entry.estimate;
      estimatedCost += entry.estimate;
      if (entry.action === 'cascade') cascadePrices.push(price);
      else maxCost += entry.maxEstimate;
      return entry;
    });
    // At most `escalationBudget` cascades may escalate: the dearest of them bound the cost.
    const escalationBudget = escalationAllowance(policy.cloudShare, cascade, cascadePrices.length);
    maxCost += cascadePrices
      .sort((a, b) => b - a)
      .slice(0, escalationBudget)
      .reduce((a, b) => a + b, 0);
    return { mode, alpha, entries, estimatedCost: round(estimatedCost), maxCost: round(maxCost), escalationBudget };
  }

  /**
   * Generates every item where the plan sends it. `onOutcome` sees each finished prompt (to save it at
   * once); the promise resolves with all outcomes. A cancelled run throws CancelledError after the
   * outcomes finished so far have been reported.
   */
  async run(
    items: readonly DispatchItem[],
    options: {
      signal?: AbortSignal;
      onEvent?: (e: DispatchEvent) => void;
      onOutcome?: (o: DispatchOutcome) => Promise<void> | void;
      onPlan?: (plan: Plan) => void;
    } = {},
  ): Promise<DispatchOutcome[]> {
    const { ledger, policy } = this.config;
    // Planning needs no ledger (a dry run); spending does.
    for (const cloud of new Set([this.config.cloud, ...items.map((i) => i.backends?.cloud)])) {
      if (
        cloud &&
        !ledger &&
        (policy.monthlyCap !== null || cloud.estimateCost({ prompt: '', width: 1024, height: 1024 }) > 0)
      ) {
        throw new RouteT2IError('no-ledger', `${cloud.name}: a paid cloud backend needs the money ledger`);
      }
    }
    const status = this.config.ledger ? await this.config.ledger.status() : undefined;
    const plan = this.plan(items, status ? status.spent + status.reserved : 0, status?.cascade);
    options.onPlan?.(plan);
    // Without a ledger (a free cloud, no cap) the cascade share is counted over this batch alone.
    const state: CascadeTally = { cascaded: 0, escalated: 0 };
    const outcomes: DispatchOutcome[] = new Array(items.length);
    let next = 0;
    const concurrency = Math.max(1, Math.min(this.config.concurrency ?? 1, items.length || 1));
    const workers = Array.from({ length: concurrency }, async () => {
      while (next < items.length && !options.signal?.aborted) {
        const i = next++;
        const outcome = await this.one(items[i]!, plan.entries[i]!, plan.alpha, state, options);
        outcomes[i] = outcome;
        options.onEvent?.({ type: 'done', outcome });
        await options.onOutcome?.(outcome);
      }
    });
    await Promise.all(workers);
    if (options.signal?.aborted) throw new CancelledError('generation cancelled');
    return outcomes;
  }

  private async one(
    item: DispatchItem,
    entry: PlanEntry,
    alpha: number,
    state: CascadeTally,
    options: { signal?: AbortSignal; onEvent?: (e: DispatchEvent) => void },
  ): Promise<DispatchOutcome> {
    const out: DispatchOutcome = {
      id: item.id,
      request: item.request,
      plan: entry,
      why: entry.why,
      attempts: [],
      cost: 0,
    };
    const emit = options.onEvent ?? (() => undefined);
    // A prompt the user sent to one side (a `# route:` line, Generate on Edge/Cloud) goes there or nowhere: no fallback,
    // and no edge render when the cap stops its cloud call. The other side may still be set, for the plan's words.
    const fb = item.force ? 'none' : this.config.fallback;
    const sides = this.sides(item);
    try {
      if (entry.action === 'cloud') {
        try {
          out.result = await this.attempt('cloud', item, out, 'planned', options);
          out.route = 'cloud';
        } catch (e) {
          if (e instanceof MoneyCap) {
            if (item.force)
              throw new RouteT2IError(
                'money-cap',
                `${item.force.why} asks for the cloud, but the monthly money cap is reached`,
              );
            if (!sides.edge)
              throw new RouteT2IError(
                'money-cap',
                'the monthly money cap is reached and no edge backend is configured',
              );
            out.why = `${entry.why}; but the monthly money cap is reached, so the edge renders it`;
            out.result = await this.attempt('edge', item, out, 'fallback', options);
            out.route = 'edge';
          } else if (!noFallback(e) && (fb === 'edge' || fb === 'both') && sides.edge) {
            emit({ type: 'fallback', id: item.id, from: 'cloud', to: 'edge', error: errorInfo(e).message });
            out.why = `${entry.why}; the cloud failed (${errorInfo(e).message}), so the edge rendered it`;
            out.result = await this.attempt('edge', item, out, 'fallback', options);
            out.route = 'edge';
          } else throw e;
        }
        return await this.measureFinal(out, item, options);
      }
      // Edge first: a planned edge route, or the first step of a cascade.
      let edge: GenerationResult;
      try {
        edge = await this.attempt('edge', item, out, 'planned', options);
      } catch (e) {
        if (!noFallback(e) && (fb === 'cloud' || fb === 'both') && sides.cloud) {
          emit({ type: 'fallback', id: item.id, from: 'edge', to: 'cloud', error: errorInfo(e).message });
          try {
            out.result = await this.attempt('cloud', item, out, 'fallback', options);
          } catch (e2) {
            if (e2 instanceof MoneyCap)
              throw new RouteT2IError(
                'money-cap',
                `the edge failed (${errorInfo(e).message}) and the monthly money cap leaves nothing for the cloud`,
              );
            throw e2;
          }
          out.route = 'cloud';
          out.why = `${entry.why}; the edge failed (${errorInfo(e).message}), so the cloud rendered it`;
          return await this.measureFinal(out, item, options);
        }
        throw e;
      }
      out.result = edge;
      out.route = 'edge';
      if (entry.action !== 'cascade') return await this.measureFinal(out, item, options);
      return await this.cascade(out, item, edge, alpha, state, options);
    } catch (e) {
      out.error = e as Error;
      out.result = undefined;
      out.route = undefined;
      out.why = `no image: ${errorInfo(e).message}`;
      return out;
    }
  }

  private async cascade(
    out: DispatchOutcome,
    item: DispatchItem,
    edge: GenerationResult,
    alpha: number,
    state: CascadeTally,
    options: { signal?: AbortSignal; onEvent?: (e: DispatchEvent) => void },
  ): Promise<DispatchOutcome> {
    const emit = options.onEvent ?? (() => undefined);
    if (!this.config.scorer) {
      if (!this.warnedNoScorer) {
        this.warnedNoScorer = true;
        emit({
          type: 'warning',
          message:
            'no metric scorer is available, so cascade cannot measure edge images: they are kept as rendered and never escalated (pass --scorer clip, with the CLIP model downloaded or --models-dir, to measure them)',
        });
      }
      out.unmeasured = true;
      out.why = `${out.plan.why}; kept the edge image unmeasured (no metric scorer available)`;
      return out;
    }
    const measured = await this.score(edge, item, 'edge', options);
    out.measured = measured;
    out.attempts[out.attempts.length - 1]!.measured = measured;
    const verdict = decideEscalation(measured, {
      threshold: this.config.cascadeThreshold,
      alpha,
      weights: this.config.normalisation?.weights ?? {},
      predictedCloud: item.prediction?.cloud,
      normalisation: this.config.normalisation,
    });
    if (!verdict) {
      out.why = `${out.plan.why}; the scorer returned no usable metric, kept the edge image`;
      return out;
    }
    out.escalation = verdict;
    const cloud = this.sides(item).cloud;
    const wants = verdict.escalate && !!cloud;
    const share = this.config.policy.cloudShare;
    const { allowed, tally } = await this.countCascade(state, wants);
    if (!verdict.escalate) {
      out.why = explainEscalation(verdict);
      return out;
    }
    if (!cloud) {
      out.why = `${explainEscalation(verdict)}, but no cloud backend is configured`;
      return out;
    }
    if (!allowed) {
      const period = this.config.ledger ? 'this month' : 'this batch';
      out.why = `${explainEscalation(verdict)}, but the cloud share budget is used up (${tally.escalated} of ${tally.cascaded} cascaded prompts ${period} escalated, share ${Math.round(share * 100)}%)`;
      return out;
    }
    emit({ type: 'escalate', id: item.id, why: explainEscalation(verdict) });
    try {
      out.result = await this.attempt('cloud', item, out, 'escalation', options);
      out.route = 'cloud';
      out.why = `${explainEscalation(verdict)}: escalated to the cloud`;
      out.measured = await this.score(out.result, item, 'cloud', options);
      out.attempts[out.attempts.length - 1]!.measured = out.measured;
    } catch (e) {
      // No cloud image came of it: the escalation does not count against the share.
      await this.uncountEscalation(state);
      if (e instanceof MoneyCap) {
        out.why = `${explainEscalation(verdict)}, but the monthly money cap is reached: kept the edge image`;
      } else if (noFallback(e) && !(e instanceof BackendError && e.code === 'content-filter')) {
        throw e;
      } else {
        out.why = `${explainEscalation(verdict)}; the cloud failed (${errorInfo(e).message}): kept the edge image`;
      }
      out.result = edge;
      out.route = 'edge';
      out.measured = out.attempts.find((a) => a.side === 'edge' && a.ok)?.measured;
    }
    return out;
  }

  /** The backends that serve one prompt: its file's own where it names one, else the run's. */
  private sides(item: DispatchItem): { edge?: Backend; cloud?: Backend } {
    return { edge: item.backends?.edge ?? this.config.edge, cloud: item.backends?.cloud ?? this.config.cloud };
  }

  /** Counts a measured cascade, in the ledger's month where there is one, and says whether it may escalate. */
  private async countCascade(batch: CascadeTally, wants: boolean): Promise<{ allowed: boolean; tally: CascadeTally }> {
    const share = this.config.policy.cloudShare;
    if (this.config.ledger) return this.config.ledger.countCascade(share, wants);
    batch.cascaded++;
    const allowed = wants && mayEscalate(share, batch);
    if (allowed) batch.escalated++;
    return { allowed, tally: { ...batch } };
  }

  private async uncountEscalation(batch: CascadeTally): Promise<void> {
    if (this.config.ledger) await this.config.ledger.uncountEscalation();
    else if (batch.escalated > 0) batch.escalated--;
  }

  /** Scores a final image for the sidecar where a scorer exists (learning from every generation). */
  private async measureFinal(
    out: DispatchOutcome,
    item: DispatchItem,
    options: { signal?: AbortSignal; onEvent?: (e: DispatchEvent) => void },
  ): Promise<DispatchOutcome> {
    if (this.config.scorer && out.result && out.route) {
      try {
        out.measured = await this.score(out.result, item, out.route, options);
        out.attempts[out.attempts.length - 1]!.measured = out.measured;
      } catch (e) {
        if (options.signal?.aborted) throw e;
        options.onEvent?.({ type: 'warning', message: `prompt ${item.id}: scoring failed (${errorInfo(e).message})` });
      }
    }
    return out;
  }

  private async score(
    result: GenerationResult,
    item: DispatchItem,
    side: Side,
    options: { signal?: AbortSignal; onEvent?: (e: DispatchEvent) => void },
  ): Promise<Scores> {
    const scores = await this.config.scorer!(result.image, item.request.prompt, { signal: options.signal });
    options.onEvent?.({
      type: 'scored',
      id: item.id,
      side,
      quality: weightedQuality(scores, this.config.normalisation?.weights ?? {}),
    });
    return scores;
  }

  /**
   * One call to one side, through the one metered call (metered.ts): MoneyCap when the cap refuses it; a failure
   * that stays booked is recorded on the attempt (and said on the console), then thrown for the fallback to handle.
   */
  private async attempt(
    side: Side,
    item: DispatchItem,
    out: DispatchOutcome,
    role: Attempt['role'],
    options: { signal?: AbortSignal; onEvent?: (e: DispatchEvent) => void },
  ): Promise<GenerationResult> {
    const backend = this.sides(item)[side];
    if (!backend)
      throw new RouteT2IError(
        'no-backend',
        `no ${side} backend is configured`,
        side === 'edge'
          ? 'pass --edge NAME or set "edge" in the config file'
          : 'pass --cloud NAME or set "cloud" in the config file',
      );
    const estimate = backend.estimateCost(item.request);
    const emit = options.onEvent ?? (() => undefined);
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      emit({ type: 'start', id: item.id, side, backend: backend.name, role });
    };
    let metered: MeteredOutcome;
    try {
      metered = await meteredGenerate(backend, item.request, {
        ledger: this.config.ledger,
        note: item.id,
        signal: options.signal,
        onStart: start,
        onProgress: (progress) => emit({ type: 'progress', id: item.id, side, progress }),
        onWarning: (message) => emit({ type: 'warning', message: `prompt ${item.id}: ${message}` }),
      });
    } catch (e) {
      if (e instanceof MoneyCapError) throw new MoneyCap();
      throw e;
    }
    const attempt: Attempt = { side, backend: backend.name, ok: metered.ok, cost: metered.cost, estimate, role };
    out.attempts.push(attempt);
    out.cost = round(out.cost + metered.cost);
    if (metered.ok) {
      attempt.result = metered.result;
      return metered.result;
    }
    attempt.error = errorInfo(metered.error);
    if (metered.booked && metered.cost > 0) {
      attempt.booked = true;
      emit({
        type: 'warning',
        message: `prompt ${item.id}: ${backend.name} may have charged for the failed call (${attempt.error.message}); it stays booked at $${metered.cost.toFixed(3)}`,
      });
    }
    throw metered.error;
  }
}

function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
