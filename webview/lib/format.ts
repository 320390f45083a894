// How the panel writes numbers, money, shares and times. Pure, so the words are unit-tested.

const MINUS = '\u2212';

export function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

/** A score in [0, 1] with two decimals: "0.62". */
export function score(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(2);
}

/** A signed difference with a true minus sign: "+0.05", "−0.12", "±0.00". */
export function signed(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '–';
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `\u00b1${text}`;
  return value > 0 ? `+${text}` : `${MINUS}${text}`;
}

/** A share as a whole percentage ("31%"); one decimal below 10% where it matters ("2.5%"). */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const p = value * 100;
  const rounded = Math.round(p);
  if (Math.abs(p - rounded) >= 0.05 && Math.abs(p) < 10) return `${p.toFixed(1)}%`;
  return `${rounded}%`;
}

/** Money in USD: "$1.20", "$0.004" (small per-image prices keep a third decimal), "$0.00". */
export function money(value: number | null | undefined, currency = 'USD'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const symbol = currency === 'USD' ? '$' : `${currency} `;
  const abs = Math.abs(value);
  const digits = abs > 0 && abs < 0.1 && Math.abs(abs * 100 - Math.round(abs * 100)) > 1e-9 ? 3 : 2;
  return `${value < 0 ? MINUS : ''}${symbol}${abs.toFixed(digits)}`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2026-11" → "November 2026" (the ledger's months are UTC). */
export function monthLabel(month: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const name = m ? MONTHS[Number(m[2]) - 1] : undefined;
  return m && name ? `${name} ${m[1]}` : month;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * When something happened, short and in local time: "14:03" today, "3 Dec 14:03" this year, "3 Dec 2025" before.
 * `now` and the zone offset are parameters so tests do not depend on the machine's clock or zone.
 */
export function when(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const day = `${date.getDate()} ${MONTHS[date.getMonth()]!.slice(0, 3)}`;
  if (date.getFullYear() === now.getFullYear() && date.getMonth() === now.getMonth() && date.getDate() === now.getDate()) return time;
  if (date.getFullYear() === now.getFullYear()) return `${day} ${time}`;
  return `${day} ${date.getFullYear()}`;
}

/** "1 image", "3 images". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
