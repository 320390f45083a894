/** The one interface every generation backend (edge or cloud) implements. All network code lives under src/backends. */

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

export interface GenerationResult {
  image: Uint8Array;
  mime: string;
  seed?: number;
  backend: string;
  model: string;
  /** Money actually spent, in the policy's currency (USD); 0 for a local edge server. */
  cost: number;
  timings: GenerationTimings;
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
  generate(request: GenerationRequest, options?: GenerateOptions): Promise<GenerationResult>;
  /** Cost in USD that a call with this request is expected to charge, without any network call. */
  estimateCost(request: GenerationRequest): number;
  health(options?: { signal?: AbortSignal }): Promise<BackendHealth>;
}
