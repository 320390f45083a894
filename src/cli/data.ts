import * as path from 'node:path';
import { RouteT2IError } from '../router/errors';
import { readPairsFile as readPairs } from '../router/trainAndSave';
import type { LabelledPair, Scores } from '../router/types';

/** File reading shared by the CLI commands: every failure names the file. */

/** A pairs file named on the command line (relative to the working folder): the engine's bounded reader. */
export async function readPairsFile(file: string, cwd: string): Promise<LabelledPair[]> {
  return readPairs(path.resolve(cwd, file), file);
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
