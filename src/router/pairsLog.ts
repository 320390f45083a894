/**
 * An append-only labelled-pairs file (JSON Lines, DESIGN.md "Labelled pairs") that survives a
 * crash or Ctrl-C at any moment: each pair is one write of one complete line followed by fsync,
 * so after a crash the file holds every finished pair and at most one torn last line, which is
 * cut off when the file is opened again. Ids already present are reported so a resumed run skips
 * them: nothing is duplicated and nothing finished is lost.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { READ_LIMITS, readFileBoundedSync } from './boundedRead';
import { RouteT2IError } from './errors';
import type { LabelledPair } from './types';

export interface OpenedPairs {
  /** Prompt of each id already in the file. */
  done: Map<string, string>;
  /** Metric ids of the pairs already there (from the first one), to keep a file consistent. */
  metrics?: string[];
  /** Bytes of a torn last line that were cut off (0 when the file ended cleanly). */
  repaired: number;
}

export class PairsLog {
  private constructor(
    readonly file: string,
    private fd: number,
  ) {}

  /** Opens (creating) the file for appending, after reading what it holds and cutting a torn tail. */
  static open(file: string): { log: PairsLog; existing: OpenedPairs } {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const existing = readExisting(file);
    const fd = fs.openSync(file, 'a');
    return { log: new PairsLog(file, fd), existing };
  }

  /** Appends one pair as one line and waits until it is on disk. */
  append(pair: LabelledPair): void {
    const line = Buffer.from(JSON.stringify(pair) + '\n', 'utf8');
    let written = 0;
    while (written < line.length) written += fs.writeSync(this.fd, line, written);
    fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

function readExisting(file: string): OpenedPairs {
  if (!fs.existsSync(file)) return { done: new Map(), repaired: 0 };
  const text = readFileBoundedSync(file, { limit: READ_LIMITS.pairs, what: 'pairs file' });
  const name = path.basename(file);
  // JSON.stringify never writes a raw newline, so a line of ours ends only where a write finished.
  // A tail after the last newline is a torn write and is cut off; unless it is a whole pair (a file
  // edited by hand that lacks its final newline), which is kept and given its newline.
  const end = text.lastIndexOf(0x0a) + 1;
  const tail = text.subarray(end).toString('utf8');
  let repaired = text.length - end;
  const lines = text.subarray(0, end).toString('utf8').split('\n');
  lines.pop();
  const lacksNewline = repaired > 0 && isPairLine(tail);
  if (lacksNewline) {
    lines.push(tail);
    repaired = 0;
  }
  const done = new Map<string, string>();
  let metrics: string[] | undefined;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let pair: Partial<LabelledPair>;
    try {
      pair = JSON.parse(line) as Partial<LabelledPair>;
    } catch {
      throw new RouteT2IError(
        'pairs-file',
        `${name} line ${i + 1} is not JSON; fix or remove that line, or write to a new file`,
      );
    }
    if (
      typeof pair.id !== 'string' ||
      typeof pair.prompt !== 'string' ||
      typeof pair.edge !== 'object' ||
      typeof pair.cloud !== 'object'
    ) {
      throw new RouteT2IError('pairs-file', `${name} line ${i + 1} is not a labelled pair {id, prompt, edge, cloud}`);
    }
    if (done.has(pair.id)) throw new RouteT2IError('pairs-file', `${name} line ${i + 1} repeats id "${pair.id}"`);
    done.set(pair.id, pair.prompt);
    metrics ??= Object.keys(pair.edge);
  });
  // Only now, with every line checked, is the file touched.
  if (lacksNewline) fs.appendFileSync(file, '\n');
  if (repaired > 0) fs.truncateSync(file, end);
  return { done, metrics, repaired };
}

function isPairLine(line: string): boolean {
  try {
    const v = JSON.parse(line) as Partial<LabelledPair>;
    return (
      typeof v === 'object' &&
      v !== null &&
      typeof v.id === 'string' &&
      typeof v.edge === 'object' &&
      typeof v.cloud === 'object'
    );
  } catch {
    return false;
  }
}
