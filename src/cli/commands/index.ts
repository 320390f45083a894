import type { Command } from '../io';

/**
 * The command table: one entry per command, each in its own module, loaded only when it runs — so
 * `route` never evaluates the backends, the WebSocket client or the CLIP runtime, and `--help` is instant.
 */
export interface CommandEntry {
  summary: string;
  load(): Promise<Command>;
}

export const commands: Record<string, CommandEntry> = {
  route: {
    summary: 'predict, compare and route prompts (edge or cloud)',
    load: async () => (await import('./route')).routeCommand,
  },
  train: { summary: 'train a predictor on labelled pairs', load: async () => (await import('./train')).trainCommand },
  eval: {
    summary: 'evaluate routing against random, length and oracle baselines',
    load: async () => (await import('./eval')).evalCommand,
  },
  score: {
    summary: "measure images' quality per metric with CLIP",
    load: async () => (await import('./score')).scoreCommand,
  },
  collect: {
    summary: 'render prompts on edge and cloud, score both, append labelled pairs',
    load: async () => (await import('./collect')).collectCommand,
  },
  ledger: {
    summary: 'show the money ledger (spent, reserved, cap, entries); reconcile or repair it',
    load: async () => (await import('./ledger')).ledgerCommand,
  },
  serve: {
    summary: 'run the gateway: the OpenAI Images API, routed, for a team or any tool',
    load: async () => (await import('./serve')).serveCommand,
  },
  generate: {
    summary: 'generate images on the edge or the cloud, as the cost policy says',
    load: async () => (await import('./generate')).generateCommand,
  },
};
