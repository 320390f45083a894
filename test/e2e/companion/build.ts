// Builds the companion test extension (see extension.ts) into a .vsix for the harness to install beside RouteT2I:
// bundled by esbuild from TypeScript as the product is, and packed by vsce from a staging folder of its own, so nothing
// of it can reach the product's package (scripts/package.ts stages only the product's files).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const HERE = __dirname;
const ROOT = resolve(HERE, '..', '..', '..');

/** The companion's id, `publisher.name`. */
export const COMPANION_ID = (() => {
  const manifest = JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8')) as { publisher: string; name: string };
  return `${manifest.publisher}.${manifest.name}`;
})();

/** Builds and packs the companion under `dir` and returns the .vsix's path. */
export async function buildCompanion(dir: string): Promise<string> {
  const stage = join(dir, 'companion');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  await build({
    entryPoints: { extension: join(HERE, 'extension.ts') },
    outdir: join(stage, 'dist'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    logLevel: 'warning',
  });
  copyFileSync(join(HERE, 'package.json'), join(stage, 'package.json'));
  writeFileSync(
    join(stage, 'README.md'),
    '# RouteT2I end-to-end test companion\n\nTest only: see test/e2e/companion.\n',
  );
  const vsix = join(dir, 'routet2i-e2e-companion.vsix');
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const result = spawnSync(
    process.execPath,
    [
      vsce,
      'package',
      '--out',
      vsix,
      '--no-dependencies',
      '--allow-star-activation',
      '--allow-missing-repository',
      '--skip-license',
    ],
    { cwd: stage, encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`vsce could not pack the companion in ${stage}:\n${`${result.stdout}\n${result.stderr}`.trim()}`);
  return vsix;
}
