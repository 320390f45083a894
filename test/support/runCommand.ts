/** Runs the CLI in-process with captured output (what a user would see, without a child process). */
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/io';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCommand(
  argv: string[],
  options: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    stdin?: string;
    interactive?: boolean;
    onStderr?: (chunk: string) => void;
  },
): Promise<CommandResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
    options.onStderr?.(c.toString());
  });
  const io: CliIO = {
    stdout,
    stderr,
    stdin: Readable.from([options.stdin ?? '']),
    cwd: options.cwd,
    env: { PATH: process.env.PATH, ...options.env },
    interactive: options.interactive ?? false,
    signal: options.signal ?? new AbortController().signal,
  };
  const code = await runCli(argv, io);
  return { code, stdout: out, stderr: err };
}
