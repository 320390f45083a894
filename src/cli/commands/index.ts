import type { Command } from '../io';
import { collectCommand } from './collect';
import { scoreCommand } from './score';

/** The command table: one entry per command, each in its own module. */
export const commands: Record<string, Command> = {
  score: scoreCommand,
  collect: collectCommand,
};
