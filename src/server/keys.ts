import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { RouteT2IError } from '../router/errors';

/**
 * The gateway's own API keys (not the providers'): who may call it, and each caller's optional monthly cap. Keys are
 * held only as SHA-256 digests once loaded and compared in constant time; a key's `id` (its name) is what the ledger,
 * the metrics and the log see. Sources:
 *
 *   --keys FILE (JSON or YAML):  keys: [{ name: alice, key: "…", monthlyCap: 20 }, { name: ci, key: "…" }]
 *   ROUTET2I_GATEWAY_KEYS:       alice=KEY:20,ci=KEY   (name=key, optionally :cap in USD)
 */

export interface GatewayKey {
  id: string;
  monthlyCap: number | null;
  digest: Buffer;
}

const MIN_LENGTH = 16;

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function checked(name: unknown, key: unknown, cap: unknown, where: string): GatewayKey {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.@-]{1,64}$/.test(name))
    throw new RouteT2IError(
      'bad-keys',
      `${where}: every key needs a "name" of letters, digits, _ . @ - (got ${JSON.stringify(name)})`,
    );
  if (typeof key !== 'string' || key.length < MIN_LENGTH || /\s/.test(key))
    throw new RouteT2IError(
      'bad-keys',
      `${where}: the key of "${name}" must be at least ${MIN_LENGTH} characters without spaces`,
    );
  if (cap !== undefined && cap !== null && !(typeof cap === 'number' && Number.isFinite(cap) && cap >= 0))
    throw new RouteT2IError(
      'bad-keys',
      `${where}: the monthlyCap of "${name}" must be a non-negative amount in USD or null`,
    );
  return { id: name, monthlyCap: cap ?? null, digest: digest(key) };
}

export function parseKeyFile(raw: unknown, where: string): GatewayKey[] {
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? (raw as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) throw new RouteT2IError('bad-keys', `${where}: expected "keys: [{name, key, monthlyCap}]"`);
  return list.map((k, i) => {
    if (!k || typeof k !== 'object') throw new RouteT2IError('bad-keys', `${where}: key ${i + 1} is not an object`);
    const o = k as Record<string, unknown>;
    for (const f of Object.keys(o))
      if (!['name', 'key', 'monthlyCap'].includes(f))
        throw new RouteT2IError('bad-keys', `${where}: unknown field "${f}" in key ${i + 1}`);
    return checked(o.name, o.key, o.monthlyCap, where);
  });
}

export function parseKeyEnv(text: string, where: string): GatewayKey[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new RouteT2IError('bad-keys', `${where}: expected name=key[:cap] items separated by commas`);
      const name = item.slice(0, eq);
      const rest = item.slice(eq + 1);
      const m = /^(.*):(\d+(?:\.\d+)?)$/.exec(rest);
      return checked(name, m ? m[1] : rest, m ? Number(m[2]) : undefined, where);
    });
}

export class KeyRing {
  constructor(readonly keys: readonly GatewayKey[]) {
    const ids = new Set<string>();
    for (const k of keys) {
      if (ids.has(k.id)) throw new RouteT2IError('bad-keys', `two gateway keys are named "${k.id}"`);
      ids.add(k.id);
    }
  }

  /** The key an `Authorization: Bearer …` header carries, or undefined. */
  match(authorization: string | undefined): GatewayKey | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const d = digest(m[1]!);
    let found: GatewayKey | undefined;
    // Every key is compared, so the time taken says nothing about which one nearly matched.
    for (const k of this.keys) if (timingSafeEqual(k.digest, d)) found = k;
    return found;
  }
}

/** The keys from `--keys FILE` and/or ROUTET2I_GATEWAY_KEYS; undefined when neither is given (an open gateway). */
export async function loadKeys(file: string | undefined, env: NodeJS.ProcessEnv): Promise<KeyRing | undefined> {
  const keys: GatewayKey[] = [];
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new RouteT2IError(
        'bad-keys',
        `cannot read the keys file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch {
      // Never echo the parser's excerpt: it would quote the file, keys included.
      throw new RouteT2IError('bad-keys', `${file}: not valid YAML or JSON`);
    }
    keys.push(...parseKeyFile(raw, file));
  }
  const fromEnv = env.ROUTET2I_GATEWAY_KEYS;
  if (fromEnv && fromEnv.trim()) keys.push(...parseKeyEnv(fromEnv, 'ROUTET2I_GATEWAY_KEYS'));
  return file || (fromEnv && fromEnv.trim()) ? new KeyRing(keys) : undefined;
}
