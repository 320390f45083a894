import type { Command } from '../io';
import { evalCommand } from './eval';
import { generateCommand } from './generate';
import { routeCommand } from './route';
import { trainCommand } from './train';

/** The command table: one entry per command, each in its own module. */
export const commands: Record<string, Command> = {
  route: routeCommand,
  train: trainCommand,
  eval: evalCommand,
  generate: generateCommand,
};
