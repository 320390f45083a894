// The extension's layout, checked on the sources. Which modules are pure is read from the imports, not kept in a
// list: a module that does not import `vscode` itself must not reach it through anything it imports (so the unit
// tests can load it, and the webview and the CLI could). The activation bundle (extension.ts and what it imports)
// never pulls in the engine, the word tagger, the backends or the runtime, which load with the core on the first
// prompt document. And no module of ours imports itself back through others.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const SRC = join(ROOT, 'src');
const EXT = join(SRC, 'extension');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Value imports of a module (type-only imports are erased), resolved to files; bare names as given. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /^import\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]|^export\s+(type\s+)?\{[^}]*\}\s+from\s+['"]([^'"]+)['"]|^export\s+\*\s+from\s+['"]([^'"]+)['"]/gm,
  )) {
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

const rel = (f: string): string => relative(ROOT, f);

/** The extension's modules that do not import `vscode` themselves: by their own imports, they promise to be pure. */
const PURE = sources(EXT).filter((f) => !imports(f).includes('vscode'));

describe('extension layering', () => {
  it('finds pure modules in most feature folders (the rule below is not vacuous)', () => {
    const folders = new Set(PURE.map((f) => relative(EXT, dirname(f))));
    assert.ok(folders.size >= 5, `pure modules only in ${[...folders].join(', ')}`);
  });

  for (const file of PURE) {
    it(`${relative(EXT, file)} imports no vscode, and nothing it imports does`, () => {
      const reaching = [...closure(file)].filter((f) => f.endsWith('.ts') && imports(f).includes('vscode')).map(rel);
      assert.deepEqual(reaching, [], `${rel(file)} reaches vscode through ${reaching.join(', ')}`);
    });
  }

  it('the activation bundle leaves the engine, the backends and the runtime to the core', () => {
    const deps = [...closure(join(EXT, 'extension.ts'))].map((f) => (f.startsWith(ROOT) ? rel(f) : f));
    const heavy = deps.filter(
      (d) =>
        /^src\/(router\/(predictor|encoders|inputs|training)|backends\/(registry|http)|generation\/|runtime\/)/.test(
          d,
        ) || /^(wink-|yaml|@huggingface|onnxruntime)/.test(d),
    );
    assert.deepEqual(heavy, []);
    assert.ok(!deps.includes('src/extension/lifecycle/core.ts'), 'the core is required at run time, not imported');
  });

  it('no module of ours imports itself back: no cycles of value imports anywhere, nor of type imports in the extension', () => {
    const all = sources(SRC);
    // A type-only cycle costs nothing at run time but still ties two modules together: refused in the extension.
    const edges = new Map(
      all.map((f) => [f, f.startsWith(EXT) ? allImports(f) : imports(f).filter((i) => i.startsWith(SRC))]),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const g of edges.get(f) ?? []) {
        if (state.get(g) === 'open') cycles.push([...stack.slice(stack.indexOf(g)), g].map(rel).join(' → '));
        else if (!state.has(g)) visit(g);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of all) if (!state.has(f)) visit(f);
    assert.deepEqual(cycles, []);
  });
});

/** Every static import of ours (type-only too: a type cycle still ties two modules together), resolved to files. */
function allImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    const base = resolve(dirname(file), m[1]!);
    const found = [`${base}.ts`, join(base, 'index.ts')].find(existsSync);
    if (found) out.push(found);
  }
  return out;
}
