import { RouteT2IError } from '../router/errors';
import type { PromptEntry } from '../router/types';
import type { GenerationRequest } from '../backends/types';

/** What a run supplies where a prompt's settings are silent (the CLI's config file, the editor's settings). */
export interface RequestDefaults {
  width?: number;
  height?: number;
  steps?: number | null;
  negative?: string;
}

/** Settings that become request fields; the others (cfg, sampler, checkpoint…) pass through as `extra`. */
const OWN = new Set(['width', 'height', 'seed', 'steps', 'backend', 'negative']);

/**
 * A prompt and its settings (its file's front matter and its own, already merged) over the run's defaults → the request
 * every backend receives, the same from the CLI and the editor. `where` names the file in errors.
 */
export function requestFor(
  entry: PromptEntry,
  settings: Readonly<Record<string, unknown>>,
  defaults: RequestDefaults,
  where: string,
): GenerationRequest {
  const int = (key: string, fallback: number | undefined, min: number, max: number): number | undefined => {
    const v = settings[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new RouteT2IError(
        'bad-settings',
        `${where}: prompt ${entry.id}: "${key}" must be a whole number from ${min} to ${max}`,
      );
    }
    return v;
  };
  const request: GenerationRequest = {
    prompt: entry.prompt,
    width: int('width', defaults.width ?? 1024, 64, 8192)!,
    height: int('height', defaults.height ?? 1024, 64, 8192)!,
  };
  const negative = entry.negative ?? (typeof settings.negative === 'string' ? settings.negative : defaults.negative);
  if (negative) request.negative = negative;
  const seed = int('seed', undefined, 0, 2 ** 32 - 2);
  if (seed !== undefined) request.seed = seed;
  const steps = int('steps', defaults.steps ?? undefined, 1, 1000);
  if (steps !== undefined) request.steps = steps;
  const extra = Object.fromEntries(Object.entries(settings).filter(([k]) => !OWN.has(k)));
  if (Object.keys(extra).length) request.extra = extra;
  return request;
}
