// How the panel writes months, times and counts; numbers, shares and money as everywhere (src/shared/presentation.ts).

export { fixed as score, money, percent, signed } from '../../src/shared/presentation';

export function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

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
  if (
    date.getFullYear() === now.getFullYear() &&
    date.getMonth() === now.getMonth() &&
    date.getDate() === now.getDate()
  )
    return time;
  if (date.getFullYear() === now.getFullYear()) return `${day} ${time}`;
  return `${day} ${date.getFullYear()}`;
}

/** "1 image", "3 images". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
