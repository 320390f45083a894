/** Small text helpers for the CLI's human output. */

export function fixed(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

export function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export function signed(x: number, digits = 2): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}

/** One line of a prompt for display: whitespace collapsed, cut with an ellipsis. */
export function shorten(text: string, max = 72): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join('').trimEnd()).join('\n');
}

/** An amount in USD, with enough digits for a fraction of a cent. */
export function money(x: number): string {
  return `$${x.toFixed(x !== 0 && x < 0.01 ? 4 : 3)}`;
}
