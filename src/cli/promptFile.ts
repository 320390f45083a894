/**
 * Reads the prompts `collect` renders. Interim: the engine's prompt-input parser (src/router/inputs.ts,
 * DESIGN.md "Prompt inputs") replaces this module when it lands on main; until then this covers
 * the same formats plainly: .txt (a prompt per non-empty line), .jsonl (`prompt`, optional `id`,
 * `negative`), .csv/.tsv (a `prompt` column, optional `id`), .t2i (blank-line separated, `#`
 * comments, `negative:` lines). Ids are `p1`, `p2`… in file order unless the file names them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { RouteT2IError } from '../router/errors';
import type { PromptEntry } from '../router/types';
import type { CliIO } from './io';

export function readPromptEntries(file: string, io: CliIO): PromptEntry[] {
  const full = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = fs.readFileSync(full, 'utf8');
  } catch (e) {
    throw new RouteT2IError('prompts-file', `cannot read prompts file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const ext = path.extname(full).toLowerCase();
  const raw: Array<{ id?: string; prompt: string; negative?: string }> = [];
  if (ext === '.jsonl') {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      let v: { id?: unknown; prompt?: unknown; negative?: unknown };
      try {
        v = JSON.parse(line);
      } catch {
        throw new RouteT2IError('prompts-file', `${file} line ${i + 1} is not JSON`);
      }
      if (typeof v.prompt !== 'string') throw new RouteT2IError('prompts-file', `${file} line ${i + 1} has no "prompt" string`);
      raw.push({ id: typeof v.id === 'string' ? v.id : undefined, prompt: v.prompt, negative: typeof v.negative === 'string' ? v.negative : undefined });
    });
  } else if (ext === '.csv' || ext === '.tsv') {
    let rows: Record<string, string>[];
    try {
      rows = parseCsv(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), delimiter: ext === '.tsv' ? '\t' : ',', skip_empty_lines: true, bom: true });
    } catch (e) {
      throw new RouteT2IError('prompts-file', `${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (rows.length > 0 && !('prompt' in rows[0]!)) throw new RouteT2IError('prompts-file', `${file} has no "prompt" column`);
    for (const r of rows) if (r.prompt?.trim()) raw.push({ id: r.id?.trim() || undefined, prompt: r.prompt, negative: r.negative || undefined });
  } else if (ext === '.t2i') {
    const body = text.replace(/^---\r?\n[\s\S]*?\r?\n---\r?\n/, '');
    for (const block of body.split(/\r?\n[ \t]*\r?\n/)) {
      const lines = block.split(/\r?\n/).filter((l) => !/^\s*#/.test(l) && l.trim() !== '');
      const negative = lines.filter((l) => /^\s*negative:/i.test(l)).map((l) => l.replace(/^\s*negative:\s*/i, ''));
      const prompt = lines.filter((l) => !/^\s*negative:/i.test(l)).join('\n').trim();
      if (prompt) raw.push({ prompt, negative: negative.length > 0 ? negative.join(', ') : undefined });
    }
  } else {
    for (const line of text.split(/\r?\n/)) if (line.trim() !== '') raw.push({ prompt: line.trim() });
  }
  if (raw.length === 0) throw new RouteT2IError('prompts-file', `${file} holds no prompts`);
  return raw.map((r, i) => ({
    id: r.id ?? `p${i + 1}`,
    prompt: r.prompt,
    negative: r.negative,
    source: { file, start: 0, end: 0, line: 0 },
    settings: {},
  }));
}
