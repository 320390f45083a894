// The extension's settings: every key with its type, default and guard, read in one place. No `vscode` here, so the
// sanitising is unit-tested; config.ts feeds it VS Code's `inspect()` results.
// Only the backends' types and names: the clients themselves load when something is generated.
import { BACKEND_NAMES, type BackendConfig, type BackendName } from '../../backends/types';
import { parseMetrics, type Metric } from '../../router/metrics';
import { FALLBACK_POLICIES, GENERATION_MODES, type FallbackPolicy, type GenerationMode } from '../../router/policy';

export const SECTION = 'routet2i';

export type Severity = 'off' | 'hint' | 'information' | 'warning' | 'error';
export const SEVERITIES: readonly Severity[] = ['off', 'hint', 'information', 'warning', 'error'];

/** Languages besides `t2i-prompt` whose prompts RouteT2I may analyse. */
export type ExtraLanguage = 'markdown' | 'plaintext';
export const EXTRA_LANGUAGES: readonly ExtraLanguage[] = ['markdown', 'plaintext'];

export interface Settings {
  heat: { enabled: boolean; metric: string; debounceMs: number; scale: number };
  diagnostics: { severity: Severity; maxPerPrompt: number; threshold: number; ignoredWords: string[] };
  codeLens: { enabled: boolean };
  analysis: { languages: ExtraLanguage[] };
  model: { path: string; modelsDir: string };
  policy: {
    mode: GenerationMode;
    cloudShare: number;
    monthlyCap: number | null;
    prices: Record<string, number>;
    fallback: FallbackPolicy;
    cascadeThreshold: number | null;
    hybridBand: number;
  };
  backends: {
    edge: BackendName | null;
    cloud: BackendName | null;
    settings: Partial<Record<BackendName, BackendConfig>>;
  };
  generation: { outputFolder: string; openImage: boolean; width: number; height: number; steps: number | null };
  calibration: { metrics: Metric[] | null };
  /** The promotion rule's settings (src/router/learning/promotion.ts, docs/calibration.md). */
  learning: { retrainEvery: number; switchMargin: number };
  /** A RouteT2I gateway to generate through ('' for none): its month and policy replace this workspace's. */
  gateway: { url: string };
}

/** What VS Code's `inspect()` tells about one key (only the fields we use). */
export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** A setting whose value failed its guard: what the user reads, and which key to fix. */
export interface SettingProblem {
  key: string;
  message: string;
}

type Guard<T> = (value: unknown) => { ok: true; value: T } | { ok: false; want: string };

interface Spec<T> {
  default: T;
  guard: Guard<T>;
  /** Ignored from the workspace in Restricted Mode (listed in the manifest's `restrictedConfigurations`). */
  restricted?: boolean;
  /** Changing it needs the predictor reloaded (the rest only redraws). */
  reloadsEngine?: boolean;
  /** Its value is never repeated in a message (it may hold a secret pasted by mistake). */
  quiet?: boolean;
}

const ok = <T>(value: T) => ({ ok: true as const, value });
const bad = (want: string) => ({ ok: false as const, want });

const bool: Guard<boolean> = (v) => (typeof v === 'boolean' ? ok(v) : bad('true or false'));
const num =
  (min: number, max: number, integer = false): Guard<number> =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))
      ? ok(v)
      : bad(`${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
const nullable =
  <T>(g: Guard<T>): Guard<T | null> =>
  (v) => {
    if (v === null) return ok(null);
    const r = g(v);
    return r.ok ? r : bad(`${r.want}, or null`);
  };
const oneOf =
  <T extends string>(values: readonly T[]): Guard<T> =>
  (v) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? ok(v as T)
      : bad(`one of ${values.map((x) => `"${x}"`).join(', ')}`);
const text: Guard<string> = (v) => (typeof v === 'string' ? ok(v.trim()) : bad('text'));
const metricChoice: Guard<string> = (v) =>
  typeof v === 'string' && /^(verdict|[a-z][a-z0-9_-]{0,39})$/.test(v)
    ? ok(v)
    : bad('"verdict" or a metric id such as "quality"');
const words: Guard<string[]> = (v) =>
  Array.isArray(v) && v.every((w) => typeof w === 'string')
    ? ok([...new Set((v as string[]).map((w) => w.trim().toLowerCase()).filter(Boolean))])
    : bad('a list of words');
const languages: Guard<ExtraLanguage[]> = (v) =>
  Array.isArray(v) && v.every((l) => (EXTRA_LANGUAGES as readonly unknown[]).includes(l))
    ? ok([...new Set(v as ExtraLanguage[])])
    : bad(`a list of ${EXTRA_LANGUAGES.map((l) => `"${l}"`).join(', ')}`);
const isBackendName = (name: string): name is BackendName => (BACKEND_NAMES as readonly string[]).includes(name);
const backendName: Guard<BackendName | null> = (v) =>
  v === null || v === ''
    ? ok(null)
    : typeof v === 'string' && isBackendName(v)
      ? ok(v)
      : bad(`"" (none) or one of ${BACKEND_NAMES.join(', ')}`);
const prices: Guard<Record<string, number>> = (v) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return bad('an object of backend name → USD per image');
  for (const [name, price] of Object.entries(v)) {
    if (!isBackendName(name)) return bad(`backend names (${BACKEND_NAMES.join(', ')}) as keys, not "${name}"`);
    if (!(typeof price === 'number' && Number.isFinite(price) && price >= 0 && price <= 1000))
      return bad(`a price from 0 to 1000 USD for "${name}"`);
  }
  return ok({ ...(v as Record<string, number>) });
};
/** Names that must never hold a secret in settings (the CLI's config file refuses the same). */
const SECRET_LIKE = ['apiKey', 'api_key', 'key', 'token', 'password', 'secret'];
const backendSettings: Guard<Partial<Record<BackendName, BackendConfig>>> = (v) => {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    return bad('an object of backend name → its settings ({"url": …, "model": …})');
  const out: Partial<Record<BackendName, BackendConfig>> = {};
  for (const [name, cfg] of Object.entries(v)) {
    if (!isBackendName(name)) return bad(`backend names (${BACKEND_NAMES.join(', ')}) as keys, not "${name}"`);
    if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) return bad(`an object of settings for "${name}"`);
    const secret = Object.keys(cfg).find((k) => SECRET_LIKE.includes(k));
    // Each backend checks its own keys when it is created; here only what must never be in settings at all.
    if (secret)
      return bad(`settings without keys: "${name}.${secret}" belongs in the secret store (RouteT2I: Set API Key)`);
    out[name] = { ...(cfg as BackendConfig) };
  }
  return ok(out);
};
const folder: Guard<string> = (v) => {
  if (typeof v !== 'string' || v.trim() === '') return bad('a folder path');
  return ok(v.trim());
};
/** A gateway's address: '' (none), or an http(s) URL with no user or password in it (the key is a secret). */
const gatewayUrl: Guard<string> = (v) => {
  if (typeof v !== 'string') return bad('"" (none) or the gateway\'s http(s) address');
  const t = v.trim();
  if (!t) return ok('');
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return bad('"" (none) or the gateway\'s http(s) address, e.g. "http://127.0.0.1:8787"');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad('an http(s) address');
  if (u.username || u.password)
    return bad('an address without a user or password (RouteT2I: Set Gateway Key stores the key)');
  return ok(t);
};
const metricsList: Guard<Metric[] | null> = (v) => {
  if (v === null) return ok(null);
  try {
    return ok(parseMetrics(v, 'routet2i.calibration.metrics'));
  } catch (error) {
    return bad((error as Error).message.replace(/^routet2i\.calibration\.metrics: /, ''));
  }
};

/**
 * Every setting, by key under `routet2i.`. The defaults repeat the manifest's (a unit test checks they agree); the
 * guard decides what a value must be.
 */
export const SPECS = {
  'heat.enabled': { default: true, guard: bool },
  'heat.metric': { default: 'verdict', guard: metricChoice },
  'heat.debounceMs': { default: 120, guard: num(0, 2000, true) },
  'heat.scale': { default: 1, guard: num(0.05, 20) },
  'diagnostics.severity': { default: 'information' as Severity, guard: oneOf(SEVERITIES) },
  'diagnostics.maxPerPrompt': { default: 3, guard: num(1, 50, true) },
  'diagnostics.threshold': { default: -0.05, guard: num(-10, 0) },
  'diagnostics.ignoredWords': { default: [] as string[], guard: words },
  'codeLens.enabled': { default: true, guard: bool },
  'analysis.languages': { default: [] as ExtraLanguage[], guard: languages },
  'model.path': { default: '', guard: text, restricted: true, reloadsEngine: true },
  'model.modelsDir': { default: '', guard: text, restricted: true, reloadsEngine: true },
  'policy.mode': { default: 'predict' as GenerationMode, guard: oneOf(GENERATION_MODES), restricted: true },
  'policy.cloudShare': { default: 0.3, guard: num(0, 1), restricted: true },
  'policy.monthlyCap': { default: null as number | null, guard: nullable(num(0, 1e6)), restricted: true },
  'policy.prices': { default: {} as Record<string, number>, guard: prices, restricted: true },
  'policy.fallback': { default: 'edge' as FallbackPolicy, guard: oneOf(FALLBACK_POLICIES), restricted: true },
  'policy.cascadeThreshold': { default: null as number | null, guard: nullable(num(0, 1)), restricted: true },
  'policy.hybridBand': { default: 0.1, guard: num(0, 0.5), restricted: true },
  'backends.edge': { default: null as BackendName | null, guard: backendName, restricted: true },
  'backends.cloud': { default: null as BackendName | null, guard: backendName, restricted: true },
  'backends.settings': {
    default: {} as Partial<Record<BackendName, BackendConfig>>,
    guard: backendSettings,
    restricted: true,
    quiet: true,
  },
  'generation.outputFolder': { default: 'generated', guard: folder, restricted: true },
  'generation.openImage': { default: true, guard: bool },
  'generation.width': { default: 1024, guard: num(64, 8192, true) },
  'generation.height': { default: 1024, guard: num(64, 8192, true) },
  'generation.steps': { default: null as number | null, guard: nullable(num(1, 1000, true)) },
  'calibration.metrics': { default: null as Metric[] | null, guard: metricsList },
  'learning.retrainEvery': { default: 20, guard: num(1, 100000, true), restricted: true },
  'learning.switchMargin': { default: 0.02, guard: num(0, 0.5), restricted: true },
  // Where generation and money go: an untrusted workspace must not move them (nor where a key is sent).
  'gateway.url': { default: '', guard: gatewayUrl, restricted: true, quiet: true },
} satisfies Record<string, Spec<unknown>>;

export type SettingKey = keyof typeof SPECS;
export const SETTING_KEYS = Object.keys(SPECS) as SettingKey[];

/** Keys VS Code must withhold from an untrusted workspace (the manifest lists them, fully qualified). */
export const RESTRICTED_KEYS: readonly SettingKey[] = SETTING_KEYS.filter(
  (k) => (SPECS[k] as Spec<unknown>).restricted,
);
export const ENGINE_KEYS: readonly SettingKey[] = SETTING_KEYS.filter((k) => (SPECS[k] as Spec<unknown>).reloadsEngine);

/** The value a key takes: the workspace's value unless Restricted Mode withholds it, then the user's, then the default. */
export function effectiveValue(
  key: SettingKey,
  inspected: Inspected | undefined,
  restricted: boolean,
): { value: unknown; from: 'default' | 'user' | 'workspace' } {
  const spec = SPECS[key] as Spec<unknown>;
  const i = inspected ?? {};
  if (!(restricted && spec.restricted)) {
    if (i.workspaceFolderValue !== undefined) return { value: i.workspaceFolderValue, from: 'workspace' };
    if (i.workspaceValue !== undefined) return { value: i.workspaceValue, from: 'workspace' };
  }
  if (i.globalValue !== undefined) return { value: i.globalValue, from: 'user' };
  return { value: spec.default, from: 'default' };
}

/**
 * Reads every setting through its guard. A value that fails falls back to the default and yields a problem naming
 * the key, what it must be, and what is used instead: a typo in settings.json never stops the extension.
 */
export function readSettings(
  inspect: (key: SettingKey) => Inspected | undefined,
  restricted: boolean,
): { settings: Settings; problems: SettingProblem[]; ignored: SettingKey[] } {
  const problems: SettingProblem[] = [];
  const ignored: SettingKey[] = [];
  const values: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const spec = SPECS[key] as Spec<unknown>;
    const inspected = inspect(key);
    if (
      restricted &&
      spec.restricted &&
      (inspected?.workspaceValue !== undefined || inspected?.workspaceFolderValue !== undefined)
    )
      ignored.push(key);
    const { value, from } = effectiveValue(key, inspected, restricted);
    const checked = spec.guard(value);
    if (checked.ok) {
      values[key] = checked.value;
      continue;
    }
    values[key] = spec.default;
    problems.push({
      key: `${SECTION}.${key}`,
      message: `Setting "${SECTION}.${key}" (${from} settings) must be ${checked.want}${spec.quiet ? '' : `; got ${describe(value)}`}. Using ${describe(spec.default)} instead.`,
    });
  }
  const v = values as { [K in SettingKey]: (typeof SPECS)[K]['default'] };
  const settings: Settings = {
    heat: {
      enabled: v['heat.enabled'],
      metric: v['heat.metric'],
      debounceMs: v['heat.debounceMs'],
      scale: v['heat.scale'],
    },
    diagnostics: {
      severity: v['diagnostics.severity'],
      maxPerPrompt: v['diagnostics.maxPerPrompt'],
      threshold: v['diagnostics.threshold'],
      ignoredWords: v['diagnostics.ignoredWords'],
    },
    codeLens: { enabled: v['codeLens.enabled'] },
    analysis: { languages: v['analysis.languages'] },
    model: { path: v['model.path'], modelsDir: v['model.modelsDir'] },
    policy: {
      mode: v['policy.mode'],
      cloudShare: v['policy.cloudShare'],
      monthlyCap: v['policy.monthlyCap'],
      prices: v['policy.prices'],
      fallback: v['policy.fallback'],
      cascadeThreshold: v['policy.cascadeThreshold'],
      hybridBand: v['policy.hybridBand'],
    },
    backends: { edge: v['backends.edge'], cloud: v['backends.cloud'], settings: v['backends.settings'] },
    generation: {
      outputFolder: v['generation.outputFolder'],
      openImage: v['generation.openImage'],
      width: v['generation.width'],
      height: v['generation.height'],
      steps: v['generation.steps'],
    },
    calibration: { metrics: v['calibration.metrics'] },
    learning: { retrainEvery: v['learning.retrainEvery'], switchMargin: v['learning.switchMargin'] },
    gateway: { url: v['gateway.url'] },
  };
  return { settings, problems, ignored };
}

/** Which parts of the extension a configuration change touches (data, not scattered ifs). */
export function changedKeys(affects: (qualifiedKey: string) => boolean): {
  any: boolean;
  engine: boolean;
  keys: SettingKey[];
} {
  if (!affects(SECTION)) return { any: false, engine: false, keys: [] };
  const keys = SETTING_KEYS.filter((k) => affects(`${SECTION}.${k}`));
  return { any: true, engine: keys.some((k) => ENGINE_KEYS.includes(k)), keys };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
