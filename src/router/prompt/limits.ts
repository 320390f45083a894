/**
 * Bounded work per prompt. Everything the engine does to a prompt (syntax, words, the tagger, the network) is
 * at least linear in its length, and the tagger is not linear on very long words, so a prompt longer than
 * MAX_PROMPT_CHARS is analysed only up to that point and the result says so (`truncated`). Real prompts are
 * far shorter: the longest of PartiPrompts' 1,632 is 389 characters, and CLIP reads 77 tokens.
 */
import type { Truncation } from '../types';

/** Characters of one prompt that are analysed (docs/limits.md). */
export const MAX_PROMPT_CHARS = 2000;

/** How far back from the limit a cut may move to land between words rather than inside one. */
const WORD_SLACK = 100;

/** The part of `prompt` that is analysed, and the note when that is not all of it. */
export function boundPrompt(prompt: string, limit = MAX_PROMPT_CHARS): { text: string; truncated?: Truncation } {
  if (prompt.length <= limit) return { text: prompt };
  let at = limit;
  // Prefer to end at whitespace, so the last analysed word is whole.
  for (let p = limit; p > limit - WORD_SLACK && p > 0; p--) {
    if (/\s/.test(prompt[p]!)) {
      at = p;
      break;
    }
  }
  // Never between the two halves of a surrogate pair.
  const c = prompt.charCodeAt(at - 1);
  if (at === limit && c >= 0xd800 && c <= 0xdbff) at--;
  const count = (x: number) => x.toLocaleString('en-US');
  return {
    text: prompt.slice(0, at),
    truncated: {
      at,
      limit,
      reason: `the prompt is ${count(prompt.length)} characters, over the ${count(limit)} analysed: the text after character ${count(at)} is not part of the prediction`,
    },
  };
}
