// No test code in the product: the end-to-end suite's probe (a folder of request files, a command executor and a
// settings writer) lives in the companion test extension under test/e2e/companion, which reads RouteT2I through its
// exported, read-only API (src/extension/api.ts). Checked on the sources and, where they are built, on the bundles.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mjs|js|svelte)$/.test(p) ? [p] : [];
  });
}

/** What only a test probe would hold, with why each is not the product's business. */
const FORBIDDEN: Array<[RegExp, string]> = [
  [/ROUTET2I_E2E/, 'reads an end-to-end environment variable'],
  [/\bfileRpc\b|serveFileRpc/, 'serves requests from files'],
  [/updateConfiguration/, 'changes settings on request'],
  [/\bexecuteCommand\s*:/, 'offers "executeCommand" as a request method'],
  [/executeCommand\(\s*(command|request|params|method)\b/, 'runs a command named by a request'],
  [/\bTestProbe\b|probe\.provide/, 'keeps test hooks'],
];

describe('no test code in the product', () => {
  it('src/ holds no probe folder and no test hook', () => {
    assert.ok(!existsSync(join(SRC, 'extension', 'probe')), 'src/extension/probe is back');
    const files = sources(SRC);
    assert.ok(files.length > 50, `found only ${files.length} sources under src/`);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const [pattern, why] of FORBIDDEN)
        assert.doesNotMatch(text, pattern, `${relative(ROOT, file)} ${why}: that belongs in test/e2e/companion`);
    }
  });

  it('the companion test extension holds what left the product', () => {
    // The other side of the check above: if the companion lost these, the patterns would have nothing left to guard.
    const companion = readFileSync(join(ROOT, 'test', 'e2e', 'companion', 'extension.ts'), 'utf8');
    assert.match(companion, /updateConfiguration/);
    assert.match(companion, /\bexecuteCommand\s*:/);
    assert.match(companion, /getExtension<RouteT2IApi>/);
  });

  it('the built bundles carry none of it (when built)', function () {
    const bundles = ['extension.js', 'core.js'].map((f) => join(ROOT, 'dist', f)).filter(existsSync);
    if (bundles.length === 0) this.skip();
    for (const file of bundles) {
      const text = readFileSync(file, 'utf8');
      // Names that survive minification: an environment variable, a method name, the protocol's file names.
      for (const needle of ['ROUTET2I_E2E', 'updateConfiguration', 'ready.json', 'unknown probe method', 'req-(['])
        assert.ok(!text.includes(needle), `${relative(ROOT, file)} contains "${needle}"`);
    }
  });
});
