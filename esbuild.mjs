// Bundles the CLI and the extension (and, once it exists, the webview). Native and
// heavy runtime packages stay external: they are loaded lazily from node_modules.
import * as esbuild from 'esbuild';
import sveltePlugin from 'esbuild-svelte';
import { existsSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const external = ['vscode', 'onnxruntime-node', 'onnxruntime-web', 'sharp', '@huggingface/transformers'];

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  {
    entryPoints: { cli: 'src/cli/main.ts' },
    banner: { js: '#!/usr/bin/env node' },
  },
];
if (existsSync('src/extension/extension.ts')) builds.push({ entryPoints: { extension: 'src/extension/extension.ts' } });

const common = {
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

// The panel's webview (webview/, Svelte 5): a browser bundle with nothing external and nothing remote, its CSS beside
// it (dist/webview/panel.js + panel.css). Always minified: it is what every panel loads.
if (existsSync('webview/main.ts')) {
  builds.push({
    entryPoints: { panel: 'webview/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    target: ['chrome114'],
    format: 'iife',
    external: [],
    minify: true,
    mainFields: ['svelte', 'browser', 'module', 'main'],
    conditions: ['svelte', 'browser', 'production'],
    plugins: [sveltePlugin({ compilerOptions: { css: 'external', dev: false } })],
  });
}

for (const b of builds) {
  const options = { ...common, ...b };
  if (watch) await (await esbuild.context(options)).watch();
  else await esbuild.build(options);
}
