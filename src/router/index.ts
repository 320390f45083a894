// Public surface of the engine, for the CLI, the extension and the runtimes.
export * from './errors';
export * from './metrics';
export * from './types';
