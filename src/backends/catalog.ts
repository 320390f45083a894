import { BackendError } from './errors';
import { nearestShape } from './image';
import type { GenerationRequest, SentRequest } from './types';

/**
 * The cloud models RouteT2I knows, as data: what each costs, when it shuts down and what replaces it, and what it
 * accepts (steps, sizes or aspect ratios, negative prompt, seed), so a request is adapted or refused before money
 * is spent and the sidecar records what was really sent.
 *
 * Checked on CATALOG_CHECKED against the providers' own pages, named per provider below. A model the table does not
 * know works when the backend's config gives its `price` (USD per image); a config `price` also overrides the table.
 * A table older than STALE_AFTER_DAYS says so once per run.
 */
export const CATALOG_CHECKED = '2026-11-29';
export const STALE_AFTER_DAYS = 90;

export type Provider = 'openai' | 'replicate' | 'bfl' | 'fal' | 'stability';

export interface Capabilities {
  /** The steps the model takes, and the input field that carries them; absent: the model takes no steps. */
  steps?: { min: number; max: number; field: string };
  /** Exact sizes `WxH` it accepts (OpenAI). */
  sizes?: readonly string[];
  /** Aspect ratios `W:H` it accepts instead of a size. */
  aspects?: readonly string[];
  /** Free width and height within these bounds, rounded to a multiple. */
  dims?: { min: number; max: number; multiple: number };
  negative: boolean;
  seed: boolean;
}

export type Price =
  /** USD per image, whatever the size. */
  | { perImage: number }
  /** USD per started megapixel of output (fal, FLUX.2). */
  | { perMegapixel: number }
  /** OpenAI GPT image models: USD per 1M tokens, and an upper bound of output tokens per image by quality. */
  | {
      tokens: { textIn: number; imageIn: number; imageOut: number };
      outputTokens: Record<string, readonly [square: number, other: number]>;
      perImageFloor?: Record<string, readonly [number, number]>;
    }
  /** OpenAI DALL·E: USD per image by quality, [square, other]. */
  | { byQuality: Record<string, readonly [number, number]> };

export interface ModelEntry {
  provider: Provider;
  id: string;
  price?: Price;
  /** YYYY-MM-DD: the provider's announced shutdown; from that day on the model is refused. */
  shutdown?: string;
  /** The provider's API has no such endpoint (any more): refused at once, naming the successor. */
  noEndpoint?: true;
  successor?: string;
  caps: Capabilities;
}

/** Aspect ratios of Replicate's official FLUX models and BFL's Kontext/Ultra endpoints. */
export const FLUX_ASPECTS = ['21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3', '9:16', '9:21'] as const;
/** Aspect ratios of Replicate's SD 3.5 models (model pages, input schema "aspect_ratio" enum). */
const SD35_ASPECTS = ['1:1', '16:9', '21:9', '3:2', '2:3', '4:5', '5:4', '3:4', '4:3', '9:16', '9:21'] as const;
/** BFL Kontext takes aspect ratios from 3:7 to 7:3 (docs.bfl.ai, Kontext text-to-image). */
const KONTEXT_ASPECTS = [
  '3:7',
  '9:21',
  '1:2',
  '9:16',
  '2:3',
  '3:4',
  '4:5',
  '1:1',
  '5:4',
  '4:3',
  '3:2',
  '16:9',
  '2:1',
  '21:9',
  '7:3',
] as const;
const GPT_IMAGE_SIZES = ['1024x1024', '1536x1024', '1024x1536'] as const;

const GPT_IMAGE_CAPS: Capabilities = { sizes: GPT_IMAGE_SIZES, negative: false, seed: false };
const FLUX1_DIMS = { min: 256, max: 1440, multiple: 32 };
const FLUX2_DIMS = { min: 64, max: 2048, multiple: 16 };

/**
 * OpenAI: developers.openai.com/api/docs/deprecations (shutdowns and replacements), the model pages (token prices)
 * and the pricing page (per-image prices of gpt-image-1-mini). dall-e-2/3 shut down 2026-05-12, gpt-image-1 on
 * 2026-10-23; gpt-image-1-mini, gpt-image-1.5 and chatgpt-image-latest shut down 2026-12-01 with gpt-image-2.6-flare
 * or -sunburst as replacements. The 2.6 models' output tokens per image are not published per size: the bound below
 * uses gpt-image-1's (larger) counts, and the real charge is taken from the reply's `usage`.
 */
const OPENAI: ModelEntry[] = [
  {
    provider: 'openai',
    id: 'gpt-image-2.6-flare',
    price: {
      tokens: { textIn: 5, imageIn: 8, imageOut: 30 },
      outputTokens: { low: [272, 408], medium: [1056, 1584], high: [4160, 6240] },
    },
    caps: GPT_IMAGE_CAPS,
  },
  {
    provider: 'openai',
    id: 'gpt-image-2.6-sunburst',
    price: {
      tokens: { textIn: 5, imageIn: 8, imageOut: 30 },
      outputTokens: { low: [272, 408], medium: [1056, 1584], high: [4160, 6240] },
    },
    caps: GPT_IMAGE_CAPS,
  },
  {
    provider: 'openai',
    id: 'gpt-image-1-mini',
    // The token counts alone give less than the published per-image prices: the floor keeps the bound above them.
    price: {
      tokens: { textIn: 2, imageIn: 2.5, imageOut: 8 },
      outputTokens: { low: [272, 408], medium: [1056, 1584], high: [4160, 6240] },
      perImageFloor: { low: [0.005, 0.006], medium: [0.011, 0.015], high: [0.036, 0.052] },
    },
    shutdown: '2026-12-01',
    successor: 'gpt-image-2.6-flare',
    caps: GPT_IMAGE_CAPS,
  },
  {
    provider: 'openai',
    id: 'gpt-image-1.5',
    shutdown: '2026-12-01',
    successor: 'gpt-image-2.6-flare',
    caps: GPT_IMAGE_CAPS,
  },
  {
    provider: 'openai',
    id: 'chatgpt-image-latest',
    shutdown: '2026-12-01',
    successor: 'gpt-image-2.6-flare',
    caps: GPT_IMAGE_CAPS,
  },
  {
    provider: 'openai',
    id: 'gpt-image-1',
    shutdown: '2026-10-23',
    successor: 'gpt-image-2.6-flare',
    caps: GPT_IMAGE_CAPS,
  },
  {
    provider: 'openai',
    id: 'dall-e-3',
    price: { byQuality: { standard: [0.04, 0.08], hd: [0.08, 0.12] } },
    shutdown: '2026-05-12',
    successor: 'gpt-image-2.6-flare',
    caps: { sizes: ['1024x1024', '1792x1024', '1024x1792'], negative: false, seed: false },
  },
  {
    provider: 'openai',
    id: 'dall-e-2',
    shutdown: '2026-05-12',
    successor: 'gpt-image-2.6-flare',
    caps: { sizes: ['256x256', '512x512', '1024x1024'], negative: false, seed: false },
  },
];

/**
 * Replicate: each model's page and API tab (input schema): flux-schnell takes num_inference_steps 1–4, flux-dev 1–50,
 * the FLUX pro models no steps; SD 3.5 models take `aspect_ratio` and `steps` (large/medium 1–50, large-turbo 1–10),
 * and only large-turbo lists `negative_prompt`. Prices per image from the model pages.
 */
const REPLICATE: ModelEntry[] = [
  {
    provider: 'replicate',
    id: 'black-forest-labs/flux-schnell',
    price: { perImage: 0.003 },
    caps: {
      steps: { min: 1, max: 4, field: 'num_inference_steps' },
      aspects: FLUX_ASPECTS,
      negative: false,
      seed: true,
    },
  },
  {
    provider: 'replicate',
    id: 'black-forest-labs/flux-dev',
    price: { perImage: 0.025 },
    caps: {
      steps: { min: 1, max: 50, field: 'num_inference_steps' },
      aspects: FLUX_ASPECTS,
      negative: false,
      seed: true,
    },
  },
  {
    provider: 'replicate',
    id: 'black-forest-labs/flux-1.1-pro',
    price: { perImage: 0.04 },
    caps: { aspects: FLUX_ASPECTS, negative: false, seed: true },
  },
  {
    provider: 'replicate',
    id: 'black-forest-labs/flux-1.1-pro-ultra',
    price: { perImage: 0.06 },
    caps: { aspects: FLUX_ASPECTS, negative: false, seed: true },
  },
  {
    provider: 'replicate',
    id: 'stability-ai/stable-diffusion-3.5-large',
    price: { perImage: 0.065 },
    caps: { steps: { min: 1, max: 50, field: 'steps' }, aspects: SD35_ASPECTS, negative: false, seed: true },
  },
  {
    provider: 'replicate',
    id: 'stability-ai/stable-diffusion-3.5-large-turbo',
    price: { perImage: 0.04 },
    caps: { steps: { min: 1, max: 10, field: 'steps' }, aspects: SD35_ASPECTS, negative: true, seed: true },
  },
  {
    provider: 'replicate',
    id: 'stability-ai/stable-diffusion-3.5-medium',
    price: { perImage: 0.035 },
    caps: { steps: { min: 1, max: 50, field: 'steps' }, aspects: SD35_ASPECTS, negative: false, seed: true },
  },
];

/**
 * Black Forest Labs: the endpoints of BFL's published OpenAPI (docs.bfl.ai API reference; there is no `flux-pro`
 * endpoint) and docs.bfl.ai/quick_start/pricing (1 credit = USD 0.01; FLUX.2 is priced per megapixel "from" the
 * price below, bounded here per started megapixel; the submit reply's `cost` is the real charge). Kontext takes
 * `aspect_ratio` only; FLUX.1 pro/dev take width and height (multiples of 32, 256–1440).
 */
const BFL: ModelEntry[] = [
  {
    provider: 'bfl',
    id: 'flux-2-pro',
    price: { perMegapixel: 0.03 },
    caps: { dims: FLUX2_DIMS, negative: false, seed: true },
  },
  {
    provider: 'bfl',
    id: 'flux-2-max',
    price: { perMegapixel: 0.07 },
    caps: { dims: FLUX2_DIMS, negative: false, seed: true },
  },
  {
    provider: 'bfl',
    id: 'flux-2-flex',
    price: { perMegapixel: 0.05 },
    caps: { dims: FLUX2_DIMS, negative: false, seed: true },
  },
  {
    provider: 'bfl',
    id: 'flux-pro-1.1',
    price: { perImage: 0.04 },
    caps: { dims: FLUX1_DIMS, negative: false, seed: true },
  },
  {
    provider: 'bfl',
    id: 'flux-pro-1.1-ultra',
    price: { perImage: 0.06 },
    caps: { aspects: FLUX_ASPECTS, negative: false, seed: true },
  },
  {
    provider: 'bfl',
    id: 'flux-dev',
    price: { perImage: 0.025 },
    caps: { dims: FLUX1_DIMS, steps: { min: 1, max: 50, field: 'steps' }, negative: false, seed: true },
  },
  {
    provider: 'bfl',
    id: 'flux-kontext-pro',
    price: { perImage: 0.04 },
    caps: { aspects: KONTEXT_ASPECTS, negative: false, seed: true },
  },
  {
    provider: 'bfl',
    id: 'flux-pro',
    noEndpoint: true,
    successor: 'flux-pro-1.1',
    caps: { dims: FLUX1_DIMS, negative: false, seed: true },
  },
  {
    provider: 'bfl',
    id: 'flux-kontext-max',
    price: { perImage: 0.08 },
    caps: { aspects: KONTEXT_ASPECTS, negative: false, seed: true },
  },
];

/** fal.ai: the model pages (USD per started megapixel) and input schemas (steps ranges, negative prompt). */
const FAL: ModelEntry[] = [
  {
    provider: 'fal',
    id: 'fal-ai/flux/schnell',
    price: { perMegapixel: 0.003 },
    caps: {
      steps: { min: 1, max: 12, field: 'num_inference_steps' },
      dims: { min: 64, max: 2048, multiple: 8 },
      negative: false,
      seed: true,
    },
  },
  {
    provider: 'fal',
    id: 'fal-ai/flux/dev',
    price: { perMegapixel: 0.025 },
    caps: {
      steps: { min: 1, max: 50, field: 'num_inference_steps' },
      dims: { min: 64, max: 2048, multiple: 8 },
      negative: false,
      seed: true,
    },
  },
  {
    provider: 'fal',
    id: 'fal-ai/flux-pro/v1.1',
    price: { perMegapixel: 0.04 },
    caps: { dims: { min: 64, max: 2048, multiple: 8 }, negative: false, seed: true },
  },
  {
    provider: 'fal',
    id: 'fal-ai/flux-pro/new',
    price: { perMegapixel: 0.05 },
    caps: {
      steps: { min: 1, max: 50, field: 'num_inference_steps' },
      dims: { min: 64, max: 2048, multiple: 8 },
      negative: false,
      seed: true,
    },
  },
  {
    provider: 'fal',
    id: 'fal-ai/fast-sdxl',
    price: { perMegapixel: 0.0025 },
    caps: {
      steps: { min: 1, max: 50, field: 'num_inference_steps' },
      dims: { min: 64, max: 2048, multiple: 8 },
      negative: true,
      seed: true,
    },
  },
];

/** Stability AI v2beta (platform.stability.ai pricing: credits per image, 1 credit = USD 0.01). */
const STABILITY_ASPECT_LIST = ['21:9', '16:9', '3:2', '5:4', '1:1', '4:5', '2:3', '9:16', '9:21'] as const;
const STABILITY: ModelEntry[] = [
  {
    provider: 'stability',
    id: 'ultra',
    price: { perImage: 0.08 },
    caps: { aspects: STABILITY_ASPECT_LIST, negative: true, seed: true },
  },
  {
    provider: 'stability',
    id: 'core',
    price: { perImage: 0.03 },
    caps: { aspects: STABILITY_ASPECT_LIST, negative: true, seed: true },
  },
  {
    provider: 'stability',
    id: 'sd3.5-large',
    price: { perImage: 0.065 },
    caps: { aspects: STABILITY_ASPECT_LIST, negative: true, seed: true },
  },
  {
    provider: 'stability',
    id: 'sd3.5-large-turbo',
    price: { perImage: 0.04 },
    caps: { aspects: STABILITY_ASPECT_LIST, negative: true, seed: true },
  },
  {
    provider: 'stability',
    id: 'sd3.5-medium',
    price: { perImage: 0.035 },
    caps: { aspects: STABILITY_ASPECT_LIST, negative: true, seed: true },
  },
  {
    provider: 'stability',
    id: 'sd3.5-flash',
    price: { perImage: 0.025 },
    caps: { aspects: STABILITY_ASPECT_LIST, negative: true, seed: true },
  },
];

export const CATALOG: readonly ModelEntry[] = Object.freeze([...OPENAI, ...REPLICATE, ...BFL, ...FAL, ...STABILITY]);

export function findModel(provider: Provider, id: string): ModelEntry | undefined {
  return CATALOG.find((m) => m.provider === provider && m.id === id);
}

/** Today as YYYY-MM-DD (UTC). */
export function isoDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * The table's entry for a configured model, refusing one past its shutdown date (naming its successor) and one
 * the table cannot price when the config gives no `price`.
 */
export function modelFor(
  provider: Provider,
  id: string,
  options: { price?: number; now: Date; backend: string },
): ModelEntry | undefined {
  const entry = findModel(provider, id);
  if (entry?.noEndpoint) {
    throw new BackendError(
      'config',
      options.backend,
      `model "${id}" has no endpoint in the provider's published API; use "${entry.successor ?? 'a current model'}" instead`,
      {
        hint: `set "model": "${entry.successor ?? '…'}" for this backend`,
      },
    );
  }
  if (entry?.shutdown && isoDay(options.now) >= entry.shutdown) {
    throw new BackendError(
      'config',
      options.backend,
      `model "${id}" was shut down on ${entry.shutdown} (provider's announcement); use "${entry.successor ?? 'a current model'}" instead`,
      {
        hint: `set "model": "${entry.successor ?? '…'}" for this backend`,
      },
    );
  }
  if (options.price === undefined && !entry?.price) {
    const known = CATALOG.filter((m) => m.provider === provider && m.price && !m.shutdown && !m.noEndpoint).map(
      (m) => m.id,
    );
    throw new BackendError(
      'config',
      options.backend,
      `no price is known for model "${id}"; set "price" (USD per image) so the ledger can reserve it, or use one of ${known.join(', ')}`,
    );
  }
  return entry;
}

let staleWarned = false;

/** Once per run: a warning when the table is older than STALE_AFTER_DAYS (its prices and dates may have moved). */
export function staleCatalogWarning(now: Date): string | undefined {
  if (staleWarned) return undefined;
  const age = Math.floor((now.getTime() - Date.parse(`${CATALOG_CHECKED}T00:00:00Z`)) / 86_400_000);
  if (age <= STALE_AFTER_DAYS) return undefined;
  staleWarned = true;
  return `RouteT2I's model and price table was checked on ${CATALOG_CHECKED}, ${age} days ago: prices and shutdown dates may have changed (set "price" per backend to override)`;
}

/** For tests: forget that the stale-table warning was given. */
export function resetStaleWarning(): void {
  staleWarned = false;
}

function ratio(shape: string, sep: ':' | 'x'): number {
  const [w, h] = shape.split(sep).map(Number) as [number, number];
  return w / h;
}

/**
 * What the model will be sent for this request: steps clamped into its range (or dropped where it takes none),
 * the nearest size or aspect ratio it accepts (or width/height rounded into its bounds), the negative prompt and
 * seed only where it reads them. Each change is a note, kept in the sidecar.
 */
export function adaptRequest(request: GenerationRequest, caps: Capabilities): SentRequest {
  const notes: string[] = [];
  const sent: SentRequest = { width: request.width, height: request.height, notes };
  if (caps.sizes) {
    const size = nearestShape(request.width, request.height, caps.sizes, 'x');
    const [w, h] = size.split('x').map(Number) as [number, number];
    sent.size = size;
    sent.width = w;
    sent.height = h;
    if (w !== request.width || h !== request.height)
      notes.push(`size ${request.width}x${request.height} → ${size} (the sizes the model accepts)`);
  } else if (caps.aspects) {
    const aspect = nearestShape(request.width, request.height, caps.aspects, ':');
    sent.aspectRatio = aspect;
    if (Math.abs(Math.log(ratio(aspect, ':') / (request.width / request.height))) > 1e-3)
      notes.push(`aspect ratio ${request.width}:${request.height} → ${aspect}`);
  } else if (caps.dims) {
    const fit = (x: number) =>
      Math.min(caps.dims!.max, Math.max(caps.dims!.min, Math.round(x / caps.dims!.multiple) * caps.dims!.multiple));
    sent.width = fit(request.width);
    sent.height = fit(request.height);
    if (sent.width !== request.width || sent.height !== request.height)
      notes.push(
        `size ${request.width}x${request.height} → ${sent.width}x${sent.height} (multiples of ${caps.dims.multiple}, ${caps.dims.min}–${caps.dims.max})`,
      );
  }
  if (request.steps !== undefined) {
    if (!caps.steps) notes.push(`steps ${request.steps} not sent (the model takes none)`);
    else {
      sent.steps = Math.min(caps.steps.max, Math.max(caps.steps.min, Math.round(request.steps)));
      if (sent.steps !== request.steps)
        notes.push(`steps ${request.steps} → ${sent.steps} (the model takes ${caps.steps.min}–${caps.steps.max})`);
    }
  }
  if (request.negative) {
    if (caps.negative) sent.negative = request.negative;
    else notes.push('negative prompt not sent (the model has no negative prompt)');
  }
  if (caps.seed && request.seed !== undefined) sent.seed = request.seed;
  return sent;
}
