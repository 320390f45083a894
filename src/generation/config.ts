import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { READ_LIMITS, readFileBounded } from '../router/boundedRead';
import { RouteT2IError } from '../router/errors';
import { FALLBACK_POLICIES, GENERATION_MODES, type FallbackPolicy, type GenerationMode } from '../router/policy';
import { isBackendName } from '../backends/registry';
import { BACKEND_NAMES, type BackendConfig, type BackendName } from '../backends/types';

/**
 * The generation settings a config file (JSON or YAML) or the extension's settings hold. Every key is
 * optional and checked; an unknown key is an error that names it (a typo must not silently change
 * where money goes). Shape:
 *
 *   mode: predict | cascade | hybrid
 *   budget: 0.3                 # cloud share ρ
 *   monthlyCap: 20              # USD per month, or null
 *   fallback: edge | cloud | both | none
 *   cascade: { threshold: 0.55 }  # or null: compare with the predicted cloud at α
 *   hybrid: { band: 0.1 }
 *   concurrency: 1
 *   ledger: .routet2i/ledger.json
 *   defaults: { width: 1024, height: 1024, steps: 30, negative: "..." }
 *   edge: comfyui               # backend names…
 *   cloud: openai
 *   backends:                   # …and each backend's own settings
 *     comfyui: { url: "http://127.0.0.1:8188", workflow: flows/sdxl.json }
 *     openai: { model: gpt-image-2.6-flare, quality: medium }
 */
export interface GenerationFileConfig {
  mode?: GenerationMode;
  budget?: number;
  monthlyCap?: number | null;
  fallback?: FallbackPolicy;
  cascadeThreshold?: number | null;
  hybridBand?: number;
  concurrency?: number;
  ledger?: string;
  defaults: { width?: number; height?: number; steps?: number; negative?: string };
  edge?: BackendName;
  cloud?: BackendName;
  backends: Partial<Record<BackendName, BackendConfig>>;
}

const TOP = new Set([
  'mode',
  'budget',
  'monthlyCap',
  'fallback',
  'cascade',
  'hybrid',
  'concurrency',
  'ledger',
  'defaults',
  'edge',
  'cloud',
  'backends',
]);

export function parseGenerationConfig(raw: unknown, where: string): GenerationFileConfig {
  const bad = (msg: string): never => {
    throw new RouteT2IError('bad-config', `${where}: ${msg}`);
  };
  if (raw === null || raw === undefined) return { defaults: {}, backends: {} };
  if (typeof raw !== 'object' || Array.isArray(raw)) bad('the config must be an object of settings');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!TOP.has(k)) bad(`unknown setting "${k}" (known: ${[...TOP].join(', ')})`);
  const num = (v: unknown, name: string, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      bad(`"${name}" must be a number from ${min} to ${max}`);
    return v as number;
  };
  const obj = (v: unknown, name: string): Record<string, unknown> => {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) bad(`"${name}" must be an object`);
    return v as Record<string, unknown>;
  };
  const out: GenerationFileConfig = { defaults: {}, backends: {} };
  if (o.mode !== undefined) {
    if (!GENERATION_MODES.includes(o.mode as GenerationMode))
      bad(`"mode" must be one of ${GENERATION_MODES.join(', ')}`);
    out.mode = o.mode as GenerationMode;
  }
  out.budget = num(o.budget, 'budget', 0, 1);
  if (o.monthlyCap === null) out.monthlyCap = null;
  else out.monthlyCap = num(o.monthlyCap, 'monthlyCap', 0, 1e6);
  if (o.fallback !== undefined) {
    if (!FALLBACK_POLICIES.includes(o.fallback as FallbackPolicy))
      bad(`"fallback" must be one of ${FALLBACK_POLICIES.join(', ')}`);
    out.fallback = o.fallback as FallbackPolicy;
  }
  const cascade = obj(o.cascade, 'cascade');
  for (const k of Object.keys(cascade)) if (k !== 'threshold') bad(`unknown setting "cascade.${k}"`);
  if (cascade.threshold === null) out.cascadeThreshold = null;
  else out.cascadeThreshold = num(cascade.threshold, 'cascade.threshold', 0, 1);
  const hybrid = obj(o.hybrid, 'hybrid');
  for (const k of Object.keys(hybrid)) if (k !== 'band') bad(`unknown setting "hybrid.${k}"`);
  out.hybridBand = num(hybrid.band, 'hybrid.band', 0, 0.5);
  const c = num(o.concurrency, 'concurrency', 1, 32);
  if (c !== undefined && !Number.isInteger(c)) bad('"concurrency" must be a whole number');
  out.concurrency = c;
  if (o.ledger !== undefined) {
    if (typeof o.ledger !== 'string' || !o.ledger.trim()) bad('"ledger" must be a file path');
    out.ledger = o.ledger as string;
  }
  const d = obj(o.defaults, 'defaults');
  for (const k of Object.keys(d))
    if (!['width', 'height', 'steps', 'negative'].includes(k)) bad(`unknown setting "defaults.${k}"`);
  out.defaults.width = num(d.width, 'defaults.width', 64, 8192);
  out.defaults.height = num(d.height, 'defaults.height', 64, 8192);
  out.defaults.steps = num(d.steps, 'defaults.steps', 1, 1000);
  if (d.negative !== undefined) {
    if (typeof d.negative !== 'string') bad('"defaults.negative" must be text');
    out.defaults.negative = d.negative as string;
  }
  for (const side of ['edge', 'cloud'] as const) {
    const v = o[side];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !isBackendName(v))
      bad(`"${side}" must be a backend name: ${BACKEND_NAMES.join(', ')}`);
    out[side] = v as BackendName;
  }
  const backends = obj(o.backends, 'backends');
  for (const [name, cfg] of Object.entries(backends)) {
    if (!isBackendName(name)) bad(`"backends.${name}" is not a backend; use ${BACKEND_NAMES.join(', ')}`);
    out.backends[name as BackendName] = obj(cfg, `backends.${name}`);
  }
  for (const cfg of Object.values(out.backends)) {
    for (const secretLike of ['apiKey', 'api_key', 'key', 'token', 'password']) {
      if (secretLike in (cfg as object))
        bad(
          `keys do not belong in the config file ("${secretLike}"); set them in the environment (CLI) or SecretStorage (VS Code)`,
        );
    }
  }
  return out;
}

/** The names a config file is found under in the current folder when none is named. */
export const CONFIG_NAMES = ['routet2i.config.yaml', 'routet2i.config.yml', 'routet2i.config.json'];

export interface LoadedConfig {
  config: GenerationFileConfig;
  /** The folder relative paths in the config are read from (the config file's, else the current one). */
  dir: string;
  file?: string;
  /** The money ledger: `ledger:` relative to the config file, else `.routet2i/ledger.json` beside it. */
  ledgerFile: string;
}

/**
 * Reads the generation config (`file`, else the first of CONFIG_NAMES in `cwd`, else none). The ledger follows the config
 * file, not the current folder: the same config run from any folder counts the same money.
 */
export async function loadGenerationConfig(file: string | undefined, cwd: string): Promise<LoadedConfig> {
  const found =
    file !== undefined
      ? path.resolve(cwd, file)
      : CONFIG_NAMES.map((n) => path.join(cwd, n)).find((p) => existsSync(p));
  if (!found) {
    const config = parseGenerationConfig(undefined, 'config');
    return { config, dir: cwd, ledgerFile: ledgerFileFor(config, cwd) };
  }
  let text: string;
  try {
    text = (await readFileBounded(found, { limit: READ_LIMITS.config, what: 'config file' })).toString('utf8');
  } catch (e) {
    if (e instanceof RouteT2IError) throw e; // the reader's own one-line error: missing, a folder, over its limit
    throw new RouteT2IError(
      'no-config',
      `cannot read the config file ${found} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON
  } catch (e) {
    throw new RouteT2IError('bad-config', `${found}: not valid YAML or JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const config = parseGenerationConfig(raw, found);
  const dir = path.dirname(found);
  return { config, dir, file: found, ledgerFile: ledgerFileFor(config, dir) };
}

/** Where a config's ledger lives: its `ledger:` relative to `dir` (the config's folder, or the workspace in the editor). */
export function ledgerFileFor(config: Pick<GenerationFileConfig, 'ledger'>, dir: string): string {
  return config.ledger ? path.resolve(dir, config.ledger) : path.join(dir, '.routet2i', 'ledger.json');
}
