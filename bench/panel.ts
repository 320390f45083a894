/**
 * The panel's cost: the size of the webview bundle every panel loads (raw, gzip, brotli, and what it is made of), and
 * the time and message size of one live update (the prompt at the cursor turned into the panel's view, and the heat
 * strip cut from it). `panelBench()` is the "panel" section of bench/index.ts; `tsx bench/panel.ts` runs it alone.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import * as esbuild from 'esbuild';
import { readPromptFile } from '../src/router/inputs';
import { calibrateAlpha, decideRoute, DEFAULT_POLICY, explainDecision } from '../src/router/policy';
import { defaultModelDir, Predictor } from '../src/router/predictor';
import { promptView } from '../src/extension/panel/viewModel';
import { notification } from '../src/shared/panel/protocol';
import { heatSegments } from '../webview/lib/heat';

const ROOT = path.resolve(__dirname, '..');
/** Our own budget for "keep the webview bundle small": what one panel loads, gzip-compressed. */
export const WEBVIEW_GZIP_TARGET_BYTES = 100 * 1024;

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function sizes(bytes: Uint8Array): { bytes: number; gzip: number; brotli: number } {
  return {
    bytes: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** Who the bundle's bytes belong to: Svelte's runtime, Lit and VS Code Elements, our own code. */
function breakdown(inputs: Record<string, { bytesInOutput: number }>): Record<string, number> {
  const groups: Record<string, number> = {};
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
    const group = pkg
      ? pkg === 'svelte' || pkg === 'esm-env'
        ? 'svelte runtime'
        : pkg.startsWith('@vscode-elements') || pkg.startsWith('lit') || pkg.startsWith('@lit')
          ? 'vscode-elements + lit'
          : pkg
      : file.startsWith('webview/components') || file.endsWith('.svelte')
        ? 'our components'
        : 'our modules';
    groups[group] = (groups[group] ?? 0) + bytesInOutput;
  }
  return Object.fromEntries(Object.entries(groups).sort((a, b) => b[1] - a[1]));
}

async function bundle(): Promise<Record<string, unknown>> {
  const { webviewBuild } = (await import(pathToFileURL(path.join(ROOT, 'webview', 'build.mjs')).href)) as {
    webviewBuild(): esbuild.BuildOptions;
  };
  const result = await esbuild.build({
    ...webviewBuild(),
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
    sourcemap: false,
    logLevel: 'error',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))!;
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))!;
  const jsMeta = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.js'))![1];
  const total = sizes(new Uint8Array([...js.contents, ...css.contents]));
  return {
    js: sizes(js.contents),
    css: sizes(css.contents),
    total,
    gzipWithinTarget: total.gzip <= WEBVIEW_GZIP_TARGET_BYTES,
    jsBreakdownBytes: breakdown(jsMeta.inputs),
    note: 'dist/webview/panel.js + panel.css as esbuild.mjs builds them (minified, browser, iife), loaded from the extension folder: nothing remote',
  };
}

async function liveUpdate(): Promise<Record<string, unknown>> {
  const predictor = await Predictor.load(defaultModelDir());
  const files = ['portraits.t2i', 'landscapes.t2i', 'product-shots.t2i', 'partiprompts-hard.t2i'].map((f) =>
    path.join(ROOT, 'examples', f),
  );
  const prompts: string[] = [];
  for (const file of files) {
    try {
      prompts.push(...(await readPromptFile(file)).entries.map((e) => e.prompt));
    } catch {
      // An example that is not there is simply not measured.
    }
  }
  if (!prompts.length) return { skipped: 'no examples/*.t2i to measure' };
  const alpha = calibrateAlpha(predictor.prsReference, DEFAULT_POLICY.cloudShare);
  const states = prompts.map((prompt, i) => {
    const prediction = predictor.predictSync(prompt);
    const decision = decideRoute(prediction.prs, alpha, DEFAULT_POLICY.cloudShare, DEFAULT_POLICY);
    return {
      uri: 'file:///workspace/examples/prompts.t2i',
      range: { start: 0, end: prompt.length, line: i },
      promptId: `p${i}`,
      prompt,
      prediction,
      decision,
      why: explainDecision(decision, DEFAULT_POLICY.cloudShare),
      metrics: predictor.metrics,
      weights: predictor.normalisation.weights,
    };
  });
  // Warm up, then time the host's work (view model + JSON as VS Code posts it) and the webview's (cutting the strip).
  const hostMs: number[] = [];
  const stripMs: number[] = [];
  const messageBytes: number[] = [];
  for (let round = 0; round < 6; round++) {
    for (const state of states) {
      const t0 = process.hrtime.bigint();
      const view = promptView(state)!;
      const text = JSON.stringify(notification('prompt', { prompt: view, at: Date.now() }));
      const t1 = process.hrtime.bigint();
      heatSegments(view.prompt, view.tokens, 'verdict', view.weights);
      const t2 = process.hrtime.bigint();
      if (round === 0) continue;
      hostMs.push(Number(t1 - t0) / 1e6);
      stripMs.push(Number(t2 - t1) / 1e6);
      messageBytes.push(Buffer.byteLength(text));
    }
  }
  const at = (xs: number[], q: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  return {
    prompts: prompts.length,
    hostViewAndJsonMs: { p50: round(at(hostMs, 0.5), 4), p95: round(at(hostMs, 0.95), 4) },
    heatStripMs: { p50: round(at(stripMs, 0.5), 4), p95: round(at(stripMs, 0.95), 4) },
    promptMessageBytes: { p50: at(messageBytes, 0.5), max: Math.max(...messageBytes) },
    note: 'per update of the prompt at the cursor, over the example prompts; the host coalesces updates within 40 ms',
  };
}

export async function panelBench(): Promise<Record<string, unknown>> {
  const webview = await bundle();
  const update = await liveUpdate();
  return { webview, liveUpdate: update };
}

if (require.main === module) {
  panelBench().then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: Error) => {
      process.stderr.write(`bench/panel: ${e.message}\n`);
      process.exit(1);
    },
  );
}
