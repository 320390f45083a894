// Roving focus for a row of items (the heat strip's words, the gallery): one Tab stop, arrows move within.

export type RovingKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End';

/**
 * The index that a key moves focus to from `current` among `count` items, or undefined when the key does not move
 * focus. Left/Up go back and Right/Down forward, stopping at the ends (as a list does, not wrapping); `columns` makes
 * Up/Down jump a row in a grid.
 */
export function rovingIndex(key: string, current: number, count: number, columns = 0): number | undefined {
  if (count <= 0) return undefined;
  const at = Math.min(Math.max(current, 0), count - 1);
  const step = columns > 1 ? columns : 1;
  switch (key) {
    case 'ArrowLeft':
      return Math.max(0, at - 1);
    case 'ArrowRight':
      return Math.min(count - 1, at + 1);
    case 'ArrowUp':
      return Math.max(0, at - step);
    case 'ArrowDown':
      return Math.min(count - 1, at + step);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return undefined;
  }
}
