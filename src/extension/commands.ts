// Every command, as a table (rust-analyzer's habit): each exists from activation on, loads the core only when it acts,
// and when it cannot act says why (Restricted Mode, no prompt editor, no panel) instead of doing nothing.
import * as vscode from 'vscode';
import type { Core } from './lifecycle/coreApi';
import type { Ctx } from './lifecycle/ctx';
import { COMMANDS } from '../shared/commands';

interface CommandSpec {
  /** Why it cannot act right now, or undefined when it can. */
  blocked?: (
    ctx: Ctx,
  ) => { message: string; actions?: Array<{ title: string; command: string; args?: unknown[] }> } | undefined;
  run: (core: Core, ...args: unknown[]) => Promise<unknown>;
}

const restricted = (what: string) => (ctx: Ctx) =>
  ctx.config.restricted
    ? {
        message: `RouteT2I does not ${what} in Restricted Mode: this workspace is not trusted, so its backend, policy and model settings are ignored.`,
        actions: [{ title: 'Manage Workspace Trust', command: 'workbench.trust.manage' }],
      }
    : undefined;

/** The commands that act through the core (the others are registered in extension.ts). */
export const CORE_COMMANDS: Record<string, CommandSpec> = {
  [COMMANDS.generate]: { blocked: restricted('generate'), run: (core) => core.generate({ scope: 'cursor' }) },
  [COMMANDS.generateSelection]: {
    blocked: restricted('generate'),
    run: (core) => core.generate({ scope: 'selection' }),
  },
  [COMMANDS.generateFile]: { blocked: restricted('generate'), run: (core) => core.generate({ scope: 'file' }) },
  [COMMANDS.generateOnEdge]: {
    blocked: restricted('generate'),
    run: (core) => core.generate({ scope: 'selection' }, 'edge'),
  },
  [COMMANDS.generateOnCloud]: {
    blocked: restricted('generate'),
    run: (core) => core.generate({ scope: 'selection' }, 'cloud'),
  },
  /** The CodeLens "Generate": one prompt named by its document and offset. */
  [COMMANDS.generatePrompt]: {
    blocked: restricted('generate'),
    run: (core, uri, offset) => {
      if (!(uri instanceof vscode.Uri) || typeof offset !== 'number') return core.generate({ scope: 'cursor' });
      return core.generate({ uri, offset });
    },
  },
  [COMMANDS.chooseMetric]: { run: (core) => core.chooseMetric() },
  [COMMANDS.toggleHeat]: { run: (core) => core.toggleHeat() },
  [COMMANDS.setApiKey]: { run: (core, backend) => core.setApiKey(typeof backend === 'string' ? backend : undefined) },
  [COMMANDS.setGatewayKey]: { run: (core) => core.setGatewayKey() },
  [COMMANDS.calibrate]: { blocked: restricted('calibrate'), run: (core) => core.calibrate() },
  [COMMANDS.uncalibratedHelp]: { run: (core) => core.uncalibratedHelp() },
  [COMMANDS.useCascadeMode]: { blocked: restricted('change the routing mode'), run: (core) => core.useCascadeMode() },
  [COMMANDS.compareOnBoth]: { blocked: restricted('compare on both sides'), run: (core) => core.compareOnBoth() },
  [COMMANDS.ignoreWord]: {
    run: async (core, word) => {
      if (typeof word !== 'string' || !word.trim()) throw new Error('routet2i.ignoreWord needs the word to ignore');
      return core.ignoreWord(word);
    },
  },
};

function explainer(ctx: Ctx) {
  return (why: { message: string; actions?: Array<{ title: string; command: string; args?: unknown[] }> }): void => {
    ctx.log.info(why.message);
    const actions = why.actions ?? [];
    void vscode.window.showInformationMessage(why.message, ...actions.map((a) => a.title)).then((title) => {
      const action = actions.find((a) => a.title === title);
      if (action) void vscode.commands.executeCommand(action.command, ...(action.args ?? []));
    });
  };
}

export function registerCommands(ctx: Ctx): void {
  const explain = explainer(ctx);
  for (const [id, spec] of Object.entries(CORE_COMMANDS)) {
    ctx.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        const why = spec.blocked?.(ctx);
        if (why) return explain(why);
        try {
          return await spec.run(await ctx.core(), ...args);
        } catch (error) {
          const message = (error as Error).message;
          ctx.log.error(`${id}: ${message}`);
          void vscode.window.showErrorMessage(`RouteT2I: ${message}`);
          return undefined;
        }
      }),
    );
  }
}
