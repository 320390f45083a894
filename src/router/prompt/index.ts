import type { Token } from '../types';
import { parsePromptSyntax, type PromptSyntax } from './syntax';
import { tokenizeWords } from './words';

export { parsePromptSyntax, plainPromptText, type PromptSyntax, type ExtraNetwork } from './syntax';
export { tokenizeWords } from './words';

/** The words of a prompt, syntax removed, each with its exact range in `prompt` and its emphasis weight. */
export function promptTokens(prompt: string): { syntax: PromptSyntax; tokens: Token[] } {
  const syntax = parsePromptSyntax(prompt);
  return { syntax, tokens: tokenizeWords(syntax.masked, syntax.weightAt) };
}
export { boundPrompt, MAX_PROMPT_CHARS } from './limits';
