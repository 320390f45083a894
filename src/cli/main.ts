import { isUserError, RouteT2IError, UsageError, CancelledError } from '../router/errors';
import { isErrorCode } from '../shared/errorCodes';
import type { CliIO, Command } from './io';
import { writeLine } from './io';
import { commands } from './commands';

const VERSION = '0.1.0';

function mainHelp(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`);
  return [
    'routet2i — edge-cloud routing for text-to-image prompts',
    '',
    'Usage: routet2i <command> [options]',
    '',
    'Commands:',
    ...rows,
    '',
    "Run `routet2i <command> --help` for a command's options. Exit codes: 0 ok, 1 user error, 2 usage.",
  ].join('\n');
}

/** Runs one CLI invocation and returns its exit code; never throws for a user error. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    writeLine(name === undefined ? io.stderr : io.stdout, mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    writeLine(io.stdout, VERSION);
    return 0;
  }
  const entry = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (!entry) {
    writeLine(io.stderr, `routet2i: unknown command "${name}". Commands: ${Object.keys(commands).join(', ')}.`);
    return 2;
  }
  const command: Command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    writeLine(io.stdout, command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      writeLine(io.stderr, `routet2i ${name}: ${e.message}`);
      writeLine(io.stderr, command.usage);
      return 2;
    }
    if (e instanceof CancelledError) {
      writeLine(io.stderr, `routet2i ${name}: cancelled`);
      return 130;
    }
    if (isUserError(e)) {
      const err = e as RouteT2IError;
      // The code (src/shared/errorCodes.ts) ends the line, so scripts can tell errors apart without parsing text.
      const code = isErrorCode(err.code) ? ` [${err.code}]` : '';
      writeLine(io.stderr, `routet2i ${name}: ${err.message}${err.hint ? ` (${err.hint})` : ''}${code}`);
      return 1;
    }
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'ENOSPC') {
      writeLine(io.stderr, `routet2i ${name}: the disk is full; nothing was overwritten (${(e as Error).message})`);
      return 1;
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOENT' || code === 'EISDIR') {
      writeLine(io.stderr, `routet2i ${name}: ${(e as Error).message}`);
      return 1;
    }
    // A bug, not a user error: say so, with the stack for the report.
    writeLine(io.stderr, `routet2i ${name}: internal error — please report it: ${(e as Error)?.stack ?? String(e)}`);
    return 70;
  }
}

if (require.main === module) {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    controller.abort();
  });
  // A service manager stops `serve` with SIGTERM: the same graceful stop as Ctrl-C (calls in flight stay booked).
  process.once('SIGTERM', () => controller.abort());
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const io: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
    interactive: Boolean(process.stderr.isTTY),
    signal: controller.signal,
  };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`routet2i: ${String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
