// Two rules of the extension's layout, checked on the sources: the pure modules (unit-tested here) never import
// `vscode`, and the activation bundle (extension.ts and what it imports) never pulls in the engine, the word tagger,
// the backends or the runtime, which load with the core on the first prompt document.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const EXT = join(ROOT, 'src', 'extension');

/** Value imports of a module (type-only imports are erased), resolved to files; bare names as given. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]|^export\s+(type\s+)?\{[^}]*\}\s+from\s+['"]([^'"]+)['"]|^export\s+\*\s+from\s+['"]([^'"]+)['"]/gm)) {
    if (m[1] || m[4]) continue;
    const spec = m[2] ?? m[3] ?? m[5] ?? m[6]!;
    if (!spec.startsWith('.')) {
      out.push(spec);
      continue;
    }
    const base = resolve(dirname(file), spec);
    const found = [`${base}.ts`, join(base, 'index.ts')].find(existsSync);
    if (found) out.push(found);
  }
  return out;
}

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (f.endsWith('.ts')) todo.push(...imports(f));
  }
  return seen;
}

const PURE = ['settings/settings', 'heat/heatScale', 'prompts/regions', 'prompts/analysis', 'predictor/engine', 'language/edits', 'lifecycle/debounce', 'verdict/verdict', 'language/texts', 'generate/generationPlan', 'panel/records', 'calibrate/ledgeredBackend', 'calibrate/calibrationTrain', 'calibrate/trainWorker'];

describe('extension layering', () => {
  for (const name of PURE) {
    it(`${name}.ts does not import vscode`, () => {
      const deps = closure(join(EXT, `${name}.ts`));
      assert.ok(!deps.has('vscode'), `${name}.ts reaches vscode`);
    });
  }

  it('the activation bundle leaves the engine, the backends and the runtime to the core', () => {
    const deps = [...closure(join(EXT, 'extension.ts'))].map((f) => (f.startsWith(ROOT) ? relative(ROOT, f) : f));
    const heavy = deps.filter((d) => /^src\/(router\/(predictor|encoders|inputs|training)|backends\/(registry|dispatcher|ledger|http)|runtime\/)/.test(d) || /^(wink-|yaml|@huggingface|onnxruntime)/.test(d));
    assert.deepEqual(heavy, []);
    assert.ok(!deps.includes('src/extension/lifecycle/core.ts'), 'the core is required at run time, not imported');
  });
});
