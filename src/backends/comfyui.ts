import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import WebSocket from 'ws';
import { BaseBackend, randomSeed, type BackendDeps } from './base';
import {
  checkWorkflow,
  defaultWorkflow,
  fillWorkflow,
  historyImages,
  workflowCheckpoint,
  workflowValues,
  type Workflow,
} from './comfyui-workflow';
import { READ_LIMITS, readFileBounded } from '../router/boundedRead';
import { RouteT2IError } from '../router/errors';
import { BackendError } from './errors';
import { joinUrl } from './http';
import type {
  BackendConfig,
  BackendHealth,
  GenerateOptions,
  GenerationProgress,
  GenerationRequest,
  GenerationResult,
} from './types';

/**
 * ComfyUI (edge). Protocol as its server.py implements it and docs.comfy.org describes it:
 * open `ws://host/ws?clientId=<id>`, POST /prompt `{prompt: <API workflow>, client_id}` → `{prompt_id,
 * number, node_errors}`; the socket then sends `{type, data}` messages (`status`, `execution_start`,
 * `progress {value, max, prompt_id}`, `executed`, `execution_success` | `execution_error` |
 * `execution_interrupted` (all from execution.py), and last `executing {node: null, prompt_id}`, which
 * main.py's prompt_worker sends only after q.task_done() has written the /history entry); GET /history/<id> lists `outputs[node].images[]
 * {filename, subfolder, type}`; GET /view?filename&subfolder&type returns the bytes. GET /queue gives
 * `queue_running`/`queue_pending` as `[number, prompt_id, …]` lists; POST /interrupt stops the running
 * prompt and POST /queue `{delete: [id]}` drops a pending one.
 */

/** Reads of /history after the prompt ended before its missing entry is an error. */
const HISTORY_RETRIES = 5;

interface ComfyMessage {
  type: string;
  data?: Record<string, unknown>;
}

/** Buffers a socket's JSON messages so none is lost between POST /prompt and the wait that follows. */
class ComfyEvents {
  private readonly queue: ComfyMessage[] = [];
  private wake: (() => void) | undefined;
  closed = false;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return; // preview frames
      try {
        const msg = JSON.parse(data.toString()) as ComfyMessage;
        if (msg && typeof msg.type === 'string') this.queue.push(msg);
      } catch {
        return; // not ours to judge: keep listening
      }
      this.wake?.();
    });
    const end = () => {
      this.closed = true;
      this.wake?.();
    };
    ws.on('close', end);
    ws.on('error', end);
  }

  /** The next message, or `idle` after `idleMs` of silence, or `closed`. */
  next(idleMs: number, signal: AbortSignal | undefined): Promise<ComfyMessage | 'idle' | 'closed'> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.closed) return Promise.resolve('closed');
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wake = undefined;
      };
      const timer = setTimeout(() => {
        done();
        resolve('idle');
      }, idleMs);
      const onAbort = () => {
        done();
        reject(new BackendError('cancelled', 'comfyui', 'generation cancelled'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wake = () => {
        done();
        const next = this.queue.shift();
        resolve(next ?? 'closed');
      };
    });
  }

  close(): void {
    this.ws.removeAllListeners('message');
    this.ws.on('error', () => undefined);
    try {
      this.ws.terminate();
    } catch {
      // already closed
    }
  }
}

export class ComfyUIBackend extends BaseBackend {
  readonly name = 'comfyui';
  readonly side: 'edge' | 'cloud';
  readonly model: string;
  private readonly defaults: {
    steps: number;
    cfg: number;
    sampler: string;
    scheduler: string;
    checkpoint: string;
    negative: string;
  };
  private readonly workflowSource: string | Workflow | undefined;
  private template: Workflow | undefined;

  constructor(config: BackendConfig, deps: BackendDeps & { baseDir?: string }) {
    super('comfyui', config, deps, {
      url: 'http://127.0.0.1:8188',
      timeoutMs: 30_000,
      maxWaitMs: 30 * 60_000,
      pollIntervalMs: 1000,
    });
    const r = this.reader();
    this.side = r.side('edge');
    this.defaults = {
      steps: r.number('steps', 20, 1, 1000),
      cfg: r.number('cfg', 7, 0, 100),
      sampler: r.string('sampler', 'euler'),
      scheduler: r.string('scheduler', 'normal'),
      checkpoint: r.string('model', 'v1-5-pruned-emaonly.safetensors'),
      negative: r.string('negative', '') ?? '',
    };
    const wf = config.workflow;
    if (wf === undefined || wf === null) this.workflowSource = undefined;
    else if (typeof wf === 'string')
      this.workflowSource = isAbsolute(wf) || !deps.baseDir ? wf : resolve(deps.baseDir, wf);
    else this.workflowSource = checkWorkflow(wf, 'setting "workflow"');
    this.template = typeof this.workflowSource === 'object' ? this.workflowSource : undefined;
    this.model =
      (this.template && workflowCheckpoint(this.template)) ??
      (typeof wf === 'string' ? `${this.defaults.checkpoint} (workflow ${wf})` : this.defaults.checkpoint);
  }

  estimateCost(): number {
    return this.price(0);
  }

  private async workflow(request: GenerationRequest, seed: number): Promise<Workflow> {
    const values = workflowValues(request, seed, this.defaults);
    if (this.workflowSource === undefined) return defaultWorkflow(values);
    if (!this.template) {
      const file = this.workflowSource as string;
      let text: string;
      try {
        text = (await readFileBounded(file, { limit: READ_LIMITS.config, what: 'workflow file' })).toString('utf8');
      } catch (e) {
        throw this.fail(
          'config',
          `cannot read the workflow file ${file} (${e instanceof RouteT2IError ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message)})`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw this.fail('config', `the workflow file ${file} is not valid JSON (${(e as Error).message})`);
      }
      this.template = checkWorkflow(parsed, file);
    }
    return fillWorkflow(
      this.template,
      values,
      typeof this.workflowSource === 'string' ? this.workflowSource : 'workflow',
    );
  }

  private wsUrl(clientId: string): string {
    const u = new URL(joinUrl(this.settings.url, 'ws'));
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('clientId', clientId);
    return u.toString();
  }

  /** Opens the progress socket; resolves undefined where it cannot (then we poll /history instead). */
  private openSocket(clientId: string, signal: AbortSignal | undefined): Promise<ComfyEvents | undefined> {
    return new Promise((resolve) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(this.wsUrl(clientId), { handshakeTimeout: Math.min(this.settings.timeoutMs, 10_000) });
      } catch {
        return resolve(undefined);
      }
      const events = new ComfyEvents(ws);
      const settle = (ok: boolean) => {
        ws.off('open', onOpen);
        ws.off('error', onError);
        signal?.removeEventListener('abort', onError);
        if (!ok) events.close();
        resolve(ok ? events : undefined);
      };
      const onOpen = () => settle(true);
      const onError = () => settle(false);
      ws.once('open', onOpen);
      ws.once('error', onError);
      signal?.addEventListener('abort', onError, { once: true });
    });
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerationResult> {
    const { signal, onProgress } = options;
    const t0 = this.clock();
    const seed = request.seed ?? randomSeed();
    const workflow = await this.workflow(request, seed);
    const clientId = randomUUID();
    const events = await this.openSocket(clientId, signal);
    let promptId: string | undefined;
    let started: number | undefined;
    try {
      const reply = await this.http.request(joinUrl(this.settings.url, 'prompt'), {
        json: { prompt: workflow, client_id: clientId },
        signal,
        what: 'POST /prompt',
        accept: (s) => s === 400,
        idempotent: false,
      });
      const body = reply.json<{
        prompt_id?: string;
        number?: number;
        error?: { message?: string; details?: string } | string;
        node_errors?: Record<string, { errors?: { message?: string; details?: string }[]; class_type?: string }>;
      }>();
      if (reply.status === 400) throw this.workflowError(body);
      promptId = this.need(body.prompt_id, 'prompt_id');
      onProgress?.({ status: 'queued', position: typeof body.number === 'number' ? body.number : undefined });
      const id = promptId;
      const markStart = () => {
        started ??= this.clock();
      };
      if (events) await this.followSocket(events, id, signal, onProgress, markStart);
      else await this.pollHistory(id, signal, markStart);
      const generated = this.clock();
      const entry = await this.historyEntry(id, signal);
      if (entry.status?.status_str === 'error')
        throw this.fail('failed', `the workflow failed: ${this.historyError(entry.status.messages)}`);
      const refs = historyImages(entry.outputs);
      if (refs.length === 0)
        throw this.fail('bad-reply', 'the prompt finished without an image (does the workflow end in SaveImage?)');
      const ref = refs[0]!;
      const view = new URL(joinUrl(this.settings.url, 'view'));
      view.searchParams.set('filename', ref.filename);
      view.searchParams.set('subfolder', ref.subfolder);
      view.searchParams.set('type', ref.type);
      const { bytes, kind } = await this.download(view.toString(), { signal, onProgress, what: 'GET /view' });
      onProgress?.({ status: 'done' });
      const end = this.clock();
      return {
        image: bytes,
        mime: kind.mime,
        seed,
        backend: this.name,
        model: (this.template && workflowCheckpoint(this.template)) ?? this.model,
        cost: this.estimateCost(),
        timings: {
          queuedMs: Math.round((started ?? generated) - t0),
          generateMs: Math.round(generated - (started ?? generated)),
          totalMs: Math.round(end - t0),
        },
      };
    } catch (e) {
      if (promptId && signal?.aborted) await this.cancelOnServer(promptId);
      if (signal?.aborted && !(e instanceof BackendError && e.code === 'cancelled'))
        throw this.fail('cancelled', 'generation cancelled');
      throw e;
    } finally {
      events?.close();
    }
  }

  /**
   * The prompt's /history entry. It is written by q.task_done() after execution_success went out, so a server
   * whose worker lags (or a socket closed early) may not have it yet: ask again a bounded number of times.
   */
  private async historyEntry(
    id: string,
    signal: AbortSignal | undefined,
  ): Promise<{ outputs?: unknown; status?: { status_str?: string; messages?: unknown[] } }> {
    type Entry = { outputs?: unknown; status?: { status_str?: string; messages?: unknown[] } };
    for (let attempt = 0; ; attempt++) {
      const history = await this.http.json<Record<string, Entry>>(
        joinUrl(this.settings.url, `history/${encodeURIComponent(id)}`),
        { signal, what: 'GET /history' },
      );
      const entry = history?.[id];
      if (entry) return entry;
      if (attempt >= HISTORY_RETRIES)
        throw this.fail('bad-reply', `/history has no entry for prompt ${id} after ${HISTORY_RETRIES + 1} reads`);
      try {
        await this.sleep(this.settings.pollIntervalMs, signal);
      } catch {
        throw this.fail('cancelled', 'generation cancelled');
      }
    }
  }

  private workflowError(body: {
    error?: { message?: string; details?: string } | string;
    node_errors?: Record<string, { errors?: { message?: string; details?: string }[]; class_type?: string }>;
  }): BackendError {
    const parts: string[] = [];
    const top = typeof body.error === 'string' ? body.error : body.error?.message;
    if (top) parts.push(top);
    for (const [node, ne] of Object.entries(body.node_errors ?? {})) {
      for (const err of ne.errors ?? [])
        parts.push(
          `node ${node} (${ne.class_type ?? '?'}): ${err.message ?? ''}${err.details ? ` — ${err.details}` : ''}`,
        );
    }
    return this.fail('config', `ComfyUI rejected the workflow: ${parts.join('; ') || 'no reason given'}`, {
      status: 400,
      hint: 'check the checkpoint name ("model") and the workflow',
    });
  }

  private historyError(messages: unknown[] | undefined): string {
    for (const m of messages ?? []) {
      if (Array.isArray(m) && m[0] === 'execution_error' && m[1] && typeof m[1] === 'object') {
        const d = m[1] as { exception_message?: string; node_type?: string };
        return `${d.node_type ?? 'a node'}: ${d.exception_message ?? 'error'}`;
      }
    }
    return 'no details';
  }

  private async followSocket(
    events: ComfyEvents,
    id: string,
    signal: AbortSignal | undefined,
    onProgress: ((p: GenerationProgress) => void) | undefined,
    markStart: () => void,
  ): Promise<void> {
    const deadline = this.clock() + this.settings.maxWaitMs;
    let running = false;
    const start = () => {
      running = true;
      markStart();
    };
    for (;;) {
      if (this.clock() >= deadline)
        throw this.fail('timeout', `the prompt did not finish within ${Math.round(this.settings.maxWaitMs / 1000)} s`, {
          accepted: true,
        });
      const ev = await events.next(Math.min(this.settings.idleTimeoutMs, Math.max(1, deadline - this.clock())), signal);
      if (ev === 'closed') return this.pollHistory(id, signal, markStart);
      if (ev === 'idle') {
        // Silence is normal while another client's job runs: ask the server where ours is.
        const state = await this.promptState(id, signal);
        if (state === 'done') return;
        if (state === 'missing')
          throw this.fail('failed', `the server lost prompt ${id} (not queued, not in history)`, { accepted: true });
        continue;
      }
      const d = ev.data ?? {};
      if (ev.type === 'status') {
        const remaining = (d.status as { exec_info?: { queue_remaining?: number } } | undefined)?.exec_info
          ?.queue_remaining;
        // A status message carries no prompt id, only the queue length: useful until ours starts.
        if (!running && typeof remaining === 'number') onProgress?.({ status: 'queued', position: remaining });
        continue;
      }
      if (d.prompt_id !== id) continue;
      switch (ev.type) {
        case 'execution_start':
          start();
          onProgress?.({ status: 'running', fraction: 0 });
          break;
        case 'progress': {
          start();
          const value = Number(d.value);
          const max = Number(d.max);
          if (Number.isFinite(value) && Number.isFinite(max) && max > 0)
            onProgress?.({ status: 'running', fraction: value / max, step: value, steps: max });
          break;
        }
        case 'executing':
          start();
          // The end: main.py's prompt_worker sends this after q.task_done() has written /history.
          if (d.node === null) return;
          break;
        case 'execution_success':
          // Sent from inside execution.py, before /history is written: wait for `executing` with node null.
          break;
        case 'execution_error':
          throw this.fail(
            'failed',
            `the workflow failed in ${String(d.node_type ?? 'a node')}: ${String(d.exception_message ?? 'error').trim()}`,
            { accepted: true },
          );
        case 'execution_interrupted':
          throw this.fail(signal?.aborted ? 'cancelled' : 'failed', 'the prompt was interrupted on the server', {
            accepted: true,
          });
        default:
          break;
      }
    }
  }

  private async pollHistory(id: string, signal: AbortSignal | undefined, markStart: () => void): Promise<void> {
    await this.pollUntil('the prompt', signal, async () => {
      const state = await this.promptState(id, signal);
      if (state === 'running') markStart();
      if (state === 'missing')
        throw this.fail('failed', `the server lost prompt ${id} (not queued, not in history)`, { accepted: true });
      return state === 'done' ? true : undefined;
    });
  }

  /** Where a prompt is: finished (in /history), running or pending (in /queue), or nowhere. */
  private async promptState(
    id: string,
    signal: AbortSignal | undefined,
  ): Promise<'done' | 'running' | 'pending' | 'missing'> {
    const history = await this.http.json<Record<string, unknown>>(
      joinUrl(this.settings.url, `history/${encodeURIComponent(id)}`),
      { signal, what: 'GET /history' },
    );
    if (history && typeof history === 'object' && id in history) return 'done';
    const queue = await this.http.json<{ queue_running?: unknown[][]; queue_pending?: unknown[][] }>(
      joinUrl(this.settings.url, 'queue'),
      { signal, what: 'GET /queue' },
    );
    if (queue.queue_running?.some((q) => Array.isArray(q) && q[1] === id)) return 'running';
    if (queue.queue_pending?.some((q) => Array.isArray(q) && q[1] === id)) return 'pending';
    // It may have finished between the two reads.
    const again = await this.http.json<Record<string, unknown>>(
      joinUrl(this.settings.url, `history/${encodeURIComponent(id)}`),
      { signal, what: 'GET /history' },
    );
    return again && typeof again === 'object' && id in again ? 'done' : 'missing';
  }

  /** Stops our prompt only: /interrupt when it runs, a queue delete when it waits (never someone else's). */
  private async cancelOnServer(id: string): Promise<void> {
    const quick = { timeoutMs: 5000, retries: 0, signal: undefined };
    try {
      const queue = await this.http.json<{ queue_running?: unknown[][]; queue_pending?: unknown[][] }>(
        joinUrl(this.settings.url, 'queue'),
        { ...quick, what: 'GET /queue' },
      );
      if (queue.queue_running?.some((q) => Array.isArray(q) && q[1] === id)) {
        await this.http.request(joinUrl(this.settings.url, 'interrupt'), {
          ...quick,
          json: { prompt_id: id },
          what: 'POST /interrupt',
        });
      } else if (queue.queue_pending?.some((q) => Array.isArray(q) && q[1] === id)) {
        await this.http.request(joinUrl(this.settings.url, 'queue'), {
          ...quick,
          json: { delete: [id] },
          what: 'POST /queue',
        });
      }
    } catch {
      // Best effort: the run is cancelled on our side either way.
    }
  }

  async health(options: { signal?: AbortSignal } = {}): Promise<BackendHealth> {
    try {
      const stats = await this.http.json<{
        system?: { comfyui_version?: string };
        devices?: { name?: string; vram_free?: number }[];
      }>(joinUrl(this.settings.url, 'system_stats'), {
        signal: options.signal,
        retries: 0,
        what: 'GET /system_stats',
      });
      const dev = stats.devices?.[0];
      const free = typeof dev?.vram_free === 'number' ? `, ${(dev.vram_free / 2 ** 30).toFixed(1)} GiB free` : '';
      return {
        ok: true,
        detail: `ComfyUI ${stats.system?.comfyui_version ?? ''}`.trim() + (dev?.name ? ` on ${dev.name}${free}` : ''),
      };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}
