import { A1111Backend } from './a1111';
import type { BackendDeps } from './base';
import { BflBackend } from './bfl';
import { ComfyUIBackend } from './comfyui';
import { RouteT2IError } from '../router/errors';
import { BackendError } from './errors';
import { FalBackend } from './fal';
import { OpenAIBackend, OpenAICompatibleBackend } from './openai';
import { ReplicateBackend } from './replicate';
import { StabilityBackend } from './stability';
import { BACKEND_NAMES, type Backend, type BackendConfig, type BackendName, type SecretSource } from './types';

/** Which secret each backend reads (environment variable in the CLI, SecretStorage key in VS Code). */
export const SECRET_NAMES: Readonly<Record<BackendName, string | undefined>> = Object.freeze({
  comfyui: undefined,
  a1111: 'A1111_AUTH',
  'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY',
  openai: 'OPENAI_API_KEY',
  stability: 'STABILITY_API_KEY',
  replicate: 'REPLICATE_API_TOKEN',
  fal: 'FAL_KEY',
  bfl: 'BFL_API_KEY',
});

/** Backends that cannot work without their key (the others' keys are optional). */
export const REQUIRED_SECRETS: Readonly<Partial<Record<BackendName, true>>> = Object.freeze({
  openai: true,
  stability: true,
  replicate: true,
  fal: true,
  bfl: true,
});

/** The side each backend takes unless its config says otherwise. */
export const DEFAULT_SIDES: Readonly<Record<BackendName, 'edge' | 'cloud'>> = Object.freeze({
  comfyui: 'edge',
  a1111: 'edge',
  'openai-compatible': 'edge',
  openai: 'cloud',
  stability: 'cloud',
  replicate: 'cloud',
  fal: 'cloud',
  bfl: 'cloud',
});

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/**
 * A prompt file's `backend:` front matter: the backend that renders the file's prompts on the side it usually serves
 * (ComfyUI, AUTOMATIC1111 and OpenAI-compatible servers on the edge, the paid APIs on the cloud), in place of the run's
 * one there. Undefined when the file names none; an unknown name is an error that names the file.
 */
export function fileBackend(value: unknown, where: string): { name: BackendName; side: 'edge' | 'cloud' } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !isBackendName(value)) {
    throw new RouteT2IError(
      'bad-front-matter',
      `${where}: front matter "backend: ${String(value)}" is not a backend RouteT2I knows (${BACKEND_NAMES.join(', ')})`,
    );
  }
  return { name: value, side: DEFAULT_SIDES[value] };
}

/** Secrets from environment variables: only the names the backends read are visible. */
export function envSecrets(env: NodeJS.ProcessEnv): SecretSource {
  const allowed = new Set(Object.values(SECRET_NAMES).filter(Boolean) as string[]);
  return { get: (name) => (allowed.has(name) ? env[name] : undefined) };
}

export interface CreateOptions extends Omit<BackendDeps, 'secrets'> {
  /** Folder that relative paths in the config (a ComfyUI workflow file) are read from. */
  baseDir?: string;
}

/** Builds a backend by name; an unknown name or a bad setting is a clear `config` error. */
export function createBackend(
  name: string,
  config: BackendConfig,
  secrets: SecretSource,
  options: CreateOptions = {},
): Backend {
  const deps: BackendDeps & { baseDir?: string } = { ...options, secrets };
  switch (name) {
    case 'comfyui':
      return new ComfyUIBackend(config, deps);
    case 'a1111':
      return new A1111Backend(config, deps);
    case 'openai-compatible':
      return new OpenAICompatibleBackend(config, deps);
    case 'openai':
      return new OpenAIBackend(config, deps);
    case 'stability':
      return new StabilityBackend(config, deps);
    case 'replicate':
      return new ReplicateBackend(config, deps);
    case 'fal':
      return new FalBackend(config, deps);
    case 'bfl':
      return new BflBackend(config, deps);
    default:
      throw new BackendError('config', name, `unknown backend; use one of ${BACKEND_NAMES.join(', ')}`);
  }
}
