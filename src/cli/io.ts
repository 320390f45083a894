import type { Readable, Writable } from 'node:stream';

/** What a command may touch: injected so tests run commands in-process. */
export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (progress lines are drawn only there). */
  interactive: boolean;
  /** Fires on Ctrl-C. */
  signal: AbortSignal;
}

export interface Command {
  usage: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

export function writeLine(stream: Writable, line = ''): void {
  stream.write(line + '\n');
}
