/**
 * A loopback OpenAI Images endpoint (POST /v1/images/generations → {created, data: [{b64_json}]},
 * refusals (prompts matching `refuse`) as HTTP 400 with error.code content_policy_violation), serving a fixed solid-colour PNG
 * per prompt, so `collect` can run end to end against the real openai / openai-compatible clients.
 *
 * As an edge it answers like stable-diffusion.cpp's sd-server (examples/server/routes_openai.cpp): GET /v1/models
 * lists `sd-cpp-local`, and seed, negative_prompt and steps are read from `<sd_cpp_extra_args>{…}</sd_cpp_extra_args>`
 * inside the prompt (cut out before the prompt is used); `received` holds the body with those fields lifted out.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { solidImage } from './images';

export interface ImagesApi {
  url: string;
  /** Request bodies received, in order. */
  received: Array<Record<string, unknown>>;
  /** The PNG served for a prompt. */
  imageFor(prompt: string): Promise<Uint8Array>;
  /** Called as each request arrives (before the reply). */
  onRequest?: (body: Record<string, unknown>) => void;
  /** Delay before each reply, ms. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startImagesApi(options: {
  key?: string;
  refuse?: RegExp;
  colour: (prompt: string) => [number, number, number];
}): Promise<ImagesApi> {
  const cache = new Map<string, Promise<Uint8Array>>();
  const imageFor = (prompt: string) => {
    let p = cache.get(prompt);
    if (!p) cache.set(prompt, (p = solidImage(options.colour(prompt), 64, 64, 'png')));
    return p;
  };
  const sockets = new Set<import('node:net').Socket>();
  const api: ImagesApi = {
    url: '',
    received: [],
    imageFor,
    delayMs: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // The handler answers every request itself (errors included), so nothing waits on its promise.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    req.on('end', async () => {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res
          .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
          .end(text);
      };
      if (req.method === 'GET' && req.url === '/v1/models')
        return send(200, { data: [{ id: 'sd-cpp-local', object: 'model', owned_by: 'local' }] });
      if (req.method !== 'POST' || req.url !== '/v1/images/generations')
        return send(404, { error: { message: 'not found' } });
      if (options.key && req.headers.authorization !== `Bearer ${options.key}`) {
        return send(401, {
          error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
        });
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const extra = /<sd_cpp_extra_args>(.*?)<\/sd_cpp_extra_args>/.exec(String(body.prompt));
      if (extra) {
        body.prompt = String(body.prompt).replace(extra[0], '');
        Object.assign(body, JSON.parse(extra[1]!) as Record<string, unknown>);
      }
      api.received.push(body);
      api.onRequest?.(body);
      if (api.delayMs > 0) await new Promise((r) => setTimeout(r, api.delayMs));
      if (res.destroyed) return;
      const prompt = String(body.prompt);
      if (options.refuse?.test(prompt)) {
        return send(400, {
          error: {
            message: 'Your request was rejected as a result of our safety system.',
            type: 'invalid_request_error',
            code: 'content_policy_violation',
          },
        });
      }
      const png = await imageFor(prompt);
      send(200, { created: 1_700_000_000, data: [{ b64_json: Buffer.from(png).toString('base64') }] });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}
