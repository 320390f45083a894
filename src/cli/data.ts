import * as path from 'node:path';
import { READ_LIMITS, readFileBounded } from '../router/boundedRead';
import { RouteT2IError } from '../router/errors';
import { parsePairs } from '../router/pairs';
import { decodeText } from '../router/text';
import type { LabelledPair, Scores } from '../router/types';

/** File reading shared by the CLI commands: every failure names the file. */

export async function readPairsFile(file: string, cwd: string): Promise<LabelledPair[]> {
  const bytes = await readFileBounded(path.resolve(cwd, file), {
    limit: READ_LIMITS.pairs,
    what: 'pairs file',
    name: file,
  });
  return parsePairs(decodeText(bytes, file, READ_LIMITS.pairs), file);
}

/** `--weights quality=0.7,alignment=0.3` → normalised weights. */
export function parseWeights(text: string | undefined): Scores | undefined {
  if (text === undefined) return undefined;
  const out: Scores = {};
  for (const part of text.split(',')) {
    const m = /^\s*([a-z][a-z0-9_-]*)\s*=\s*([0-9.]+)\s*$/.exec(part);
    if (!m || !Number.isFinite(Number(m[2])))
      throw new RouteT2IError('bad-weights', `--weights: "${part}" is not metric=number`);
    out[m[1]!] = Number(m[2]);
  }
  const sum = Object.values(out).reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new RouteT2IError('bad-weights', '--weights must not all be zero');
  for (const k of Object.keys(out)) out[k]! /= sum;
  return out;
}
