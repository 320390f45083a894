/**
 * Fetches a model's files into the download cache, one verified file at a time.
 *
 * We download ourselves rather than through transformers.js' remote loading because we need what
 * it does not give: cancellation (an AbortSignal), a stall timeout, size and SHA-256 checks, and
 * files that appear under their real names only when complete (a temp file, fsync, rename). Each
 * completed file is recorded with its size and hash in a manifest beside it, so a later load can
 * tell a complete cache from a damaged one; transformers.js then loads the folder local-only.
 */
import { writeFileAtomicSync } from '../router/atomicWrite';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError, RouteT2IError } from '../router/errors';
import { credentialRefusal, sameOrigin, scrub } from '../shared/secrets';
import { cachedModelDir, DEFAULT_HUB_URL, type ModelProgress } from './modelStore';

export const MANIFEST = '.routet2i-download.json';
const MANIFEST_VERSION = 1;

interface ManifestEntry {
  size: number;
  sha256: string;
}
interface Manifest {
  version: number;
  model: string;
  revision: string;
  files: Record<string, ManifestEntry>;
}

export interface DownloadOptions {
  model: string;
  files: readonly string[];
  cacheDir: string;
  hubUrl?: string;
  revision?: string;
  /**
   * Bearer token for the hub (gated models). Sent only to the default hub's own origin over https, never to a
   * redirect elsewhere; to a custom `hubUrl` (a mirror) only when `trustHub` says so (ROUTET2I_HUB_TRUST_TOKEN=1),
   * and even then never over plain http to another machine (src/shared/secrets.ts).
   */
  token?: string;
  /** Send `token` to a custom `hubUrl` too (the user's explicit opt-in). */
  trustHub?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: ModelProgress) => void;
  /** Where a note about a withheld token goes. */
  onWarning?: (message: string) => void;
  /** Give up on a file when no byte arrives for this long (default 60 s). */
  stallMs?: number;
  fetch?: typeof fetch;
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Makes sure every listed file of the model is complete in the cache and returns the model folder.
 * Files already recorded with a matching size are kept; missing or damaged ones are fetched again.
 * Concurrent calls for the same files share one download.
 */
export function ensureCachedModel(options: DownloadOptions): Promise<string> {
  const dir = cachedModelDir(options.cacheDir, options.model);
  const key = `${dir}\n${[...options.files].sort().join('\n')}`;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = fillCache(dir, options).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

/** The files of the list that are not complete in the cache folder (missing, unrecorded, or of the wrong size). */
export function missingFiles(dir: string, files: readonly string[]): string[] {
  const manifest = readManifest(dir);
  return files.filter((f) => {
    const entry = manifest?.files[f];
    if (!entry) return true;
    try {
      return fs.statSync(path.join(dir, f)).size !== entry.size;
    } catch {
      return true;
    }
  });
}

async function fillCache(dir: string, options: DownloadOptions): Promise<string> {
  const todo = missingFiles(dir, options.files);
  if (todo.length === 0) return dir;
  fs.mkdirSync(dir, { recursive: true });
  removeStaleParts(dir);
  options.onProgress?.({ status: 'initiate', count: todo.length });
  for (const [i, file] of todo.entries()) {
    const entry = await downloadFile(dir, file, i + 1, todo.length, options);
    recordFile(dir, options, file, entry);
  }
  options.onProgress?.({ status: 'ready' });
  return dir;
}

function fileUrl(options: DownloadOptions, file: string): URL {
  const base = (options.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  const rel = [...options.model.split('/'), 'resolve', options.revision ?? 'main', ...file.split('/')]
    .map(encodeURIComponent)
    .join('/');
  let url: URL;
  try {
    url = new URL(`${base}/${rel}`);
  } catch {
    throw new RouteT2IError(
      'bad-hub-url',
      `model hub URL "${scrub(String(options.hubUrl), [options.token])}" is not a URL`,
      'check ROUTET2I_HUB_URL / the routet2i.hubUrl setting',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RouteT2IError(
      'bad-hub-url',
      `model hub URL "${scrub(String(options.hubUrl), [options.token])}" must start with https:// or http://`,
    );
  }
  return url;
}

const SHA256 = /^[0-9a-f]{64}$/;
function etagSha(value: string | null): string | undefined {
  const tag = value?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase();
  return tag && SHA256.test(tag) ? tag : undefined;
}

/** GET with redirects followed by hand, so the hub's X-Linked-Size/X-Linked-Etag (the LFS size and hash) are seen. */
async function open(url: URL, options: DownloadOptions, signal: AbortSignal) {
  const doFetch = options.fetch ?? fetch;
  const hubOrigin = url.origin;
  const token = tokenFor(url, options);
  let linkedSize: number | undefined;
  let linkedSha: string | undefined;
  let current = url;
  for (let hop = 0; hop < 8; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'routet2i' };
    if (token && sameOrigin(current, hubOrigin) && !credentialRefusal(current))
      headers.authorization = `Bearer ${token}`;
    const response = await doFetch(current, { headers, redirect: 'manual', signal });
    const size = Number(response.headers.get('x-linked-size') ?? NaN);
    if (Number.isSafeInteger(size) && size >= 0) linkedSize ??= size;
    linkedSha ??= etagSha(response.headers.get('x-linked-etag'));
    if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      await response.body?.cancel().catch(() => undefined);
      current = new URL(response.headers.get('location')!, current);
      continue;
    }
    return { response, url: current, linkedSize, linkedSha };
  }
  throw new RouteT2IError('download-failed', `${scrub(url.toString(), [options.token])}: too many redirects`);
}

/**
 * The hub token where it may go: the default hub's origin, or a custom hub the user trusts with it; never over plain
 * http to another machine. A token withheld from a custom hub is said once, so a 401 there is not a mystery.
 */
function tokenFor(hub: URL, options: DownloadOptions): string | undefined {
  if (!options.token) return undefined;
  const own = sameOrigin(hub, new URL(DEFAULT_HUB_URL));
  if (!own && !options.trustHub) {
    options.onWarning?.(
      `HF_TOKEN is not sent to ${hub.host}: it goes only to ${new URL(DEFAULT_HUB_URL).host} unless ROUTET2I_HUB_TRUST_TOKEN=1`,
    );
    return undefined;
  }
  const refusal = credentialRefusal(hub);
  if (refusal) {
    options.onWarning?.(`HF_TOKEN is not sent: ${refusal}`);
    return undefined;
  }
  return options.token;
}

async function downloadFile(
  dir: string,
  file: string,
  index: number,
  count: number,
  options: DownloadOptions,
): Promise<ManifestEntry> {
  const url = fileUrl(options, file);
  const target = path.join(dir, ...file.split('/'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const part = `${target}.${randomBytes(4).toString('hex')}.part`;
  const stallMs = options.stallMs ?? 60_000;
  const stall = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), stallMs);
  };
  let loaded = 0;
  let total: number | undefined;
  let handle: fs.promises.FileHandle | undefined;
  try {
    arm();
    const opened = await open(url, options, signal);
    const { response } = opened;
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw httpError(response.status, url, options.model, file);
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
    total = opened.linkedSize ?? (Number.isSafeInteger(length) && !encoded ? length : undefined);
    const expectedSha = opened.linkedSha ?? etagSha(response.headers.get('etag'));
    const hash = createHash('sha256');
    handle = await fs.promises.open(part, 'w');
    let lastReport = 0;
    const report = (force: boolean) => {
      const now = Date.now();
      if (!force && now - lastReport < 100) return;
      lastReport = now;
      options.onProgress?.({
        status: 'progress',
        file,
        loaded,
        total,
        progress: total ? Math.min(100, (100 * loaded) / total) : undefined,
        index,
        count,
      });
    };
    report(true);
    if (response.body) {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        arm();
        await handle.write(chunk);
        hash.update(chunk);
        loaded += chunk.byteLength;
        report(false);
      }
    }
    report(true);
    if (total !== undefined && loaded !== total) {
      throw new RouteT2IError(
        'download-incomplete',
        `${file} of ${options.model}: received ${loaded} of ${total} bytes from ${url.origin}; the file was cut short, so nothing was kept`,
        'run the command again to retry',
      );
    }
    const sha256 = hash.digest('hex');
    if (expectedSha && sha256 !== expectedSha) {
      throw new RouteT2IError(
        'download-corrupt',
        `${file} of ${options.model}: SHA-256 ${sha256.slice(0, 12)}… does not match the hub's ${expectedSha.slice(0, 12)}…; nothing was kept`,
        'run the command again to retry',
      );
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    fs.renameSync(part, target);
    options.onProgress?.({ status: 'done', file, loaded, total: loaded, progress: 100, index, count });
    return { size: loaded, sha256 };
  } catch (e) {
    if (options.signal?.aborted) throw new CancelledError(`download of ${options.model} cancelled`);
    if (stall.signal.aborted) {
      throw new RouteT2IError(
        'download-stalled',
        `${file} of ${options.model}: no data from ${url.origin} for ${Math.round(stallMs / 1000)} s after ${loaded} bytes; nothing was kept`,
        'check the connection and run again, or point --models-dir at a local copy',
      );
    }
    if (e instanceof RouteT2IError) throw e;
    if (loaded > 0 || total !== undefined) {
      throw new RouteT2IError(
        'download-incomplete',
        `${file} of ${options.model}: the connection to ${url.origin} broke after ${loaded}${total ? ` of ${total}` : ''} bytes; nothing was kept`,
        'run the command again to retry',
      );
    }
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new RouteT2IError(
      'download-failed',
      `could not download ${options.model} from ${url.origin}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
      'check the connection, or point --models-dir at a local copy of the model',
    );
  } finally {
    clearTimeout(timer);
    if (handle) await handle.close().catch(() => undefined);
    fs.rmSync(part, { force: true });
  }
}

function httpError(status: number, url: URL, model: string, file: string): RouteT2IError {
  if (status === 404) {
    return new RouteT2IError(
      'model-not-found',
      `${url.origin} has no ${file} for model ${model} (HTTP 404)`,
      'check the model id and precision; it needs ONNX files in the transformers.js layout',
    );
  }
  if (status === 401 || status === 403) {
    return new RouteT2IError(
      'download-denied',
      `${url.origin} refused ${file} of ${model} (HTTP ${status})`,
      'a gated model needs HF_TOKEN set',
    );
  }
  return new RouteT2IError(
    'download-failed',
    `${url.origin} answered HTTP ${status} for ${file} of ${model}`,
    'try again later',
  );
}

function readManifest(dir: string): Manifest | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
    return parsed.version === MANIFEST_VERSION && parsed.files && typeof parsed.files === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function recordFile(dir: string, options: DownloadOptions, file: string, entry: ManifestEntry): void {
  const manifest = readManifest(dir) ?? {
    version: MANIFEST_VERSION,
    model: options.model,
    revision: options.revision ?? 'main',
    files: {},
  };
  manifest.files[file] = entry;
  writeFileAtomicSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
}

/** Temp files left by a process that died mid-download (older than an hour, so no live download is touched). */
function removeStaleParts(dir: string): void {
  const cutoff = Date.now() - 3600_000;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.part') && fs.statSync(p).mtimeMs < cutoff) fs.rmSync(p, { force: true });
    }
  };
  walk(dir);
}
