import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../router/errors';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, with its errors turned into usage errors (exit code 2). */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** A number option within [min, max]; `name` is the flag as the user typed it. */
export function numberOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

export function integerOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const n = numberOption(value, name, min, max, fallback);
  if (!Number.isInteger(n)) throw new UsageError(`${name} must be a whole number (got "${value}")`);
  return n;
}
