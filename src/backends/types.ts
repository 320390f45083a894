/** The one interface every generation backend (edge or cloud) implements. All network code lives under src/backends. */

import type { Scores } from '../router/types';

export interface GenerationRequest {
  prompt: string;
  negative?: string;
  width: number;
  height: number;
  seed?: number;
  steps?: number;
  /** Backend-specific extras (sampler, cfg, quality…), passed through where the protocol has a place for them. */
  extra?: Record<string, unknown>;
}

export type GenerationProgress =
  | { status: 'queued'; position?: number }
  | { status: 'running'; fraction?: number; step?: number; steps?: number }
  | { status: 'downloading'; loaded: number; total?: number }
  | { status: 'done' };

export interface GenerationTimings {
  queuedMs?: number;
  generateMs?: number;
  totalMs: number;
}

/** What a backend actually sent for a request, after fitting it to the model (the sidecar records it). */
export interface SentRequest {
  width: number;
  height: number;
  /** The exact size sent (`WxH`), where the API takes one. */
  size?: string;
  /** The aspect ratio sent instead of a size. */
  aspectRatio?: string;
  steps?: number;
  /** The negative prompt as sent; absent when none was sent. */
  negative?: string;
  /** The seed the server used or was given; absent when the server has no seed input. */
  seed?: number;
  /** How the request was changed to fit the model ("steps 30 → 4 (the model takes 1–4)"). */
  notes?: string[];
}

export interface GenerationResult {
  image: Uint8Array;
  mime: string;
  seed?: number;
  backend: string;
  model: string;
  /** Money actually spent, in the policy's currency (USD); 0 for a local edge server. */
  cost: number;
  timings: GenerationTimings;
  /** What was actually sent, where it differs from the request or the server reads only part of it. */
  sent?: SentRequest;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onProgress?: (progress: GenerationProgress) => void;
}

export interface BackendHealth {
  ok: boolean;
  detail: string;
}

export interface Backend {
  /** Backend kind, e.g. `comfyui`, `openai`. */
  readonly name: string;
  readonly side: 'edge' | 'cloud';
  /** The model (checkpoint, model id) this backend renders with, as the sidecar records it. */
  readonly model: string;
  /** The secret this backend reads its key from (e.g. `OPENAI_API_KEY`), if it needs one. */
  readonly secretName?: string;
  generate(request: GenerationRequest, options?: GenerateOptions): Promise<GenerationResult>;
  /** The longest one `generate` may take in all (submit, queue, polls, download), ms; enforced by its caller too. */
  readonly maxWaitMs?: number;
  /**
   * Cost in USD that a call with this request may charge, without any network call: an upper bound of the
   * real charge, because the ledger reserves it and the monthly cap holds only if reservations cover charges.
   */
  estimateCost(request: GenerationRequest): number;
  health(options?: { signal?: AbortSignal }): Promise<BackendHealth>;
}

/** The backends the registry knows. */
export const BACKEND_NAMES = [
  'comfyui',
  'a1111',
  'openai-compatible',
  'openai',
  'stability',
  'replicate',
  'fal',
  'bfl',
] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * Where API keys come from: environment variables in the CLI, VS Code SecretStorage in the extension.
 * Keys are read when first needed and are never logged, stored in settings or put in error messages.
 */
export interface SecretSource {
  get(name: string): Promise<string | undefined> | string | undefined;
}

/**
 * One backend's settings, as a config file or the extension's settings hold them. Every field is
 * optional; each backend documents its own extras (README, "Backends").
 */
export interface BackendConfig {
  /** Base URL of the server or API. */
  url?: string;
  /** Model, checkpoint or endpoint id. */
  model?: string;
  /** Override of the side (`openai-compatible` is edge by default, e.g. stable-diffusion.cpp's server). */
  side?: 'edge' | 'cloud';
  /** Price per image in USD, overriding the built-in table. */
  price?: number;
  /** Until a reply's headers arrive, ms. */
  timeoutMs?: number;
  /** Longest silence inside a reply or a progress stream, ms. */
  idleTimeoutMs?: number;
  /** Longest a whole generation may take, ms. */
  maxWaitMs?: number;
  /** Send the key over plain http to a host that is not this machine (default false: https or loopback only). */
  allowInsecureHttp?: boolean;
  /** Bounded retries of one request on 429/5xx. */
  retries?: number;
  /** First backoff between retries, ms (doubles each time); a Retry-After from the server wins. */
  retryDelayMs?: number;
  /** Between two polls of a submit-and-poll API, ms. */
  pollIntervalMs?: number;
  [key: string]: unknown;
}

/**
 * Measures an image's quality per metric (the runtime's CLIP scorer implements it): used by cascade
 * mode to decide whether an edge image is good enough.
 */
export type QualityScorer = (image: Uint8Array, prompt: string, options?: { signal?: AbortSignal }) => Promise<Scores>;
