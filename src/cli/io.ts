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

/** Resolves when the stream takes more, or can never again (closed, failed: a reader that went away). */
function drained(stream: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stream.destroyed) return resolve();
    const done = () => {
      stream.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    stream.on('drain', done).on('close', done).on('error', done);
  });
}

/**
 * Writes `{...head, [key]: list}` as one line of JSON, the list a piece at a time: the same text as
 * JSON.stringify, without building one string of hundreds of megabytes (V8 refuses strings past ~512 MB,
 * which 300,000 routed prompts with their tokens pass), and waiting when the reader is slower than us.
 */
export async function writeJsonWithList(
  stream: Writable,
  head: Record<string, unknown>,
  key: string,
  list: readonly unknown[],
): Promise<void> {
  const open = JSON.stringify({ ...head, [key]: [] });
  // `…,"key":[]}` → write up to the `[`, then the items, then `]}`.
  let out = `${open.slice(0, -2)}`;
  const flush = async () => {
    if (!stream.write(out)) await drained(stream);
    out = '';
  };
  for (let i = 0; i < list.length; i++) {
    if (stream.destroyed) return; // the reader went away (a closed pipe): nothing more to say
    out += (i ? ',' : '') + JSON.stringify(list[i]);
    if (out.length > 1 << 20) await flush();
  }
  out += ']}\n';
  await flush();
}
