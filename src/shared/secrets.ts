/**
 * The one place that decides where a credential may go and how it is kept out of text. Pure (no Node built-ins,
 * no vscode) so the backends, the runtime's model download and every face use the same rules:
 *
 * - a credential travels only over https, or plain http to a loopback address, or plain http where the user said so
 *   for that backend (`allowInsecureHttp: true`);
 * - it never follows a redirect to another origin (fetch drops `Authorization` there, not custom headers such as
 *   BFL's `x-key`, so redirects with credentials are followed by hand);
 * - any form of it (as given, base64 at any alignment, URL-encoded, or a run of 8+ of its characters such as the
 *   "sk-abc123…wxyz" that APIs echo back) and any password inside a URL are scrubbed from messages and logs.
 */

/** Request headers that carry credentials; dropped on a redirect to another origin. */
export const CREDENTIAL_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'x-key',
  'x-api-key',
  'api-key',
  'cookie',
]);

export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADERS.includes(name.toLowerCase());
}

/** Whether a host name is this machine: `localhost`, 127.0.0.0/8, ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\./.test(h)) return true;
  return /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Why a credential must not be sent to `url`, or undefined when it may. `allowInsecureHttp` is the user's explicit
 * per-backend opt-in for plain http to another host (a LAN server behind a password).
 */
export function credentialRefusal(
  url: string | URL,
  options: { allowInsecureHttp?: boolean } = {},
): string | undefined {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return 'the address is not a URL';
  }
  if (u.protocol === 'https:' || u.protocol === 'wss:') return undefined;
  if (u.protocol !== 'http:' && u.protocol !== 'ws:') return `${u.protocol} is not http(s)`;
  if (isLoopbackHost(u.hostname)) return undefined;
  if (options.allowInsecureHttp) return undefined;
  return `${u.host} is reached over plain http, where anyone on the way can read the key; use https, or set "allowInsecureHttp": true for this backend if you accept that`;
}

/** Whether two URLs share scheme, host and port: credentials may follow a redirect only then. */
export function sameOrigin(a: string | URL, b: string | URL): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** The headers without the ones that carry credentials. */
export function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!isCredentialHeader(k)) out[k] = v;
  return out;
}

/** Runs of this many characters of a secret (or of one of its encodings) are scrubbed wherever they appear. */
export const MIN_FRAGMENT = 8;

function utf8(text: string): string {
  // UTF-8 bytes as a binary string, so btoa (Latin-1 only) can encode any text.
  let out = '';
  for (const b of new TextEncoder().encode(text)) out += String.fromCharCode(b);
  return out;
}

function base64(binary: string): string {
  return btoa(binary);
}

/**
 * The stable cores of a secret's base64 form at the three byte alignments it can have inside a longer encoded
 * value (e.g. `user:password` in a Basic header): the characters that do not depend on the neighbouring bytes.
 */
function base64Cores(secret: string): string[] {
  const bytes = utf8(secret);
  const cores: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const b = base64('\0'.repeat(pad) + bytes).replace(/=+$/, '');
    // Skip the characters that mix filler bits in front; the tail's last char may mix with what follows.
    const skip = pad === 0 ? 0 : pad === 1 ? 2 : 3;
    const core = b.slice(skip, b.length - 1);
    cores.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return cores;
}

/** Every form of a secret worth scrubbing. */
export function secretForms(secret: string): string[] {
  const s = secret.trim();
  if (!s) return [];
  const forms = new Set<string>([s, encodeURIComponent(s)]);
  if (s.length >= 6) for (const c of base64Cores(s)) if (c.length >= MIN_FRAGMENT) forms.add(c);
  return [...forms];
}

const URL_PASSWORD = /\b([a-z][a-z0-9+.-]{0,30}:\/\/)([^/\s:@]*):([^/\s@]*)@/gi;
/** A credential header echoed in a reply or a log ("authorization": "Bearer …", x-key=…). */
const HEADER_ECHO =
  /\b(authorization|proxy-authorization|x-key|x-api-key|api-key)(["']?\s*[:=]\s*["']?)((?:Basic|Bearer|Key)\s+)?[^\s"',;}]+/gi;

/**
 * Replaces every form of every secret in `text` by `***`, and every password written in a URL (`user:pw@host`).
 * Secrets shorter than 4 characters are left alone (they would blank ordinary words); from 4 to 7 characters only
 * the whole value is scrubbed; from 8 on, any run of 8+ of its characters (a prefix, a suffix, a middle) too.
 */
export function scrub(text: string, secrets: Iterable<string | undefined>): string {
  let out = text.replace(URL_PASSWORD, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
  for (const raw of secrets) {
    if (!raw) continue;
    const s = raw.trim();
    if (s.length < 4) continue;
    for (const form of secretForms(s)) {
      if (form.length < MIN_FRAGMENT) {
        out = out.split(form).join('***');
        continue;
      }
      out = scrubFragments(out, form);
    }
  }
  // A credential header echoed whole ("Authorization: Bearer …") never shows its value, known secret or not.
  return out.replace(
    HEADER_ECHO,
    (_m, name: string, sep: string, scheme: string | undefined) => `${name}${sep}${scheme ?? ''}***`,
  );
}

/**
 * Replaces every maximal run of `text` that matches MIN_FRAGMENT+ consecutive characters of `form`. Each window of the
 * form is searched with indexOf (native, fast on long text), and each hit grown both ways while it still matches.
 */
function scrubFragments(text: string, form: string): string {
  const ranges: [number, number][] = [];
  for (let k = 0; k + MIN_FRAGMENT <= form.length; k++) {
    const w = form.slice(k, k + MIN_FRAGMENT);
    for (let at = text.indexOf(w); at !== -1; at = text.indexOf(w, at + 1)) {
      let a = at;
      let b = at + MIN_FRAGMENT;
      let fa = k;
      let fb = k + MIN_FRAGMENT;
      while (a > 0 && fa > 0 && text[a - 1] === form[fa - 1]) {
        a--;
        fa--;
      }
      while (b < text.length && fb < form.length && text[b] === form[fb]) {
        b++;
        fb++;
      }
      ranges.push([a, b]);
    }
  }
  if (ranges.length === 0) return text;
  ranges.sort((x, y) => x[0] - y[0]);
  let out = '';
  let pos = 0;
  for (const [a, b] of ranges) {
    if (b <= pos) continue;
    if (a >= pos) out += text.slice(pos, a) + '***';
    pos = Math.max(pos, b);
  }
  return out + text.slice(pos);
}

/** Collects the secrets a component has read, so every message it makes can be scrubbed of them. */
export class SecretSet {
  private readonly values: string[] = [];

  add(...values: (string | undefined)[]): void {
    for (const v of values) {
      const s = v?.trim();
      if (s && !this.values.includes(s)) this.values.push(s);
    }
  }

  list(): readonly string[] {
    return this.values;
  }

  scrub(text: string): string {
    return scrub(text, this.values);
  }
}
