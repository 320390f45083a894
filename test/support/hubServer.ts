/**
 * A loopback model hub in the Hugging Face layout: GET /<owner>/<name>/resolve/<rev>/<file>.
 * Like the real hub, large (.onnx) files answer with a 302 to a storage path and carry the LFS
 * size and SHA-256 in X-Linked-Size / X-Linked-Etag. A plan per file injects the failures the
 * downloader must survive.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export type Plan =
  | 'ok'
  | 'missing' // 404
  | 'truncate' // promises the full length, sends half, drops the connection
  | 'short' // the stored object is shorter than the LFS size the hub announces
  | 'corrupt' // right size, one byte wrong, announced hash of the good file
  | 'slow' // sends a first chunk, then one byte every 100 ms
  | 'stall'; // sends a first chunk, then nothing

export interface Hub {
  url: string;
  /** Paths requested, in order (after redirects too). */
  requests: string[];
  /** Bearer tokens seen, by path. */
  authorization: Map<string, string | undefined>;
  close(): Promise<void>;
}

export async function startHub(
  models: Record<string, string>,
  plan: (file: string) => Plan = () => 'ok',
): Promise<Hub> {
  const requests: string[] = [];
  const authorization = new Map<string, string | undefined>();
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let storageUrl = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url.pathname);
    authorization.set(url.pathname, req.headers.authorization);
    const storage = /^\/storage\/(.+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    let model: string, file: string;
    if (storage) [model, file] = JSON.parse(Buffer.from(storage[1]!, 'base64url').toString()) as [string, string];
    else if (resolve)
      [model, file] = [decodeURIComponent(resolve[1]!), resolve[3]!.split('/').map(decodeURIComponent).join('/')];
    else return void res.writeHead(404).end('not found');
    const dir = models[model];
    const full = dir ? path.join(dir, file) : '';
    if (!dir || !fs.existsSync(full) || plan(file) === 'missing') {
      res.writeHead(404, { 'content-type': 'text/plain', 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    const body = fs.readFileSync(full);
    const sha = createHash('sha256').update(body).digest('hex');
    if (resolve && file.endsWith('.onnx')) {
      // The hub's answer for an LFS file: where to get it, and what it must be.
      const target = `${storageUrl}/storage/${Buffer.from(JSON.stringify([model, file])).toString('base64url')}`;
      res.writeHead(302, { location: target, 'x-linked-size': String(body.length), 'x-linked-etag': `"${sha}"` }).end();
      return;
    }
    const p = plan(file);
    let data = body;
    if (p === 'short') data = body.subarray(0, Math.floor(body.length / 2));
    if (p === 'corrupt') {
      data = Buffer.from(body);
      data[data.length >> 1] = data[data.length >> 1]! ^ 0xff;
    }
    res.writeHead(200, { 'content-length': String(data.length), etag: resolve ? `"${sha.slice(0, 40)}"` : `"${sha}"` });
    if (p === 'truncate') {
      res.write(data.subarray(0, data.length >> 1), () => res.socket?.destroy());
      return;
    }
    if (p === 'slow' || p === 'stall') {
      res.write(data.subarray(0, 16));
      if (p === 'stall') return;
      let at = 16;
      const tick = setInterval(() => {
        if (at >= data.length || res.destroyed) {
          clearInterval(tick);
          timers.delete(tick);
          res.end();
          return;
        }
        res.write(data.subarray(at, at + 1));
        at += 1;
      }, 100);
      timers.add(tick);
      return;
    }
    res.end(data);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // Storage answers on another port, i.e. another origin, as the hub's CDN does.
  const storage = http.createServer((req, res) => server.emit('request', req, res));
  storage.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  storageUrl = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    authorization,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        storage.close();
        server.close(() => resolve());
      }),
  };
}
