/** Small text helpers for the CLI's human output. */

// Numbers, shares, signed impacts and money are written as the editor and the panel write them.
export { fixed, money, percent, signed } from '../shared/presentation';

/** One line of a prompt for display: whitespace collapsed, cut with an ellipsis. */
export function shorten(text: string, max = 72): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

export function table(rows: string[][]): string {
  // A loop, not Math.max(...): a table of 150,000 rows would pass 150,000 arguments and overflow the stack.
  const widths = rows[0]!.map((_, c) => rows.reduce((w, r) => Math.max(w, (r[c] ?? '').length), 0));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 2)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}
