// `npm run package [-- --target linux-x64 …]`: one .vsix per platform in out/vsix/, each carrying only that platform's
// native binaries. For each target a staging folder (out/package/<target>/) receives the manifest, our files and a
// pruned node_modules of what the bundles leave external; vsce packs that folder.
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { copyPackage, packageSource, runtimeClosure } from './packaging/closure';
import { hostTarget, parseTarget, supportedTargets } from './packaging/targets';

export interface PackagedVsix {
  target: string;
  file: string;
  bytes: number;
  /** Bytes of node_modules before compression. */
  nodeModulesBytes: number;
  packages: number;
}

export interface PackageOptions {
  /** vsce target names; default: every supported target. */
  targets?: readonly string[];
  /** Skip the production build (the caller just built). */
  skipBuild?: boolean;
  log?: (line: string) => void;
}

export const ROOT = resolve(__dirname, '..');

/** Top-level files and folders of ours that a .vsix carries, where they exist. */
const SHIPPED = [
  'README.md',
  'CHANGELOG.md',
  'LICENSE',
  'language-configuration.json',
  'package.nls.json',
  'media',
  'syntaxes',
  'snippets',
  'l10n',
  'models',
  'dist',
];
/** The CLI bundle is not part of the extension; source maps stay home. */
const DIST_EXCLUDED = (file: string): boolean => file === 'cli.js' || file.endsWith('.map');
/** Manifest fields that only matter for developing the extension. */
const DEV_FIELDS = ['scripts', 'devDependencies', 'allowScripts', 'bin', 'overrides'];

export async function packageExtension(options: PackageOptions = {}): Promise<PackagedVsix[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const supported = supportedTargets(ROOT);
  const targets = (options.targets?.length ? options.targets : supported.map((t) => t.name)).map((name) => {
    const target = parseTarget(name);
    if (!supported.some((t) => t.name === name)) {
      throw new Error(
        `target ${name} is not supported: the native runtimes ship binaries for ${supported.map((t) => t.name).join(', ')}`,
      );
    }
    return target;
  });

  if (!options.skipBuild) {
    log('building the production bundles');
    run(process.execPath, ['esbuild.mjs', '--production'], ROOT);
  }
  const externals = bundleExternals(join(ROOT, 'dist'));
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & {
    name: string;
    version: string;
  };
  const icon = await sharp(join(ROOT, 'media', 'icon.svg'))
    .resize(256, 256)
    .png()
    .toBuffer();

  const results: PackagedVsix[] = [];
  for (const target of targets) {
    const stage = join(ROOT, 'out', 'package', target.name);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    stageOwnFiles(stage);
    writeFileSync(join(stage, 'media', 'icon.png'), icon);

    const closure = runtimeClosure(ROOT, externals, target);
    let nodeModulesBytes = 0;
    for (const pkg of closure)
      nodeModulesBytes += copyPackage(packageSource(ROOT, pkg), join(stage, pkg.path), pkg, target);
    const lockVersions = new Map(closure.map((p) => [p.path, p.version]));
    const staged: Record<string, unknown> = { ...manifest };
    for (const field of DEV_FIELDS) delete staged[field];
    staged.dependencies = Object.fromEntries(externals.map((name) => [name, lockVersions.get(`node_modules/${name}`)]));
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`);
    copyFileSync(join(ROOT, '.vscodeignore'), join(stage, '.vscodeignore'));

    const outDir = join(ROOT, 'out', 'vsix');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${manifest.name}-${target.name}-${manifest.version}.vsix`);
    rmSync(file, { force: true });
    log(
      `packaging ${target.name}: ${closure.length} packages, ${(nodeModulesBytes / 2 ** 20).toFixed(1)} MiB of node_modules`,
    );
    const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    run(
      process.execPath,
      [vsce, 'package', '--target', target.name, '--out', file, '--no-yarn', '--dependencies'],
      stage,
    );
    if (target.name === hostTarget().name) smokeTest(stage, externals);
    const bytes = statSync(file).size;
    log(`${file}: ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    results.push({ target: target.name, file, bytes, nodeModulesBytes, packages: closure.length });
  }
  return results;
}

/** Bare module names the bundles load at run time (`require("x")` or `import("x")`), minus Node's and `vscode`. */
export function bundleExternals(distDir: string): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(distDir)) {
    if (!file.endsWith('.js') || DIST_EXCLUDED(file)) continue;
    const code = readFileSync(join(distDir, file), 'utf8');
    for (const match of code.matchAll(/\b(?:require|import)\(\s*["']([^"'./][^"']*)["']\s*\)/g)) {
      const specifier = match[1]!;
      if (specifier === 'vscode' || specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!))
        continue;
      const parts = specifier.split('/');
      names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return [...names].sort();
}

function stageOwnFiles(stage: string): void {
  for (const entry of SHIPPED) {
    const from = join(ROOT, entry);
    if (!existsSync(from)) continue;
    if (entry === 'dist') {
      cpSync(from, join(stage, entry), {
        recursive: true,
        filter: (src) => !DIST_EXCLUDED(src.slice(from.length + 1)),
      });
    } else {
      cpSync(from, join(stage, entry), { recursive: true });
    }
  }
  if (!existsSync(join(stage, 'dist', 'extension.js')))
    throw new Error('dist/extension.js is missing: the build did not produce the extension');
}

/** On the host's own target, load every external from the staged tree: a pruning mistake fails here, not for a user. */
function smokeTest(stage: string, externals: readonly string[]): void {
  const script = `for (const name of ${JSON.stringify(externals)}) require(require.resolve(name, { paths: [${JSON.stringify(stage)}] }));`;
  const result = spawnSync(process.execPath, ['-e', script], { cwd: stage, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`the staged node_modules do not load on this platform:\n${result.stderr.trim()}`);
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim();
    throw new Error(`${args.slice(0, 2).join(' ')} failed in ${cwd}:\n${output}`);
  }
}

function parseArgs(argv: readonly string[]): string[] {
  const targets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--target' || arg === '-t') targets.push(...(argv[++i] ?? '').split(',').filter(Boolean));
    else if (arg.startsWith('--target=')) targets.push(...arg.slice('--target='.length).split(',').filter(Boolean));
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run package [-- --target linux-x64[,darwin-arm64…]]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}; usage: npm run package [-- --target NAME]`);
  }
  return targets;
}

if (require.main === module) {
  packageExtension({ targets: parseArgs(process.argv.slice(2)) }).then(
    (results) => {
      for (const r of results) process.stdout.write(`${r.target}\t${(r.bytes / 2 ** 20).toFixed(1)} MiB\t${r.file}\n`);
    },
    (error: Error) => {
      process.stderr.write(`package: ${error.message}\n`);
      process.exit(1);
    },
  );
}
