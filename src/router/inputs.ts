import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { READ_LIMITS, readFileBounded, readStreamBounded } from './boundedRead';
import { RouteT2IError } from './errors';
import { decodeText, lineOf, splitLines, type Line } from './text';
import type { PromptEntry, PromptSettings, Side } from './types';

/**
 * Prompt inputs (DESIGN.md, "Prompt inputs"): `.t2i`, `.txt`, `.tsv`, `.csv`, `.jsonl`, or `-` for
 * standard input. Every entry's `source` is its range in the input text; `prompt` is that exact slice,
 * except where the format escapes characters (CSV doubled quotes, JSON escapes): then `source.escaped`.
 */

export type InputFormat = 't2i' | 'txt' | 'tsv' | 'csv' | 'jsonl';

const FORMATS: Record<string, InputFormat> = {
  '.t2i': 't2i',
  '.txt': 'txt',
  '.text': 'txt',
  '.prompt': 'txt',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

export function inputFormatOf(file: string): InputFormat {
  if (file === '-') return 'txt';
  const format = FORMATS[path.extname(file).toLowerCase()];
  if (!format) {
    throw new RouteT2IError(
      'unknown-format',
      `${file}: unknown prompt file type "${path.extname(file) || '(none)'}"`,
      'use .t2i, .txt, .tsv, .csv or .jsonl, or - for standard input',
    );
  }
  return format;
}

/**
 * Every file numbers its prompts p1, p2…: with several inputs, ids are prefixed by the file's name
 * (`portraits-p1`, `stdin-p1`) so they stay apart. route and generate use the same ids (generate names images by them).
 */
export function inputIdPrefix(file: string, inputs: number): string {
  if (inputs <= 1) return '';
  return `${file === '-' ? 'stdin' : path.basename(file).replace(/\.[^.]+$/, '')}-`;
}

export interface ParsedInput {
  entries: PromptEntry[];
  /** File-level settings (the `.t2i` front matter). */
  settings: PromptSettings;
}

export function parsePromptInput(text: string, file: string, format: InputFormat = inputFormatOf(file)): ParsedInput {
  const lines = splitLines(text);
  const starts = lines.map((l) => l.start);
  const at = (offset: number) => lineOf(starts, offset);
  switch (format) {
    case 't2i':
      return parseT2i(text, file, lines, at);
    case 'txt':
      return { entries: parseLines(text, file, lines), settings: {} };
    case 'tsv':
      return { entries: parseTable(text, file, '\t', at), settings: {} };
    case 'csv':
      return { entries: parseTable(text, file, ',', at), settings: {} };
    case 'jsonl':
      return { entries: parseJsonLines(file, lines), settings: {} };
  }
}

/** Reads and parses a prompt file (or standard input for `-`). */
export async function readPromptFile(
  file: string,
  options: { cwd?: string; stdin?: NodeJS.ReadableStream } = {},
): Promise<ParsedInput & { text: string }> {
  const format = inputFormatOf(file);
  const where = file === '-' ? 'standard input' : file;
  const bounds = { limit: READ_LIMITS.prompts, what: 'prompt file', name: where };
  const bytes =
    file === '-'
      ? await readStreamBounded(options.stdin ?? process.stdin, bounds)
      : await readFileBounded(path.resolve(options.cwd ?? process.cwd(), file), bounds);
  const text = decodeText(bytes, where);
  const parsed = parsePromptInput(text, file, format);
  if (parsed.entries.length === 0) {
    throw new RouteT2IError('no-prompts', `${where}: no prompts found`, hintFor(format));
  }
  return { ...parsed, text };
}

function hintFor(format: InputFormat): string {
  switch (format) {
    case 't2i':
      return 'a .t2i file holds prompts separated by blank lines; lines starting with # are comments';
    case 'txt':
      return 'one prompt per non-empty line';
    case 'tsv':
    case 'csv':
      return 'the first row must name a column "prompt"';
    case 'jsonl':
      return 'one JSON object per line with a "prompt" field';
  }
}

function trimmedRange(text: string, start: number, end: number): [number, number] {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return [start, end];
}

const ROUTE_LINE = /^[ \t]*#[ \t]*route[ \t]*:[ \t]*(cloud|edge)[ \t]*$/i;

/**
 * The per-prompt route override: a comment line `# route: cloud` (or `edge`) among the comment lines directly above
 * the prompt, in the same paragraph. It travels with the file, shows in a diff, and the generate commands (editor and CLI) honour it.
 */
export function routeOverride(
  text: string,
  promptStart: number,
): { side: Side; start: number; end: number } | undefined {
  let lineStart = text.lastIndexOf('\n', promptStart - 1) + 1;
  while (lineStart > 0) {
    const prevEnd = lineStart - 1; // the '\n' ending the line above
    const prevStart = text.lastIndexOf('\n', prevEnd - 1) + 1;
    const line = text.slice(prevStart, prevEnd).replace(/\r$/, '');
    if (!/^[ \t]*#/.test(line)) return undefined;
    const m = ROUTE_LINE.exec(line);
    if (m) {
      const indent = /^[ \t]*/.exec(line)![0].length;
      return {
        side: m[1]!.toLowerCase() as Side,
        start: prevStart + indent,
        end: prevEnd - (text[prevEnd - 1] === '\r' ? 1 : 0),
      };
    }
    lineStart = prevStart;
  }
  return undefined;
}

const COMMENT = /^\s*#/;
const NEGATIVE = /^(\s*)negative\s*:/i;

function parseLines(text: string, file: string, lines: Line[]): PromptEntry[] {
  const entries: PromptEntry[] = [];
  lines.forEach((line, i) => {
    if (line.text.trim() === '' || COMMENT.test(line.text)) return;
    const [start, end] = trimmedRange(line.text, 0, line.text.length);
    const entry: PromptEntry = {
      id: `p${entries.length + 1}`,
      prompt: line.text.slice(start, end),
      source: { file, start: line.start + start, end: line.start + end, line: i },
      settings: {},
    };
    // The editor's CodeLens honours `# route:` above a line prompt too; so do route and generate.
    const route = routeOverride(text, line.start + start);
    if (route) entry.route = route;
    entries.push(entry);
  });
  return entries;
}

function parseT2i(text: string, file: string, lines: Line[], at: (o: number) => number): ParsedInput {
  let first = 0;
  let settings: PromptSettings = {};
  if (lines.length > 0 && lines[0]!.text.trimEnd() === '---') {
    const close = lines.findIndex((l, i) => i > 0 && (l.text.trimEnd() === '---' || l.text.trimEnd() === '...'));
    if (close < 0)
      throw new RouteT2IError('bad-front-matter', `${file}:1: front matter opened with --- is never closed`);
    const yamlText = text.slice(lines[1]?.start ?? 0, lines[close]!.start);
    settings = parseFrontMatter(yamlText, file);
    first = close + 1;
  }
  const entries: PromptEntry[] = [];
  let i = first;
  while (i < lines.length) {
    if (lines[i]!.text.trim() === '') {
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j]!.text.trim() !== '') j++;
    // Lines i..j-1 form one block: positive lines, then an optional `negative:` section.
    let posFirst = -1;
    let posLast = -1;
    let negStart = -1;
    for (let k = i; k < j; k++) {
      const t = lines[k]!.text;
      if (negStart < 0 && NEGATIVE.test(t)) negStart = k;
      else if (negStart < 0 && !COMMENT.test(t)) {
        if (posFirst < 0) posFirst = k;
        posLast = k;
      }
    }
    let negative: string | undefined;
    if (negStart >= 0) {
      const parts: string[] = [];
      for (let k = negStart; k < j; k++) {
        const t = lines[k]!.text;
        if (k === negStart) parts.push(t.replace(NEGATIVE, ''));
        else if (!COMMENT.test(t)) parts.push(t);
      }
      negative = parts
        .map((p) => p.trim())
        .filter(Boolean)
        .join(' ');
    }
    if (posFirst < 0) {
      if (negative !== undefined) {
        const prev = entries[entries.length - 1];
        if (!prev)
          throw new RouteT2IError(
            'orphan-negative',
            `${file}:${negStart + 1}: a negative prompt needs a prompt above it`,
          );
        if (prev.negative !== undefined)
          throw new RouteT2IError(
            'orphan-negative',
            `${file}:${negStart + 1}: the prompt above already has a negative prompt`,
          );
        prev.negative = negative;
      }
      i = j;
      continue;
    }
    const [start, end] = trimmedRange(text, lines[posFirst]!.start, lines[posLast]!.end);
    const entry: PromptEntry = {
      id: `p${entries.length + 1}`,
      prompt: text.slice(start, end),
      source: { file, start, end, line: at(start) },
      settings: { ...settings },
    };
    const neg = negative ?? (typeof settings.negative === 'string' ? settings.negative : undefined);
    if (neg !== undefined && neg !== '') entry.negative = neg;
    const route = routeOverride(text, start);
    if (route) entry.route = route;
    delete entry.settings.negative;
    entries.push(entry);
    i = j;
  }
  return { entries, settings };
}

const SIZE = /^\s*(\d{2,5})\s*[x×]\s*(\d{2,5})\s*$/i;

function parseFrontMatter(yamlText: string, file: string): PromptSettings {
  let value: unknown;
  try {
    value = parseYaml(yamlText);
  } catch (e) {
    throw new RouteT2IError(
      'bad-front-matter',
      `${file}: front matter is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new RouteT2IError('bad-front-matter', `${file}: front matter must be a set of "key: value" settings`);
  const out: PromptSettings = { ...(value as Record<string, unknown>) };
  const int = (key: string, min: number, max: number) => {
    const v = out[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new RouteT2IError(
        'bad-front-matter',
        `${file}: front matter "${key}" must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`,
      );
    }
  };
  if (out.size !== undefined) {
    const m = SIZE.exec(String(out.size));
    if (!m)
      throw new RouteT2IError(
        'bad-front-matter',
        `${file}: front matter "size" must look like 1024x1024 (got ${JSON.stringify(out.size)})`,
      );
    out.width = Number(m[1]);
    out.height = Number(m[2]);
    delete out.size;
  }
  int('width', 64, 8192);
  int('height', 64, 8192);
  int('seed', 0, 2 ** 53 - 1);
  int('steps', 1, 1000);
  for (const key of ['backend', 'negative', 'model'] as const) {
    if (out[key] !== undefined && typeof out[key] !== 'string') {
      throw new RouteT2IError('bad-front-matter', `${file}: front matter "${key}" must be text`);
    }
  }
  return out;
}

export interface Cell {
  value: string;
  start: number;
  end: number;
  quoted: boolean;
}

/**
 * Rows of a CSV (RFC 4180: quotes, doubled quotes, line breaks inside quotes) or TSV table, with each
 * cell's range. TSV (the IANA text/tab-separated-values type, and what PartiPrompts and spreadsheets write)
 * has no quoting: a quote is text, so `"G I G G L E" painted in…` is one cell, quotes and all.
 *
 * Why not csv-parse: every entry's `source` must be the exact UTF-16 range of its prompt cell. csv-parse's
 * `info` reports where a record starts and ends (bytes and lines) and `raw` gives the record's text, but not
 * where each field lies inside it, and in bytes of UTF-8 rather than string offsets; finding the field would
 * mean scanning the raw record's quotes and separators again, which is this parser. So we keep it, small and
 * linear: each character is looked at once.
 */
export function readTable(text: string, sep: string, file = 'input'): Cell[][] {
  const quoting = sep !== '\t';
  const rows: Cell[][] = [];
  let row: Cell[] = [];
  let i = 0;
  const n = text.length;
  while (i <= n) {
    let value: string;
    let start: number;
    let end: number;
    let quoted = false;
    if (quoting && text[i] === '"') {
      quoted = true;
      start = i + 1;
      let j = start;
      let buf = '';
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          // Reading on would take the rest of the file as one cell: say where the quote opened instead.
          const line = text.slice(0, i).split(/\r\n|\r|\n/).length;
          throw new RouteT2IError(
            'bad-csv',
            `${file}:${line}: a quoted field opens here and is never closed`,
            'close the quote, or double a quote inside a field ("")',
          );
        }
        buf += text.slice(j, q);
        if (text[q + 1] === '"') {
          buf += '"';
          j = q + 2;
        } else {
          end = q;
          j = q + 1;
          break;
        }
      }
      value = buf;
      i = j;
      while (i < n && text[i] !== sep && text[i] !== '\n' && text[i] !== '\r') i++; // junk after a closing quote
    } else {
      start = i;
      while (i < n && text[i] !== sep && text[i] !== '\n' && text[i] !== '\r') i++;
      end = i;
      value = text.slice(start, end);
    }
    row.push({ value, start, end: end!, quoted });
    if (i < n && text[i] === sep) {
      i++;
      continue;
    }
    rows.push(row);
    row = [];
    if (i >= n) break;
    if (text[i] === '\r' && text[i + 1] === '\n') i += 2;
    else i++;
    if (i === n) break;
  }
  return rows;
}

function parseTable(text: string, file: string, sep: string, at: (o: number) => number): PromptEntry[] {
  const rows = readTable(text, sep, file).filter((r) => !(r.length === 1 && r[0]!.value.trim() === ''));
  if (rows.length === 0) return [];
  const header = rows[0]!.map((c) => c.value.trim().toLowerCase());
  const col = header.indexOf('prompt');
  if (col < 0) {
    throw new RouteT2IError(
      'no-prompt-column',
      `${file}: no column named "prompt" in the first row (found: ${header
        .slice(0, 8)
        .map((h) => JSON.stringify(h))
        .join(', ')})`,
    );
  }
  const idCol = header.indexOf('id');
  const negCol = header.indexOf('negative');
  const entries: PromptEntry[] = [];
  for (let r = 1; r < rows.length; r++) {
    const cell = rows[r]![col];
    if (!cell || cell.value.trim() === '') continue;
    const lead = cell.value.length - cell.value.trimStart().length;
    const trail = cell.value.length - cell.value.trimEnd().length;
    const prompt = cell.value.trim();
    const start = cell.start + lead;
    const end = cell.end - trail;
    const escaped = text.slice(start, end) !== prompt;
    const id = idCol >= 0 && rows[r]![idCol]?.value.trim() ? rows[r]![idCol]!.value.trim() : `p${entries.length + 1}`;
    const entry: PromptEntry = {
      id,
      prompt,
      source: { file, start, end, line: at(start), ...(escaped ? { escaped: true } : {}) },
      settings: {},
    };
    const neg = negCol >= 0 ? rows[r]![negCol]?.value.trim() : undefined;
    if (neg) entry.negative = neg;
    entries.push(entry);
  }
  return entries;
}

/** Range of the raw JSON string value of `key` in a line, if it is written plainly enough to find. */
function jsonStringRange(line: string, key: string): [number, number] | undefined {
  const re = new RegExp(`"${key}"\\s*:\\s*"`, 'g');
  const m = re.exec(line);
  if (!m) return undefined;
  const start = m.index + m[0].length;
  let i = start;
  while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
  return [start, i];
}

function parseJsonLines(file: string, lines: Line[]): PromptEntry[] {
  const entries: PromptEntry[] = [];
  lines.forEach((line, i) => {
    if (line.text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch (e) {
      throw new RouteT2IError('bad-jsonl', `${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new RouteT2IError('bad-jsonl', `${file}:${i + 1}: each line must be a JSON object`);
    const obj = value as Record<string, unknown>;
    if (typeof obj.prompt !== 'string')
      throw new RouteT2IError('bad-jsonl', `${file}:${i + 1}: "prompt" must be a string`);
    if (obj.prompt.trim() === '') return;
    const range = jsonStringRange(line.text, 'prompt');
    const raw = range ? line.text.slice(range[0], range[1]) : undefined;
    const start = line.start + (range ? range[0] : 0);
    const end = line.start + (range ? range[1] : line.text.length);
    const escaped = raw !== obj.prompt;
    const id = typeof obj.id === 'string' || typeof obj.id === 'number' ? String(obj.id) : `p${entries.length + 1}`;
    const entry: PromptEntry = {
      id,
      prompt: obj.prompt,
      source: { file, start, end, line: i, ...(escaped ? { escaped: true } : {}) },
      settings: {},
    };
    if (typeof obj.negative === 'string' && obj.negative.trim() !== '') entry.negative = obj.negative;
    entries.push(entry);
  });
  return entries;
}
