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
  /** Whether it holds an emoji (never joined to a neighbour): kept as pieces grow, not re-tested on every joiner. */
  pictographic: boolean;
}

/** V8's segmenter slows down badly on very long strings: feed it chunks that end at whitespace, where no word continues. */
const CHUNK = 2048;

function* segments(
  text: string,
): Generator<{ segment: string; index: number; isWordLike: boolean | undefined; continued: boolean }> {
  let start = 0;
  let hardCut = false; // the previous chunk ended inside a run of non-space characters
  while (start < text.length) {
    let end = Math.min(text.length, start + CHUNK);
    let cutInside = false;
    if (end < text.length) {
      let cut = end;
      while (cut > start && !/\s/.test(text[cut - 1]!)) cut--;
      if (cut > start) end = cut;
      else cutInside = true;
    }
    let first = true;
    for (const s of segmenter.segment(text.slice(start, end))) {
      yield { segment: s.segment, index: s.index + start, isWordLike: s.isWordLike, continued: first && hardCut };
      first = false;
    }
    hardCut = cutInside;
    start = end;
  }
}

export function tokenizeWords(masked: string, weightAt: (offset: number) => number = () => 1): Token[] {
  const pieces: Piece[] = [];
  let joinable = false; // the previous piece ended with a joiner right after a word
  for (const s of segments(masked)) {
    const text = s.segment;
    if (s.isWordLike || PICTOGRAPHIC.test(text)) {
      const last = pieces[pieces.length - 1];
      const pictographic = PICTOGRAPHIC.test(text);
      // A word longer than a chunk continues in the next one: still one word.
      if (last && s.isWordLike && (joinable || (s.continued && last.end === s.index))) {
        last.end = s.index + text.length;
        last.pictographic ||= pictographic;
      } else pieces.push({ start: s.index, end: s.index + text.length, pictographic });
      joinable = false;
    } else {
      const last = pieces[pieces.length - 1];
      // One joiner character directly between two words keeps them one token.
      joinable =
        text.length === 1 && JOINERS.has(text) && last !== undefined && last.end === s.index && !last.pictographic;
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
