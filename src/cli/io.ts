import type { Readable, Writable } from 'node:stream';
import { scrub } from '../shared/secrets';

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

/** Writes one line; a password written in a URL or an echoed credential header never reaches the terminal. */
export function writeLine(stream: Writable, line = ''): void {
  stream.write(scrub(line, []) + '\n');
}
