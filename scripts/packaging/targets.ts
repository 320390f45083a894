// The platforms a .vsix is built for: those where every native runtime we ship has a binary. Derived from the
// installed packages, so a runtime upgrade that adds or drops a platform changes the list by itself.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Target {
  /** vsce's name for it: `linux-x64`, `darwin-arm64`, … */
  name: string;
  os: NodeJS.Platform;
  cpu: string;
  /** Set on Linux: the vsce targets `linux-*` are glibc, `alpine-*` musl. */
  libc?: 'glibc' | 'musl';
}

export function parseTarget(name: string): Target {
  const match = /^(linux|alpine|darwin|win32)-(x64|arm64|armhf)$/.exec(name);
  if (!match)
    throw new Error(`unknown target "${name}": use one of linux-x64, linux-arm64, darwin-arm64, win32-x64, …`);
  const [, family, arch] = match as unknown as [string, string, string];
  const cpu = arch === 'armhf' ? 'arm' : arch;
  if (family === 'linux') return { name, os: 'linux', cpu, libc: 'glibc' };
  if (family === 'alpine') return { name, os: 'linux', cpu, libc: 'musl' };
  return { name, os: family as NodeJS.Platform, cpu };
}

export function hostTarget(): Target {
  const family = process.platform === 'linux' && isMusl() ? 'alpine' : process.platform;
  return parseTarget(`${family}-${process.arch === 'arm' ? 'armhf' : process.arch}`);
}

function isMusl(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return !report?.header?.glibcVersionRuntime;
}

/** npm's `os`/`cpu`/`libc` fields of a package against a target (a missing field allows everything). */
export function fitsTarget(fields: { os?: string[]; cpu?: string[]; libc?: string[] }, target: Target): boolean {
  const allows = (list: string[] | undefined, value: string | undefined): boolean => {
    if (!list || list.length === 0 || value === undefined) return true;
    if (list.includes(`!${value}`)) return false;
    const positive = list.filter((v) => !v.startsWith('!'));
    return positive.length === 0 || positive.includes(value);
  };
  return allows(fields.os, target.os) && allows(fields.cpu, target.cpu) && allows(fields.libc, target.libc);
}

/**
 * Targets supported by both onnxruntime-node (one folder of binaries per os/cpu) and sharp (one optional
 * `@img/sharp-<os><libc>-<cpu>` package each; glibc Linux is `linux`, musl is `linuxmusl`).
 */
export function supportedTargets(root: string): Target[] {
  const ortBin = join(root, 'node_modules', 'onnxruntime-node', 'bin');
  const ort = new Set<string>();
  for (const napi of readdirSync(ortBin)) {
    for (const os of readdirSync(join(ortBin, napi))) {
      for (const cpu of readdirSync(join(ortBin, napi, os))) ort.add(`${os}-${cpu}`);
    }
  }
  const sharpManifest = join(root, 'node_modules', 'sharp', 'package.json');
  if (!existsSync(sharpManifest)) throw new Error('sharp is not installed: run npm ci');
  const sharpOptional = Object.keys(
    (JSON.parse(readFileSync(sharpManifest, 'utf8')) as { optionalDependencies?: Record<string, string> })
      .optionalDependencies ?? {},
  );
  const candidates = [
    'linux-x64',
    'linux-arm64',
    'linux-armhf',
    'alpine-x64',
    'alpine-arm64',
    'darwin-x64',
    'darwin-arm64',
    'win32-x64',
    'win32-arm64',
  ];
  return candidates.map(parseTarget).filter((t) => {
    // onnxruntime-node's Linux binaries are built against glibc.
    if (t.libc === 'musl') return false;
    const sharpName = `@img/sharp-${t.os}-${t.cpu}`;
    return ort.has(`${t.os}-${t.cpu}`) && sharpOptional.includes(sharpName);
  });
}
