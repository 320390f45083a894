/**
 * The workspace's pairs log: every generation that measured both sides (calibration, a cascade that escalated, Compare
 * on Both) adds a measurement here. One line per (prompt text, model pair, label source): a prompt measured again adds
 * to its line — scores are the running mean, `count` says how many measurements it holds — instead of a duplicate.
 * Lines are labelled pairs (DESIGN.md), so `routet2i train --data` reads the file as it is.
 *
 * Written whole on every addition (a temporary file, fsync, rename): a crash leaves the old file or the new one, never
 * half of one. The log is small (one line per distinct prompt), so rewriting it costs little.
 */
import { writeFileAtomicSync } from '../atomicWrite';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RouteT2IError } from '../errors';
import { parsePairs } from '../pairs';
import { decodeText } from '../text';
import type { LabelledPair, Scores } from '../types';
import { labelSourceKey, labelSourceOfPair, type LabelSource } from './labelSource';

/** The models on each side, as the user configured them ("backend:model"). */
export interface ModelPair {
  edge: string;
  cloud: string;
}

export type MeasuredBy = 'calibration' | 'cascade' | 'compare';

export interface Measurement {
  prompt: string;
  edge: Scores;
  cloud: Scores;
  models: ModelPair;
  labels: LabelSource;
  via: MeasuredBy;
  seed?: number;
  at?: string;
}

export interface WorkPair extends LabelledPair {
  models: ModelPair;
  labels: LabelSource;
  /** Measurements averaged into `edge` and `cloud`. */
  count: number;
  via: MeasuredBy[];
  at: string;
}

export function modelPairKey(models: ModelPair): string {
  return `${models.edge} → ${models.cloud}`;
}

/** The key of a line: prompt text, model pair and label source. */
export function workPairKey(prompt: string, models: ModelPair, labels: LabelSource | undefined): string {
  return JSON.stringify([prompt, models.edge, models.cloud, labelSourceKey(labels)]);
}

/** The running mean of one side's scores; a metric only one side has keeps what it has. */
function average(old: Scores, oldCount: number, next: Scores): Scores {
  const out: Scores = { ...old };
  for (const [id, v] of Object.entries(next)) out[id] = id in old ? (old[id]! * oldCount + v) / (oldCount + 1) : v;
  return out;
}

function checkScores(scores: Scores, side: string): void {
  const entries = Object.entries(scores);
  if (entries.length === 0) throw new RouteT2IError('bad-measurement', `a measurement needs ${side} scores`);
  for (const [id, v] of entries) {
    if (!(typeof v === 'number' && v >= 0 && v <= 1))
      throw new RouteT2IError(
        'bad-measurement',
        `${side}.${id} must be a score from 0 to 1 (got ${JSON.stringify(v)})`,
      );
  }
}

function asWorkPair(p: LabelledPair, file: string): WorkPair {
  const m = p.models as Partial<ModelPair> | undefined;
  if (!m || typeof m.edge !== 'string' || typeof m.cloud !== 'string')
    throw new RouteT2IError('pairs-file', `${path.basename(file)}: pair "${p.id}" has no "models": {"edge", "cloud"}`);
  const labels = labelSourceOfPair(p);
  if (!labels)
    throw new RouteT2IError(
      'pairs-file',
      `${path.basename(file)}: pair "${p.id}" does not record its label source ("labels")`,
    );
  const count = typeof p.count === 'number' && Number.isInteger(p.count) && p.count >= 1 ? p.count : 1;
  const via = Array.isArray(p.via) ? (p.via.filter((v) => typeof v === 'string') as MeasuredBy[]) : [];
  return {
    ...p,
    models: { edge: m.edge, cloud: m.cloud },
    labels,
    count,
    via,
    at: typeof p.at === 'string' ? p.at : '',
  };
}

export class WorkPairsLog {
  private readonly byKey = new Map<string, WorkPair>();

  private constructor(readonly file: string) {}

  /** Reads the log (an absent file is an empty log). A damaged line is an error naming the file and line. */
  static open(file: string): WorkPairsLog {
    const log = new WorkPairsLog(file);
    let text: string;
    try {
      text = decodeText(fs.readFileSync(file), file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return log;
      throw e;
    }
    if (text.trim() === '') return log;
    for (const p of parsePairs(text, file)) {
      const pair = asWorkPair(p, file);
      const key = workPairKey(pair.prompt, pair.models, pair.labels);
      if (log.byKey.has(key))
        throw new RouteT2IError(
          'pairs-file',
          `${path.basename(file)}: the prompt of pair "${pair.id}" appears twice for ${modelPairKey(pair.models)}`,
        );
      log.byKey.set(key, pair);
    }
    return log;
  }

  get pairs(): WorkPair[] {
    return [...this.byKey.values()];
  }

  /** Measurements of one model pair and label source (the sum of their counts). */
  measurements(models: ModelPair, labels: LabelSource): number {
    return this.select(models, labels).reduce((a, p) => a + p.count, 0);
  }

  /** The training set of one model pair and one label source: never another pair's or another source's labels. */
  select(models: ModelPair, labels: LabelSource): WorkPair[] {
    const key = labelSourceKey(labels);
    return this.pairs.filter(
      (p) => p.models.edge === models.edge && p.models.cloud === models.cloud && labelSourceKey(p.labels) === key,
    );
  }

  /** Adds one measurement (a new line, or averaged into its prompt's line) and writes the log. */
  add(m: Measurement): { pair: WorkPair; again: boolean } {
    if (typeof m.prompt !== 'string' || m.prompt.trim() === '')
      throw new RouteT2IError('bad-measurement', 'a measurement needs the prompt text');
    checkScores(m.edge, 'edge');
    checkScores(m.cloud, 'cloud');
    const key = workPairKey(m.prompt, m.models, m.labels);
    const old = this.byKey.get(key);
    const at = m.at ?? new Date().toISOString();
    let pair: WorkPair;
    if (old) {
      pair = {
        ...old,
        edge: average(old.edge, old.count, m.edge),
        cloud: average(old.cloud, old.count, m.cloud),
        count: old.count + 1,
        via: old.via.includes(m.via) ? old.via : [...old.via, m.via],
        at,
      };
    } else {
      pair = {
        id: `w${this.byKey.size + 1}`,
        prompt: m.prompt,
        edge: { ...m.edge },
        cloud: { ...m.cloud },
        models: { ...m.models },
        labels: m.labels,
        count: 1,
        via: [m.via],
        at,
      };
      if (m.seed !== undefined) pair.seed = m.seed;
    }
    const next = new Map(this.byKey);
    next.set(key, pair);
    write(this.file, [...next.values()]);
    // Only a written log changes what this object holds.
    this.byKey.set(key, pair);
    return { pair, again: old !== undefined };
  }
}

function write(file: string, pairs: readonly WorkPair[]): void {
  writeFileAtomicSync(file, pairs.map((p) => JSON.stringify(p) + '\n').join(''), { mkdir: true });
}
