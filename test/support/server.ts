import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A loopback HTTP (+ WebSocket) server for backend tests: routes by method and path, records every
 * request (headers, raw body, parsed JSON or multipart form), and injects faults on chosen requests.
 */

export interface Recorded {
  method: string;
  /** Path and query, as received. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  json?: any;
  form?: FormData;
}

export type Handler = (req: Recorded, res: ServerResponse, server: TestServer) => void | Promise<void>;

/** What to do instead of the route's normal reply, for one request. */
export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answer. */
  | 'hang'
  /** Send headers and part of the body, then stop sending without closing. */
  | 'hang-mid-body'
  /** Promise a longer body than sent, then close. */
  | 'truncate'
  /** 200 with a body that is not JSON. */
  | 'malformed'
  /** Close the connection without a reply. */
  | 'reset';

interface Route {
  method: string;
  path: string | RegExp;
  handler: Handler;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendBytes(
  res: ServerResponse,
  status: number,
  bytes: Uint8Array,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.byteLength, ...headers });
  res.end(bytes);
}

export class TestServer {
  readonly requests: Recorded[] = [];
  private readonly routes: Route[] = [];
  private readonly faults: { method: string; path: string | RegExp; fault: Fault }[] = [];
  private readonly sockets = new Set<Socket>();
  readonly sockets_ws = new Set<WebSocket>();
  wss: WebSocketServer | undefined;
  url = '';

  private constructor(private readonly server: Server) {}

  static async start(
    options: { websocketPath?: string; onConnection?: (ws: WebSocket, req: IncomingMessage) => void } = {},
  ): Promise<TestServer> {
    const server = createServer();
    const t = new TestServer(server);
    server.on('connection', (s) => {
      t.sockets.add(s);
      s.on('close', () => t.sockets.delete(s));
    });
    server.on('request', (req, res) => void t.handle(req, res));
    if (options.websocketPath) {
      t.wss = new WebSocketServer({ noServer: true });
      server.on('upgrade', (req, socket, head) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path !== options.websocketPath) return socket.destroy();
        t.wss!.handleUpgrade(req, socket, head, (ws) => {
          t.sockets_ws.add(ws);
          ws.on('close', () => t.sockets_ws.delete(ws));
          options.onConnection?.(ws, req);
        });
      });
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    t.url = `http://127.0.0.1:${addr.port}`;
    return t;
  }

  on(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.push({ method: method.toUpperCase(), path, handler });
    return this;
  }

  /** Queues faults for the next matching requests, one fault per request, in order. */
  fault(method: string, path: string | RegExp, ...faults: Fault[]): this {
    for (const fault of faults) this.faults.push({ method: method.toUpperCase(), path, fault });
    return this;
  }

  /** Requests to a path (exact, or matching a RegExp). */
  to(method: string, path: string | RegExp): Recorded[] {
    return this.requests.filter((r) => r.method === method.toUpperCase() && matches(path, r.path));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const u = new URL(req.url ?? '/', 'http://x');
    const rec: Recorded = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: u.pathname,
      query: u.searchParams,
      headers: req.headers,
      body,
    };
    const type = req.headers['content-type'] ?? '';
    if (type.includes('json') && body.length) {
      try {
        rec.json = JSON.parse(body.toString('utf8'));
      } catch {
        rec.json = undefined;
      }
    }
    if (type.startsWith('multipart/form-data')) {
      // undici parses multipart for us: no dependency needed.
      rec.form = await new Response(body, { headers: { 'content-type': type } }).formData();
    }
    this.requests.push(rec);
    const fi = this.faults.findIndex((f) => f.method === rec.method && matches(f.path, rec.path));
    if (fi >= 0) {
      const fault = this.faults.splice(fi, 1)[0]!.fault;
      return applyFault(fault, res);
    }
    const route = this.routes.find((r) => r.method === rec.method && matches(r.path, rec.path));
    if (!route) return sendJson(res, 404, { detail: `no route for ${rec.method} ${rec.path}` });
    try {
      await route.handler(rec, res, this);
    } catch (e) {
      if (!res.headersSent) sendJson(res, 500, { error: String(e) });
    }
  }

  broadcast(message: unknown): void {
    for (const ws of this.sockets_ws) ws.send(JSON.stringify(message));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets_ws) ws.terminate();
    this.wss?.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function matches(p: string | RegExp, path: string): boolean {
  return typeof p === 'string' ? p === path : p.test(path);
}

function applyFault(fault: Fault, res: ServerResponse): void {
  if (fault === 'hang') return;
  if (fault === 'reset') {
    res.socket?.destroy();
    return;
  }
  if (fault === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"data": [ {"b64_json": "iVBOR');
    return;
  }
  if (fault === 'truncate') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
    res.write('{"partial": "');
    setTimeout(() => res.socket?.destroy(), 10);
    return;
  }
  if (fault === 'hang-mid-body') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data": [');
    return;
  }
  const body = typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body ?? {});
  res.writeHead(fault.status, {
    'content-type': typeof fault.body === 'string' ? 'text/plain' : 'application/json',
    ...fault.headers,
  });
  res.end(body);
}
