// How the panel's webview is bundled: a browser bundle with nothing external and nothing remote, its CSS beside it
// (dist/webview/panel.js + panel.css). Always minified, since every panel loads it. esbuild.mjs builds it; the
// benchmark (bench/panel.ts) builds it the same way to measure it.
import sveltePlugin from 'esbuild-svelte';

/** @returns {import('esbuild').BuildOptions} */
export function webviewBuild() {
  return {
    entryPoints: { panel: 'webview/main.ts' },
    outdir: 'dist/webview',
    bundle: true,
    platform: 'browser',
    // VS Code 1.90's Electron 29 runs Chromium 122; code-server runs in any current browser.
    target: ['chrome114'],
    format: 'iife',
    external: [],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    mainFields: ['svelte', 'browser', 'module', 'main'],
    // `production` resolves esm-env's DEV to false at build time, so Svelte's development code is left out.
    conditions: ['svelte', 'browser', 'production'],
    plugins: [sveltePlugin({ compilerOptions: { css: 'external', dev: false } })],
  };
}
