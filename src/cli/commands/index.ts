import type { Command } from '../io';

/** The command table: one entry per command, each in its own module. */
export const commands: Record<string, Command> = {};
