// The one message protocol between the RouteT2I panel's host (src/extension/panel) and its webview (webview/).
// Both sides import this file, so it imports nothing: no `vscode`, no Node, no DOM. Values cross as JSON (VS Code
// serialises webview messages), so every view type below is plain data: no Infinity, no undefined in arrays, no Maps.

export const PROTOCOL_VERSION = 1;

/** The id of the JSON data block in the panel's HTML that holds the bootstrap `Snapshot`. */
export const BOOTSTRAP_ID = 'routet2i-bootstrap';

/** The metric id that stands for the overall edge-vs-cloud verdict in the heat (as in `PanelServices.getMetric`). */
export const VERDICT_METRIC = 'verdict';

export type Scores = Record<string, number>;
export type Side = 'edge' | 'cloud';
export type ParetoRelation = 'cloud-dominates' | 'edge-dominates' | 'incomparable' | 'equal';
export type RouteReason = 'edge-predicted-better' | 'below-alpha' | 'above-alpha' | 'money-cap' | 'no-cloud';

export interface MetricView {
  id: string;
  label: string;
}

export interface TokenView {
  text: string;
  /** Offsets into `PromptView.prompt`. */
  start: number;
  end: number;
  /** Per metric, on the edge's predicted quality (logit units, + raises). */
  impact: Scores;
  /** Per metric, how much more the token helps the cloud than the edge (+ favours the cloud). */
  cloudGain: Scores;
}

/** The prompt under the editor's cursor and what the engine predicts for it. */
export interface PromptView {
  uri: string;
  /** The document's base name, for the heading. */
  fileName: string;
  /** 0-based line of the prompt's start. */
  line: number;
  promptId: string;
  prompt: string;
  metrics: MetricView[];
  /** PRS weights per metric (sum 1). */
  weights: Scores;
  edge: Scores;
  cloud: Scores;
  prs: number;
  pareto: ParetoRelation;
  tokens: TokenView[];
  route: Side;
  reason: RouteReason;
  alpha: number;
  /** Why this route, in the engine's words. */
  why: string;
  /** `routet2i.heat.scale`: multiplies the heat's bucket edges, as in the editor. */
  heatScale: number;
}

export interface LedgerEntryView {
  id: string;
  backend: string;
  cost: number;
  estimate: number;
  at: string;
  note?: string;
  reconciled?: boolean;
}

export interface BudgetView {
  /** `YYYY-MM`. */
  month: string;
  /** `cascaded`/`escalated`: this month's prompts measured by cascade and those redone on the cloud, at most `escalationLimit`. */
  cloudShare: {
    used: number;
    budget: number;
    edge: number;
    cloud: number;
    cascaded: number;
    escalated: number;
    escalationLimit: number;
  };
  /** `cap` and `left` are null when there is no monthly cap. */
  money: { spent: number; reserved: number; cap: number | null; left: number | null; currency: string };
  /** Newest first. */
  latest: LedgerEntryView[];
}

export interface GalleryItemView {
  /** Names the item in `openImage`: the webview never sends paths back. */
  id: string;
  /** A webview resource URI for the thumbnail. */
  src: string;
  fileName: string;
  prompt: string;
  route: Side;
  why: string;
  backend: string;
  model: string;
  cost: number;
  created: string;
  predicted?: { edge: Scores; cloud: Scores; prs: number };
  measured?: Scores;
}

/** A router's evaluation figures; null where the evaluation could not compute one. */
export interface RouterFigures {
  apgr: number | null;
  cpt50: number | null;
  pgr50: number | null;
}

export interface CalibrationView {
  modelName: string;
  modelDir: string;
  encoder: string;
  metrics: MetricView[];
  data: { source: string; pairs: number };
  evaluation?: { n: number; routers: Record<string, RouterFigures> };
  curve?: Array<{ share: number; pgr: number }>;
  /** True while a calibration started from the panel runs. */
  running: boolean;
  /** Calibrated on the configured pair or not ("uncalibrated": `note` says why and what works there). */
  pair: {
    calibrated: boolean;
    note: string;
    trainedOn: { edge: string; cloud: string } | null;
    inUse: { edge: string | null; cloud: string | null };
  };
  /** The routing mode in use (`routet2i.policy.mode`). */
  mode: string;
}

/** What the host knows synchronously: injected into the HTML for the first paint, and answered by `snapshot`. */
export interface Snapshot {
  protocol: number;
  /** When the host took it (host clock, ms): a restored webview keeps the newer of its bootstrap and its saved copy. */
  at: number;
  /** `panel` (an editor tab) or `view` (the activity bar view): the layout differs. */
  host: 'panel' | 'view';
  prompt: PromptView | null;
  metric: string;
}

/** Requests the webview sends, each answered once. */
export interface Requests {
  snapshot: { params: Record<string, never>; result: Snapshot };
  budget: { params: Record<string, never>; result: BudgetView };
  gallery: { params: { limit: number }; result: GalleryItemView[] };
  calibration: { params: Record<string, never>; result: CalibrationView };
  setMetric: { params: { metric: string }; result: null };
  /** Opens a gallery item's image, and its sidecar beside it. */
  openImage: { params: { id: string }; result: null };
  /** Starts "Calibrate on my models"; answers once it has started (progress shows in VS Code; `calibration` follows). */
  startCalibration: { params: Record<string, never>; result: null };
  /** Turns cascade mode on (the offer on an uncalibrated pair); `calibration` follows with the new mode. */
  useCascadeMode: { params: Record<string, never>; result: null };
}

/** Notifications the host sends. */
export interface Notifications {
  prompt: { prompt: PromptView | null; at: number };
  metric: { metric: string };
  /** The ledger changed: ask for `budget` again. */
  budgetChanged: Record<string, never>;
  /** Generations were added or removed: ask for `gallery` again. */
  galleryChanged: Record<string, never>;
  /** A calibration started from the panel finished (`error` when it failed): ask for `calibration` again. */
  calibrationDone: { error?: string };
}

export type RequestMethod = keyof Requests;
export type NotificationMethod = keyof Notifications;

export interface RequestMessage<M extends RequestMethod = RequestMethod> {
  kind: 'request';
  id: number;
  method: M;
  params: Requests[M]['params'];
}

export type ResponseMessage =
  | { kind: 'response'; id: number; ok: true; result: unknown }
  | { kind: 'response'; id: number; ok: false; error: string };

export interface NotificationMessage<M extends NotificationMethod = NotificationMethod> {
  kind: 'notification';
  method: M;
  params: Notifications[M];
}

export type HostMessage = ResponseMessage | NotificationMessage;

/** The most generations the gallery shows. */
export const GALLERY_LIMIT = 24;

/** Default time a request may take before the webview gives up on it. */
export const REQUEST_TIMEOUT_MS = 10_000;

const REQUEST_METHODS: ReadonlySet<string> = new Set<RequestMethod>([
  'snapshot',
  'budget',
  'gallery',
  'calibration',
  'setMetric',
  'openImage',
  'startCalibration',
  'useCascadeMode',
]);

const NOTIFICATION_METHODS: ReadonlySet<string> = new Set<NotificationMethod>([
  'prompt',
  'metric',
  'budgetChanged',
  'galleryChanged',
  'calibrationDone',
]);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** A well-formed request from the webview (anything else is dropped by the host). */
export function isRequestMessage(value: unknown): value is RequestMessage {
  return (
    isObject(value) &&
    value.kind === 'request' &&
    Number.isSafeInteger(value.id) &&
    typeof value.method === 'string' &&
    REQUEST_METHODS.has(value.method) &&
    isObject(value.params)
  );
}

/** A well-formed message from the host. */
export function isHostMessage(value: unknown): value is HostMessage {
  if (!isObject(value)) return false;
  if (value.kind === 'response') {
    return (
      Number.isSafeInteger(value.id) && (value.ok === true || (value.ok === false && typeof value.error === 'string'))
    );
  }
  return (
    value.kind === 'notification' &&
    typeof value.method === 'string' &&
    NOTIFICATION_METHODS.has(value.method) &&
    isObject(value.params)
  );
}

export class RequestTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`RouteT2I did not answer "${method}" within ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'RequestTimeoutError';
  }
}

export class RequestFailedError extends Error {
  constructor(
    readonly method: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestFailedError';
  }
}

/** Timer functions, injectable so tests run on a fake clock. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface RpcClientOptions {
  /** Sends one message to the host. */
  post(message: RequestMessage): void;
  timeoutMs?: number;
  /** Per-method timeouts, overriding `timeoutMs`. */
  timeouts?: Partial<Record<RequestMethod, number>>;
  timers?: Timers;
}

type NotificationHandler = { [M in NotificationMethod]: (params: Notifications[M]) => void };

/**
 * The webview's end: typed requests whose replies are matched by id, each rejected with a `RequestTimeoutError` when
 * the host does not answer in time (a reply that arrives later is ignored), and typed notification handlers.
 */
export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { method: string; resolve(value: unknown): void; reject(error: Error): void; timer: unknown }
  >();
  private readonly handlers: Partial<{ [M in NotificationMethod]: Array<NotificationHandler[M]> }> = {};
  private readonly timers: Timers;

  constructor(private readonly options: RpcClientOptions) {
    this.timers = options.timers ?? realTimers;
  }

  request<M extends RequestMethod>(method: M, params: Requests[M]['params']): Promise<Requests[M]['result']> {
    const id = this.nextId++;
    const timeoutMs = this.options.timeouts?.[method] ?? this.options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    return new Promise<Requests[M]['result']>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve, reject, timer });
      try {
        this.options.post({ kind: 'request', id, method, params });
      } catch (error) {
        this.settle(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  on<M extends NotificationMethod>(method: M, handler: NotificationHandler[M]): () => void {
    const list = (this.handlers[method] ??= []) as Array<NotificationHandler[M]>;
    list.push(handler);
    return () => {
      const at = list.indexOf(handler);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** Feeds one message received from the host; returns false when it was not ours or no longer awaited. */
  receive(message: unknown): boolean {
    if (!isHostMessage(message)) return false;
    if (message.kind === 'notification') {
      const list = this.handlers[message.method] as Array<(params: unknown) => void> | undefined;
      if (!list?.length) return false;
      for (const handler of [...list]) handler(message.params);
      return true;
    }
    const entry = this.settle(message.id);
    if (!entry) return false;
    if (message.ok) entry.resolve(message.result);
    else entry.reject(new RequestFailedError(entry.method, message.error));
    return true;
  }

  /** Requests still waiting for a reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Rejects every request still waiting (the webview is going away). */
  dispose(): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new Error('the panel closed'));
  }

  private settle(id: number) {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    this.timers.clearTimeout(entry.timer);
    return entry;
  }
}

export type RequestHandlers = {
  [M in RequestMethod]: (params: Requests[M]['params']) => Promise<Requests[M]['result']> | Requests[M]['result'];
};

/**
 * The host's end: runs the handler a request names and builds its response. A handler's error becomes a one-line
 * `error` (its message, never a stack); `describe` may turn errors into words a user reads.
 */
export async function answerRequest(
  handlers: RequestHandlers,
  message: RequestMessage,
  describe: (error: unknown) => string = (error) => (error instanceof Error ? error.message : String(error)),
): Promise<ResponseMessage> {
  try {
    const handler = handlers[message.method] as (params: unknown) => unknown;
    const result = await handler(message.params);
    return { kind: 'response', id: message.id, ok: true, result: result ?? null };
  } catch (error) {
    const text = describe(error).split('\n')[0]!.trim() || 'failed';
    return { kind: 'response', id: message.id, ok: false, error: text };
  }
}

export function notification<M extends NotificationMethod>(
  method: M,
  params: Notifications[M],
): NotificationMessage<M> {
  return { kind: 'notification', method, params };
}
