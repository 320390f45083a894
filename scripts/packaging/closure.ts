// The node_modules a .vsix needs: the packages that the bundles leave external, and everything they depend on, for one
// target platform. package-lock.json is the source of truth: it lists every platform's optional binary packages with
// their os/cpu/libc and integrity, so packages for another platform can be fetched (npm pack) and verified.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isStub, keepFile } from './prune';
import { fitsTarget, type Target } from './targets';

interface LockEntry {
  name?: string;
  version?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  link?: boolean;
}

export interface ShippedPackage {
  /** Path in the tree, as the lock file names it: `node_modules/a/node_modules/b`. */
  path: string;
  name: string;
  version: string;
  integrity?: string;
}

function packageName(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Node's lookup, on lock paths: the requiring package's own node_modules first, then each enclosing one. */
function resolve(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

export function runtimeClosure(root: string, roots: readonly string[], target: Target): ShippedPackage[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const packages = lock.packages;
  const found = new Map<string, ShippedPackage>();
  const queue: { from: string; name: string; optional: boolean; by: string }[] = roots.map((name) => ({
    from: '',
    name,
    optional: false,
    by: 'the extension bundle',
  }));
  while (queue.length > 0) {
    const { from, name, optional, by } = queue.shift()!;
    const path = resolve(packages, from, name);
    if (!path) {
      if (optional) continue;
      throw new Error(`${name} (needed by ${by}) is not in package-lock.json: run npm install`);
    }
    const entry = packages[path]!;
    if (entry.link) throw new Error(`${name} is a linked package: packaging needs it installed from the registry`);
    if (!fitsTarget(entry, target)) {
      if (optional) continue;
      throw new Error(`${name} (needed by ${by}) does not support ${target.name}`);
    }
    if (found.has(path)) continue;
    found.set(path, { path, name: packageName(path), version: entry.version ?? '0.0.0', integrity: entry.integrity });
    if (isStub(packageName(path))) continue;
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((p) => !entry.peerDependenciesMeta?.[p]?.optional);
    for (const dep of [...Object.keys(entry.dependencies ?? {}), ...peers]) {
      queue.push({ from: path, name: dep, optional: false, by: name });
    }
    for (const dep of Object.keys(entry.optionalDependencies ?? {}))
      queue.push({ from: path, name: dep, optional: true, by: name });
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** Where the files of a package come from: the local install, or a verified download for another platform. */
export function packageSource(root: string, pkg: ShippedPackage): string {
  const local = join(root, pkg.path);
  const manifest = join(local, 'package.json');
  if (
    existsSync(manifest) &&
    (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version === pkg.version
  ) {
    return local;
  }
  return fetchPackage(pkg);
}

function packageCache(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'routet2i-package');
}

function fetchPackage(pkg: ShippedPackage): string {
  const dir = join(packageCache(), `${pkg.name.replace('/', '+')}@${pkg.version}`);
  if (existsSync(join(dir, 'package.json'))) return dir;
  if (!pkg.integrity)
    throw new Error(`${pkg.name}@${pkg.version} has no integrity in package-lock.json; cannot verify a download`);
  const work = `${dir}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const packed = spawnSync('npm', ['pack', `${pkg.name}@${pkg.version}`, '--json', '--pack-destination', work], {
      encoding: 'utf8',
    });
    if (packed.status !== 0)
      throw new Error(`npm pack ${pkg.name}@${pkg.version} failed: ${packed.stderr.trim().split('\n').pop()}`);
    const name = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!name) throw new Error(`npm pack ${pkg.name}@${pkg.version} wrote no tarball`);
    const tarball = join(work, name);
    const [algorithm, expected] = pkg.integrity.split('-', 2) as [string, string];
    const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
    if (actual !== expected)
      throw new Error(`${pkg.name}@${pkg.version}: download does not match package-lock.json's integrity`);
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', work], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`cannot unpack ${tarball}: ${untar.stderr.trim()}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(join(work, 'package'), dir);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Copies one package (not its nested node_modules, which are packages of their own), pruned for the target. */
export function copyPackage(source: string, dest: string, pkg: ShippedPackage, target: Target): number {
  let bytes = 0;
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(source, rel), { withFileTypes: true })) {
      const file = rel ? `${rel}/${entry.name}` : entry.name;
      if (!rel && entry.name === 'node_modules') continue;
      const from = join(source, file);
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSync(from).isDirectory());
      if (isDir) {
        walk(file);
        continue;
      }
      if (!keepFile(pkg.name, file, target)) continue;
      mkdirSync(dirname(join(dest, file)), { recursive: true });
      if (file === 'package.json' && isStub(pkg.name)) {
        const manifest = JSON.parse(readFileSync(from, 'utf8')) as Record<string, unknown>;
        for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'scripts'])
          delete manifest[field];
        writeFileSync(join(dest, file), `${JSON.stringify(manifest, null, 2)}\n`);
        continue;
      }
      copyFileSync(from, join(dest, file));
      bytes += statSync(from).size;
    }
  };
  walk('');
  return bytes;
}
