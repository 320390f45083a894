// The download and the start-up, measured on the real thing: the size of each platform's .vsix, and the activation
// time of the installed extension in a real VS Code (code-server), as VS Code itself reports it and as the extension
// logs it. `e2eBench()` is the "editor" section of bench/index.ts; `node --import tsx bench/e2e.ts` runs it alone.
import { join, resolve } from 'node:path';
import { packageExtension } from '../scripts/package';
import { prepareEnvironment } from '../test/e2e/harness/environment';
import { stopAll } from '../test/e2e/harness/processes';
import { Session } from '../test/e2e/harness/session';
import { VERSIONS } from '../test/e2e/harness/toolchain';

export const VSIX_TARGET_BYTES = 30_000_000;
export const ACTIVATION_TARGET_MS = 150;

export interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export interface E2EBench {
  editor: string;
  vsix: { target: string; bytes: number; megabytes: number }[];
  /** linux-x64 against the 30 MB target. */
  vsixWithinTarget: boolean;
  activation: {
    runs: number;
    /** VS Code's figure (Developer: Show Running Extensions): loading our code plus activate(). */
    vscodeMs: Spread;
    /** The extension's own figure: evaluating the bundle plus activate(), without VS Code's work in between. */
    selfMs: Spread;
    targetMs: number;
    withinTarget: boolean;
  };
}

function spread(samples: number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (n: number): number => Math.round(n * 10) / 10;
  return { median: round(median), min: round(sorted[0]!), max: round(sorted.at(-1)!), samples: samples.map(round) };
}

export async function e2eBench(options: { runs?: number; log?: (line: string) => void } = {}): Promise<E2EBench> {
  const runs = options.runs ?? 3;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const packaged = await packageExtension({ log });
  const linux = packaged.find((p) => p.target === 'linux-x64');
  if (!linux) throw new Error('no linux-x64 package was built');

  process.env.ROUTET2I_E2E_VSIX = linux.file;
  process.env.ROUTET2I_E2E_ARTIFACTS ??= join(
    resolve(__dirname, '..'),
    '.bench',
    `e2e-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  );
  const vscodeMs: number[] = [];
  const selfMs: number[] = [];
  try {
    const env = await prepareEnvironment();
    if (!env) throw new Error('the real-editor benchmark runs on Linux x64 only');
    for (let run = 1; run <= runs; run++) {
      // A fresh profile each time: every activation is the first of its window.
      const session = await Session.start({ label: `bench-${run}` });
      try {
        await session.workbench.openFile('examples/portraits.t2i');
        await session.probe.waitReady();
        const state = (await session.probe.call('state', {})) as { extension: { activation: { totalMs: number } } };
        selfMs.push(state.extension.activation.totalMs);
        const ours = (await session.workbench.runningExtensions()).find((e) => e.name === 'RouteT2I');
        if (ours?.activationMs === undefined)
          throw new Error('Running Extensions does not list RouteT2I with an activation time');
        vscodeMs.push(ours.activationMs);
        log(
          `run ${run}: VS Code ${ours.activationMs} ms, extension ${state.extension.activation.totalMs.toFixed(1)} ms`,
        );
      } finally {
        await session.stop();
      }
    }
  } finally {
    await stopAll();
  }
  const vscode = spread(vscodeMs);
  return {
    editor: `code-server ${VERSIONS.codeServer} on Node ${VERSIONS.node}`,
    vsix: packaged.map((p) => ({ target: p.target, bytes: p.bytes, megabytes: Math.round(p.bytes / 1e4) / 100 })),
    vsixWithinTarget: linux.bytes < VSIX_TARGET_BYTES,
    activation: {
      runs,
      vscodeMs: vscode,
      selfMs: spread(selfMs),
      targetMs: ACTIVATION_TARGET_MS,
      withinTarget: vscode.median < ACTIVATION_TARGET_MS,
    },
  };
}

if (require.main === module) {
  e2eBench().then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: Error) => {
      process.stderr.write(`bench e2e: ${error.message}\n`);
      process.exit(1);
    },
  );
}
