import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/io';

/** Runs the CLI in-process with captured output. */
export async function cli(argv: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal; stdin?: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const io: CliIO = {
    stdout,
    stderr,
    stdin: Readable.from([o.stdin ?? '']),
    cwd: o.cwd,
    env: o.env ?? {},
    interactive: false,
    signal: o.signal ?? new AbortController().signal,
  };
  const code = await runCli(argv, io);
  return { code, stdout: out, stderr: err };
}
