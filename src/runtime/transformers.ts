/**
 * The one place that loads @huggingface/transformers (and with it onnxruntime-node and sharp).
 * Loaded on first use only, so `route` and the extension's editor features never pay for it.
 */
import type * as TransformersModule from '@huggingface/transformers';
import { RouteT2IError } from '../router/errors';

export type Transformers = typeof TransformersModule;

let loading: Promise<Transformers> | undefined;

export function loadTransformers(): Promise<Transformers> {
  loading ??= import('@huggingface/transformers').then(
    (t) => {
      // We fetch and verify model files ourselves (download.ts); the library only ever reads
      // complete local folders, never the network, and keeps no cache of its own.
      t.env.allowRemoteModels = false;
      t.env.allowLocalModels = true;
      t.env.useFSCache = false;
      t.env.useBrowserCache = false;
      t.env.logLevel = t.LogLevel.ERROR;
      return t;
    },
    (e: unknown) => {
      loading = undefined;
      throw new RouteT2IError(
        'runtime-missing',
        `the CLIP runtime (@huggingface/transformers with onnxruntime-node) could not be loaded: ${(e as Error).message}`,
        'reinstall with `npm ci`; scoring and the clip encoder need it',
      );
    },
  );
  return loading;
}
