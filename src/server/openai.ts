/**
 * The OpenAI Images API as the gateway speaks it: the request body of POST /v1/images/generations, checked, and the
 * error shape existing OpenAI clients read ({"error": {message, type, param, code}}). The shapes follow OpenAI's API
 * reference (images.generate) and its error codes guide.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function invalid(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, 'invalid_request_error', code, param);
}

export interface ImagesRequest {
  prompt: string;
  /** auto | edge | cloud | a backend name. */
  model: string;
  n: number;
  size?: { width: number; height: number };
  quality?: string;
  user?: string;
}

const KNOWN = new Set([
  'prompt',
  'model',
  'n',
  'size',
  'quality',
  'response_format',
  'user',
  'style',
  'background',
  'output_format',
  'output_compression',
  'moderation',
  'negative_prompt',
]);
const MAX_PROMPT = 32_000;
const MAX_N = 10;

export function parseImagesRequest(raw: unknown): ImagesRequest & { negative?: string } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('the request body must be a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw invalid(`Unrecognized request argument supplied: ${k}`, k);
  if (typeof o.prompt !== 'string' || !o.prompt.trim()) throw invalid('"prompt" must be a non-empty string', 'prompt');
  if (o.prompt.length > MAX_PROMPT) throw invalid(`"prompt" is longer than ${MAX_PROMPT} characters`, 'prompt');
  const model = o.model === undefined || o.model === null ? 'auto' : o.model;
  if (typeof model !== 'string') throw invalid('"model" must be auto, edge, cloud or a backend name', 'model');
  const n = o.n === undefined || o.n === null ? 1 : o.n;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_N)
    throw invalid(`"n" must be a whole number from 1 to ${MAX_N}`, 'n');
  const format = o.response_format ?? 'b64_json';
  if (format === 'url')
    throw invalid(
      'this gateway returns images as b64_json only (it keeps no images, and no shared image store is configured)',
      'response_format',
    );
  if (format !== 'b64_json') throw invalid('"response_format" must be b64_json', 'response_format');
  const out: ImagesRequest & { negative?: string } = { prompt: o.prompt, model, n };
  if (o.size !== undefined && o.size !== null && o.size !== 'auto') {
    const m = typeof o.size === 'string' ? /^(\d{2,5})x(\d{2,5})$/.exec(o.size) : null;
    const width = m ? Number(m[1]) : NaN;
    const height = m ? Number(m[2]) : NaN;
    if (!(width >= 64 && width <= 8192 && height >= 64 && height <= 8192))
      throw invalid('"size" must be auto or WIDTHxHEIGHT, each from 64 to 8192 (e.g. 1024x1024)', 'size');
    out.size = { width, height };
  }
  if (o.quality !== undefined && o.quality !== null) {
    if (typeof o.quality !== 'string' || !/^[a-z]{1,16}$/.test(o.quality))
      throw invalid('"quality" must be a word such as low, medium, high, standard, hd or auto', 'quality');
    if (o.quality !== 'auto') out.quality = o.quality;
  }
  if (o.user !== undefined) {
    if (typeof o.user !== 'string' || o.user.length > 256)
      throw invalid('"user" must be a string of at most 256 characters', 'user');
    out.user = o.user;
  }
  if (o.negative_prompt !== undefined) {
    if (typeof o.negative_prompt !== 'string' || o.negative_prompt.length > MAX_PROMPT)
      throw invalid('"negative_prompt" must be a string', 'negative_prompt');
    if (o.negative_prompt.trim()) out.negative = o.negative_prompt;
  }
  return out;
}
