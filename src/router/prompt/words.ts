import type { Token } from '../types';

/**
 * Word tokens of a masked prompt (see syntax.ts). Unicode word boundaries come from Intl.Segmenter
 * (ICU: right for combining marks, CJK, RTL scripts and emoji sequences); on top of them, compounds a
 * prompt writer thinks of as one word are joined: `close-up`, `f/1.8`, `16:9`.
 */

const segmenter = new Intl.Segmenter('en', { granularity: 'word' });
const PICTOGRAPHIC = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const JOINERS = new Set(['-', '/', ':', '.', '\u2010', '\u2011', '\u2013']);

interface Piece {
  start: number;
  end: number;
}

export function tokenizeWords(masked: string, weightAt: (offset: number) => number = () => 1): Token[] {
  const pieces: Piece[] = [];
  let joinable = false; // the previous piece ended with a joiner right after a word
  for (const s of segmenter.segment(masked)) {
    const text = s.segment;
    if (s.isWordLike || PICTOGRAPHIC.test(text)) {
      const last = pieces[pieces.length - 1];
      if (joinable && last && s.isWordLike) last.end = s.index + text.length;
      else pieces.push({ start: s.index, end: s.index + text.length });
      joinable = false;
    } else {
      const last = pieces[pieces.length - 1];
      // One joiner character directly between two words keeps them one token.
      joinable = text.length === 1 && JOINERS.has(text) && last !== undefined && last.end === s.index && !PICTOGRAPHIC.test(masked.slice(last.start, last.end));
      if (joinable && !/[\p{L}\p{N}]/u.test(masked[s.index + 1] ?? '')) joinable = false;
    }
  }
  return pieces.map((p) => ({
    text: masked.slice(p.start, p.end),
    start: p.start,
    end: p.end,
    weight: weightAt(p.start),
  }));
}
