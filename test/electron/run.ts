// `npm run test:electron`: the extension-host tests in a desktop VS Code that @vscode/test-electron downloads (or the
// one named by VSCODE_EXECUTABLE). Not part of `npm test`: it needs to download VS Code, which not every machine can.
// The suite that runs everywhere this project is tested is the code-server one (`npm run test:e2e`).
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(__dirname, '..', '..');
const OUT = join(ROOT, 'out', 'electron');

async function main(): Promise<void> {
  const built = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the extension build failed');
  rmSync(OUT, { recursive: true, force: true });
  const suite = join(__dirname, 'suite');
  await build({
    entryPoints: readdirSync(suite)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(suite, f)),
    outdir: OUT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });

  // A copy, so the tests never change the committed example workspace.
  const workspace = mkdtempSync(join(tmpdir(), 'routet2i-electron-'));
  cpSync(join(ROOT, 'test', 'e2e', 'workspace'), workspace, { recursive: true });
  cpSync(join(ROOT, 'examples'), join(workspace, 'examples'), { recursive: true });
  try {
    const exitCode = await runTests({
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(OUT, 'index.js'),
      launchArgs: [workspace, '--disable-extensions'],
      ...(process.env.VSCODE_EXECUTABLE
        ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE }
        : { version: process.env.VSCODE_VERSION ?? 'stable' }),
    });
    process.exitCode = exitCode;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  const offline = /ENOTFOUND|ECONNREFUSED|EAI_AGAIN|getaddrinfo/.test(String(error.message));
  process.stderr.write(
    offline
      ? `test:electron: cannot download VS Code (${error.message}). Set VSCODE_EXECUTABLE to an installed VS Code, or run \`npm run test:e2e\`, which needs only the npm registry.\n`
      : `test:electron: ${error.message}\n`,
  );
  process.exitCode = 1;
});
