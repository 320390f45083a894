import type { Command } from '../io';
import { collectCommand } from './collect';
import { evalCommand } from './eval';
import { generateCommand } from './generate';
import { routeCommand } from './route';
import { scoreCommand } from './score';
import { trainCommand } from './train';

/** The command table: one entry per command, each in its own module. */
export const commands: Record<string, Command> = {
  route: routeCommand,
  train: trainCommand,
  eval: evalCommand,
  score: scoreCommand,
  collect: collectCommand,
  generate: generateCommand,
};
