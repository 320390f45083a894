// What every session of a run shares: the toolchain, the .vsix under test and the companion test extension
// (test/e2e/companion, which answers the harness's probe requests) installed once into a template extensions folder, a
// temporary root, and the artifacts folder the run prints.
import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageExtension } from '../../../scripts/package';
import { buildCompanion } from '../companion/build';
import { installSignalHandlers, startGroup, trackTempDir } from './processes';
import { say } from './say';
import { ensureToolchain, unsupportedPlatform, type Toolchain } from './toolchain';
import { tail } from './codeServer';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const EXTENSION_ID = 'routet2i.routet2i';
export const DEFAULT_WORKSPACE = join(REPO_ROOT, 'test', 'e2e', 'workspace');
/** The repository's example prompt files, copied into every session's workspace as examples/ unless turned off. */
export const EXAMPLES = join(REPO_ROOT, 'examples');

export interface Environment {
  toolchain: Toolchain;
  vsix: string;
  vsixBytes: number;
  extensionsTemplate: string;
  tempRoot: string;
  artifactsDir: string;
}

let prepared: Environment | undefined;
let skipReason: string | undefined;

/** Why sessions are skipped on this machine, if they are. */
export function skipped(): string | undefined {
  return skipReason;
}

export function preparedEnvironment(): Environment | undefined {
  return prepared;
}

export function environment(): Environment {
  if (!prepared) throw new Error('the e2e environment is not prepared: run the suite with `npm run test:e2e`');
  return prepared;
}

export async function prepareEnvironment(): Promise<Environment | undefined> {
  if (prepared) return prepared;
  skipReason = unsupportedPlatform();
  if (skipReason) {
    say(`SKIPPED: ${skipReason}`);
    return undefined;
  }
  installSignalHandlers((signal) => say(`${signal}: stopping every process the suite started`));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const artifactsDir = process.env.ROUTET2I_E2E_ARTIFACTS
    ? resolve(process.env.ROUTET2I_E2E_ARTIFACTS)
    : join(REPO_ROOT, '.e2e-artifacts', stamp);
  mkdirSync(artifactsDir, { recursive: true });
  say(`screenshots and logs: ${artifactsDir}`);
  const tempRoot = trackTempDir(mkdtempSync(join(tmpdir(), 'routet2i-e2e-')));

  const toolchain = await ensureToolchain();
  let vsix = process.env.ROUTET2I_E2E_VSIX ? resolve(process.env.ROUTET2I_E2E_VSIX) : undefined;
  let vsixBytes = 0;
  if (vsix) {
    if (!existsSync(vsix)) throw new Error(`ROUTET2I_E2E_VSIX=${vsix} does not exist`);
    say(`testing the given package ${vsix}`);
  } else {
    const started = Date.now();
    const [built] = await packageExtension({ targets: ['linux-x64'], log: say });
    vsix = built!.file;
    vsixBytes = built!.bytes;
    say(`packaged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  vsixBytes ||= statSync(vsix).size;
  const companion = await buildCompanion(tempRoot);

  // Installed with code-server's own CLI, as a user would; each session copies the result.
  const extensionsTemplate = join(tempRoot, 'extensions-template');
  const logFile = join(artifactsDir, 'install-extension.log');
  const install = startGroup(
    toolchain.node,
    [
      toolchain.codeServer,
      '--user-data-dir',
      join(tempRoot, 'install-user-data'),
      '--extensions-dir',
      extensionsTemplate,
      '--install-extension',
      vsix,
      '--install-extension',
      companion,
      '--force',
    ],
    { logFile, label: 'code-server --install-extension' },
  );
  const status = await install.exited;
  await install.stop();
  if (status !== 0 || !existsSync(extensionsTemplate)) {
    throw new Error(`code-server could not install ${vsix} and ${companion} (${status}):\n${tail(logFile)}`);
  }
  say(`installed ${vsix} and the companion test extension into code-server`);
  prepared = { toolchain, vsix, vsixBytes, extensionsTemplate, tempRoot, artifactsDir };
  return prepared;
}
