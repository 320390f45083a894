import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BackendError } from '../backends/errors';
import type { Backend, GenerationRequest } from '../backends/types';
import { Dispatcher, type DispatchItem, type DispatchOutcome } from '../generation/dispatcher';
import { forKey, type GatewayStore, type KeyLimit } from '../generation/ledgerStore';
import { monthView } from '../generation/monthView';
import type { RequestDefaults } from '../generation/request';
import { CancelledError, RouteT2IError } from '../router/errors';
import {
  calibrateAlpha,
  decideRoute,
  explainDecision,
  PrsHistory,
  type FallbackPolicy,
  type GenerationMode,
  type PolicyConfig,
} from '../router/policy';
import type { Predictor } from '../router/predictor';
import type { Side } from '../router/types';
import type { GatewayKey, KeyRing } from './keys';
import { GatewayMetrics } from './metrics';
import { ApiError, invalid, parseImagesRequest } from './openai';

/**
 * The gateway: HTTP in front of the generation layer. It keeps nothing between requests — money, the PRS history for
 * α, the cascade tally and each key's spending are in the store (a JSON ledger on one machine, PostgreSQL for
 * replicas) — and every paid call goes through the dispatcher's metered call, so the money rule is the CLI's.
 *
 *   POST /v1/images/generations   OpenAI Images in, OpenAI Images out (b64_json), plus a `routet2i` object
 *   POST /v1/route                the prediction and route of one prompt or a list (as `routet2i route --json`)
 *   GET  /v1/ledger               this month (as `routet2i ledger --json`), and the caller's key
 *   GET  /v1/policy               the policy and α's PRS history, for an editor's verdicts
 *   GET  /healthz, GET /metrics   liveness (the store answers) and Prometheus text
 */

export interface GatewayOptions {
  store: GatewayStore;
  predictor: Predictor;
  mode: GenerationMode;
  policy: PolicyConfig;
  edge?: Backend;
  cloud?: Backend;
  /** Every backend a request may name in `model`, by name (edge and cloud included). */
  named: ReadonlyMap<string, Backend>;
  fallback: FallbackPolicy;
  cascadeThreshold: number | null;
  hybridBand: number;
  defaults: RequestDefaults;
  /** Without keys the gateway is open (keep it on loopback then). */
  keys?: KeyRing;
  /** One line per request; never a key. */
  log?: (line: string) => void;
  maxBodyBytes?: number;
  /** How many recent PRS values calibrate α. */
  historySize?: number;
  /** How often the PRS history is re-read from the store. */
  historyRefreshMs?: number;
}

export interface Gateway {
  server: Server;
  metrics: GatewayMetrics;
  /** Stops accepting, lets requests in flight finish (cancelling them after `graceMs`), closes the store. */
  close(graceMs?: number): Promise<void>;
}

const MAX_BODY = 1 << 20;
const MAX_ROUTE_PROMPTS = 1000;

interface Handled {
  status: number;
  route?: string;
  outcome: string;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type && !/^application\/json\b/i.test(type))
    throw new ApiError(415, `the body must be application/json (got ${type.split(';')[0]})`, 'invalid_request_error');
  const declared = Number(req.headers['content-length']);
  if (declared > limit)
    throw new ApiError(413, `the body is larger than ${limit} bytes`, 'invalid_request_error', 'request_too_large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit)
      throw new ApiError(413, `the body is larger than ${limit} bytes`, 'invalid_request_error', 'request_too_large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw invalid('the body is not valid JSON');
  }
}

function money(x: number): string {
  return `$${x.toFixed(x !== 0 && x < 0.01 ? 4 : 2)}`;
}

export function createGateway(o: GatewayOptions): Gateway {
  const metrics = new GatewayMetrics(o.store);
  const log = o.log ?? (() => undefined);
  const historySize = o.historySize ?? 1000;
  const inFlight = new Set<AbortController>();

  const authenticate = (req: IncomingMessage): GatewayKey | undefined => {
    if (!o.keys) return undefined;
    const key = o.keys.match(req.headers.authorization);
    if (!key)
      throw new ApiError(
        401,
        'Incorrect or missing API key: send "Authorization: Bearer <gateway key>"',
        'invalid_request_error',
        'invalid_api_key',
      );
    return key;
  };

  /**
   * α's history: the model's reference sample, then the store's recent PRS values (the newest win the window). It is
   * re-read from the store at most every `historyRefreshMs` and written in batches: α moves slowly, and a read and a
   * write per request would cost more than routing itself. Money is never cached.
   */
  const refreshMs = o.historyRefreshMs ?? 1000;
  let cached: { at: number; values: number[] } | undefined;
  let pending: number[] = [];
  let flushing: Promise<void> | undefined;
  const flush = (): Promise<void> => {
    if (flushing || !pending.length) return flushing ?? Promise.resolve();
    const batch = pending;
    pending = [];
    flushing = o.store
      .recordPrs(batch)
      .catch((e: Error) => log(`history: ${batch.length} PRS value(s) not recorded (${e.message})`))
      .finally(() => {
        flushing = undefined;
        if (pending.length) void flush();
      });
    return flushing;
  };
  const history = async (): Promise<number[]> => {
    if (!cached || performance.now() - cached.at > refreshMs) {
      cached = {
        at: performance.now(),
        values: new PrsHistory(historySize, [
          ...o.predictor.prsReference,
          ...(await o.store.recentPrs(historySize)),
        ]).snapshot(),
      };
    }
    return new PrsHistory(historySize, [...cached.values, ...pending]).snapshot();
  };
  const remember = (prs: number): void => {
    pending.push(prs);
    if (cached) cached.values.push(prs);
    void flush();
  };
  /** The lexical encoder predicts synchronously (no promise per token): the hot path. */
  const predict = async (prompts: string[], signal: AbortSignal) =>
    o.predictor.encoder.encodeSync
      ? prompts.map((p) => o.predictor.predictSync(p))
      : o.predictor.predict(prompts, { signal });

  /** Which backends a request's `model` allows, and whether the policy's fallback applies. */
  const target = (
    model: string,
  ): { edge?: Backend; cloud?: Backend; force?: { side: Side; why: string }; fallback: FallbackPolicy } => {
    if (model === 'auto') return { edge: o.edge, cloud: o.cloud, fallback: o.fallback };
    const why = `the request asked for model "${model}"`;
    if (model === 'edge' || model === 'cloud') {
      const backend = model === 'edge' ? o.edge : o.cloud;
      if (!backend) throw invalid(`no ${model} backend is configured on this gateway`, 'model', 'model_not_found');
      return { [model]: backend, force: { side: model, why }, fallback: 'none' };
    }
    const backend = o.named.get(model);
    if (!backend)
      throw invalid(
        `unknown model "${model}": use auto, edge, cloud${o.named.size ? ` or one of ${[...o.named.keys()].join(', ')}` : ''}`,
        'model',
        'model_not_found',
      );
    return { [backend.side]: backend, force: { side: backend.side, why }, fallback: 'none' };
  };

  const capError = async (key: GatewayKey | undefined, estimate: number): Promise<ApiError> => {
    if (key && key.monthlyCap !== null) {
      const k = await o.store.keyStatus({ id: key.id, cap: key.monthlyCap });
      if (k.left + 1e-9 < estimate)
        return new ApiError(
          402,
          `the monthly cap of this gateway key (${money(key.monthlyCap)}) is reached: ${money(k.left)} left, this image may cost ${money(estimate)}`,
          'insufficient_quota',
          'key_cap_reached',
        );
    }
    const m = await o.store.ledger.status();
    return new ApiError(
      402,
      `the monthly money cap (${money(m.cap ?? 0)}) is reached: ${money(m.left)} left, this image may cost ${money(estimate)}`,
      'insufficient_quota',
      'monthly_cap_reached',
    );
  };

  /** The OpenAI-shaped error for a failed generation. */
  const apiError = async (e: unknown, key: GatewayKey | undefined, estimate: number): Promise<ApiError> => {
    if (e instanceof ApiError) return e;
    if (e instanceof BackendError) {
      switch (e.code) {
        case 'rate-limited':
          return new ApiError(429, e.message, 'rate_limit_error', 'rate_limit_exceeded', null, {
            'retry-after': String(Math.max(1, Math.ceil((e.details.retryAfterMs ?? 1000) / 1000))),
          });
        case 'content-filter':
          return new ApiError(400, e.message, 'image_generation_user_error', 'content_policy_violation', 'prompt');
        case 'bad-request':
          return new ApiError(400, e.message, 'invalid_request_error', 'upstream_rejected');
        case 'timeout':
          return new ApiError(504, e.message, 'server_error', 'upstream_timeout');
        default:
          return new ApiError(502, e.message, 'server_error', `upstream_${e.code.replace(/-/g, '_')}`);
      }
    }
    if (e instanceof RouteT2IError) {
      if (e.code === 'money-cap') return capError(key, estimate);
      if (e.code.startsWith('ledger')) return new ApiError(503, e.message, 'server_error', e.code.replace(/-/g, '_'));
      if (e.code === 'no-backend') return invalid(e.message, 'model', 'model_not_found');
      return new ApiError(500, e.message, 'server_error', e.code.replace(/-/g, '_'));
    }
    return new ApiError(500, 'internal error in the gateway (see its log)', 'server_error');
  };

  const images = async (
    req: IncomingMessage,
    res: ServerResponse,
    key: GatewayKey | undefined,
    signal: AbortSignal,
  ): Promise<Handled> => {
    const body = parseImagesRequest(await readJson(req, o.maxBodyBytes ?? MAX_BODY));
    const t = target(body.model);
    const [prediction] = await predict([body.prompt], signal);
    const past = await history();
    const request: GenerationRequest = {
      prompt: body.prompt,
      width: body.size?.width ?? o.defaults.width ?? 1024,
      height: body.size?.height ?? o.defaults.height ?? 1024,
    };
    const negative = body.negative ?? o.defaults.negative;
    if (negative) request.negative = negative;
    if (o.defaults.steps) request.steps = o.defaults.steps;
    if (body.quality) request.extra = { quality: body.quality };
    const rid = `gw-${randomBytes(6).toString('hex')}`;
    const items: DispatchItem[] = Array.from({ length: body.n }, (_, i) => ({
      id: body.n > 1 ? `${rid}-${i + 1}` : rid,
      request,
      prediction: prediction!,
      ...(t.force ? { force: t.force } : {}),
    }));
    const keyLimit: KeyLimit | undefined = key ? { id: key.id, cap: key.monthlyCap } : undefined;
    const dispatcher = new Dispatcher({
      mode: o.mode,
      policy: o.policy,
      edge: t.edge,
      cloud: t.cloud,
      ledger: forKey(o.store.ledger, keyLimit),
      normalisation: o.predictor.normalisation,
      history: past,
      cascadeThreshold: o.cascadeThreshold,
      hybridBand: o.hybridBand,
      fallback: t.fallback,
      concurrency: body.n,
    });
    let alpha = calibrateAlpha([...past, prediction!.prs], o.policy.cloudShare);
    const outcomes = await dispatcher.run(items, { signal, onPlan: (p) => (alpha = p.alpha) });
    // The history records what was routed, after its own α was decided (as a batch's prompts are in the CLI).
    remember(prediction!.prs);
    for (const out of outcomes)
      for (const a of out.attempts) if (a.cost > 0) metrics.spend.inc({ backend: a.backend }, a.cost);
    const made = outcomes.filter((x): x is DispatchOutcome & { result: NonNullable<DispatchOutcome['result']> } =>
      Boolean(x.result),
    );
    if (!made.length) {
      const first = outcomes[0]!;
      const estimate = (t.cloud ?? o.cloud)?.estimateCost(request) ?? 0;
      throw await apiError(first.error, key, estimate);
    }
    const routes = [...new Set(made.map((x) => x.route!))];
    const one = made[0]!;
    const cost = Math.round(outcomes.reduce((a, x) => a + x.cost, 0) * 1e9) / 1e9;
    const routet2i = {
      id: rid,
      route: routes.length === 1 ? routes[0] : 'mixed',
      why: one.why,
      prs: prediction!.prs,
      pareto: prediction!.pareto,
      alpha,
      mode: o.mode,
      predicted: { edge: prediction!.edge, cloud: prediction!.cloud },
      measured: one.measured ?? null,
      cost,
      backend: one.result.backend,
      model: one.result.model,
      images: outcomes.map((x) => ({
        route: x.route ?? null,
        why: x.why,
        backend: x.result?.backend ?? null,
        model: x.result?.model ?? null,
        seed: x.result?.seed ?? null,
        cost: x.cost,
        measured: x.measured ?? null,
        error: x.error ? { code: (x.error as RouteT2IError).code ?? 'error', message: x.error.message } : null,
      })),
      ...(key ? { key: key.id } : {}),
    };
    sendJson(
      res,
      200,
      {
        created: Math.floor(Date.now() / 1000),
        data: made.map((x) => ({ b64_json: Buffer.from(x.result.image).toString('base64') })),
        output_format: one.result.mime.replace(/^image\//, ''),
        routet2i,
      },
      { 'x-routet2i-route': routes.join(',') },
    );
    return { status: 200, route: routes.join(','), outcome: made.length === outcomes.length ? 'ok' : 'partial' };
  };

  const route = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<Handled> => {
    const raw = (await readJson(req, o.maxBodyBytes ?? MAX_BODY)) as Record<string, unknown>;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      throw invalid('the body must be {"prompt": "…" or ["…", …], "budget"?: ρ}');
    const prompts = typeof raw.prompt === 'string' ? [raw.prompt] : raw.prompt;
    if (
      !Array.isArray(prompts) ||
      !prompts.length ||
      prompts.length > MAX_ROUTE_PROMPTS ||
      !prompts.every((p) => typeof p === 'string' && p.trim() && p.length <= 32_000)
    ) {
      throw invalid(`"prompt" must be a non-empty string or a list of 1 to ${MAX_ROUTE_PROMPTS} of them`, 'prompt');
    }
    const budget = raw.budget === undefined ? o.policy.cloudShare : raw.budget;
    if (typeof budget !== 'number' || !(budget >= 0 && budget <= 1))
      throw invalid('"budget" must be a number from 0 to 1', 'budget');
    const predictions = await predict(prompts as string[], signal);
    const prs = predictions.map((p) => p.prs);
    const alpha = calibrateAlpha([...(await history()), ...prs], budget);
    const routed = predictions.map((p) => {
      const d = decideRoute(p.prs, alpha, budget, { ...o.policy, cloudShare: budget });
      return { route: d.route, reason: explainDecision(d, budget) };
    });
    sendJson(res, 200, {
      model: o.predictor.name,
      metrics: o.predictor.metrics.map((m) => ({ id: m.id, label: m.label })),
      budget,
      alpha,
      cloudShare: routed.filter((r) => r.route === 'cloud').length / routed.length,
      prompts: predictions.map((p, i) => ({
        id: `p${i + 1}`,
        prompt: prompts[i],
        edge: p.edge,
        cloud: p.cloud,
        prs: p.prs,
        pareto: p.pareto,
        route: routed[i]!.route,
        reason: routed[i]!.reason,
        tokens: p.tokens,
      })),
    });
    return { status: 200, outcome: 'ok' };
  };

  const ledger = async (res: ServerResponse, key: GatewayKey | undefined): Promise<Handled> => {
    const m = await o.store.month();
    const k = key ? await o.store.keyStatus({ id: key.id, cap: key.monthlyCap }) : undefined;
    // Exactly `routet2i ledger --json`'s shape (one function builds both), plus the caller's key.
    sendJson(res, 200, {
      ...monthView(o.store.ledger.where, m),
      ...(k ? { key: { ...k, left: Number.isFinite(k.left) ? k.left : null } } : {}),
    });
    return { status: 200, outcome: 'ok' };
  };

  /**
   * The team's policy as this gateway applies it, for an editor's verdicts: the budget, the cap, the cloud's price,
   * and α with the PRS history it is calibrated on (the store's, read through the same cache as routing).
   */
  const policy = async (res: ServerResponse): Promise<Handled> => {
    const past = await history();
    sendJson(res, 200, {
      mode: o.mode,
      budget: o.policy.cloudShare,
      monthlyCap: o.policy.monthlyCap,
      fallback: o.fallback,
      edge: o.edge?.name ?? null,
      cloud: o.cloud?.name ?? null,
      cloudPrice: o.cloud
        ? o.cloud.estimateCost({ prompt: '', width: o.defaults.width ?? 1024, height: o.defaults.height ?? 1024 })
        : 0,
      alpha: calibrateAlpha(past, o.policy.cloudShare),
      history: past,
    });
    return { status: 200, outcome: 'ok' };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const endpoint = [
      '/v1/images/generations',
      '/v1/route',
      '/v1/ledger',
      '/v1/policy',
      '/healthz',
      '/metrics',
    ].includes(path)
      ? path
      : 'other';
    const abort = new AbortController();
    inFlight.add(abort);
    // A client that goes away cancels its backend call; the metered call keeps what may have been charged booked.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let done: Handled = { status: 500, outcome: 'error' };
    let key: GatewayKey | undefined;
    try {
      const method = req.method ?? 'GET';
      const allow = (m: string) => {
        if (method !== m)
          throw new ApiError(405, `${path} takes ${m}`, 'invalid_request_error', 'method_not_allowed', null, {
            allow: m,
          });
      };
      if (path === '/healthz') {
        allow('GET');
        try {
          const m = await o.store.ledger.status();
          // Unauthenticated: says that the ledger answers, not where it is.
          sendJson(res, 200, { status: 'ok', month: m.month });
          done = { status: 200, outcome: 'ok' };
        } catch (e) {
          throw new ApiError(
            503,
            `the ledger is unavailable: ${(e as Error).message}`,
            'server_error',
            'ledger_unavailable',
          );
        }
      } else if (path === '/metrics') {
        allow('GET');
        const text = await metrics.text();
        res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        done = { status: 200, outcome: 'ok' };
      } else if (path === '/v1/images/generations') {
        allow('POST');
        key = authenticate(req);
        done = await images(req, res, key, abort.signal);
      } else if (path === '/v1/route') {
        allow('POST');
        key = authenticate(req);
        done = await route(req, res, abort.signal);
      } else if (path === '/v1/ledger') {
        allow('GET');
        key = authenticate(req);
        done = await ledger(res, key);
      } else if (path === '/v1/policy') {
        allow('GET');
        key = authenticate(req);
        done = await policy(res);
      } else {
        throw new ApiError(404, `no such endpoint: ${req.method} ${path}`, 'invalid_request_error', 'not_found');
      }
    } catch (e) {
      if (
        abort.signal.aborted &&
        (e instanceof CancelledError || (e instanceof BackendError && e.code === 'cancelled'))
      ) {
        done = { status: 499, outcome: 'cancelled' };
      } else {
        const err = await apiError(e, key, 0).catch(
          () => new ApiError(500, 'internal error in the gateway (see its log)', 'server_error'),
        );
        if (err.status === 500 && !(e instanceof RouteT2IError))
          log(`internal error: ${(e as Error)?.stack ?? String(e)}`);
        sendJson(res, err.status, err.body(), err.headers);
        done = { status: err.status, outcome: err.code ?? err.type };
        // A body we refused to read must not be parsed as the next request.
        if (err.status === 413) res.once('finish', () => req.destroy());
      }
    } finally {
      inFlight.delete(abort);
      const seconds = (performance.now() - started) / 1000;
      metrics.requests.inc({ endpoint, route: done.route ?? 'none', outcome: done.outcome });
      metrics.latency.observe({ endpoint, outcome: done.outcome }, seconds);
      log(
        `${req.method} ${path} ${done.status} ${(seconds * 1000).toFixed(1)}ms${key ? ` key=${key.id}` : ''}${done.route ? ` route=${done.route}` : ''}${done.outcome !== 'ok' ? ` ${done.outcome}` : ''}`,
      );
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  // A client that trickles its request is cut off; replies (generations) may take as long as the backends allow.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 5_000;

  return {
    server,
    metrics,
    async close(graceMs = 10_000) {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const a of inFlight) a.abort();
        server.closeAllConnections();
      }, graceMs);
      await closed;
      clearTimeout(timer);
      await flush();
      await o.store.close();
    },
  };
}
