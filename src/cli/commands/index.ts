import type { Command } from '../io';
import { scoreCommand } from './score';

/** The command table: one entry per command, each in its own module. */
export const commands: Record<string, Command> = {
  score: scoreCommand,
};
