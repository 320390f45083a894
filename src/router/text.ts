import { formatBytes, READ_LIMITS } from './boundedRead';
import { RouteT2IError } from './errors';

/**
 * Decodes a file's bytes as UTF-8 text, refusing binary data with a clear error. A leading byte-order
 * mark is dropped, as editors do, so offsets agree with what VS Code shows. The bytes should come from
 * boundedRead.ts, which stops at the limit while reading; the check here covers bytes from elsewhere.
 */
export function decodeText(bytes: Uint8Array, where: string, limit: number = READ_LIMITS.prompts): string {
  if (bytes.length > limit) {
    throw new RouteT2IError(
      'input-too-large',
      `${where}: ${formatBytes(bytes.length)} is over the ${formatBytes(limit)} limit for one input`,
    );
  }
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    throw new RouteT2IError('not-utf8', `${where}: the file is UTF-16; save it as UTF-8`);
  }
  const probe = bytes.subarray(0, Math.min(bytes.length, 65536));
  if (probe.includes(0))
    throw new RouteT2IError('binary-input', `${where}: this looks like a binary file, not prompt text`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RouteT2IError('not-utf8', `${where}: the file is not valid UTF-8 text`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (bytes.length > probe.length && text.includes('\u0000')) {
    throw new RouteT2IError('binary-input', `${where}: this looks like a binary file, not prompt text`);
  }
  return text;
}

export interface Line {
  /** Offset of the first character of the line. */
  start: number;
  /** Offset just past the line's content, before its line break. */
  end: number;
  text: string;
}

/** Splits text into lines on LF, CRLF or CR, keeping every offset. */
export function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      lines.push({ start, end: i, text: text.slice(start, i) });
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
  }
  if (start < text.length || text.length === 0 || text.endsWith('\n') || text.endsWith('\r')) {
    if (start <= text.length) lines.push({ start, end: text.length, text: text.slice(start) });
  }
  return lines;
}

/** 0-based line of an offset, given line starts in order. */
export function lineOf(lineStarts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
