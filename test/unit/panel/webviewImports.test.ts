import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

/** DESIGN.md: the webview never imports Node modules (nor `vscode`). Checked on everything its bundle pulls in. */
const ROOT = path.resolve(__dirname, '../../..');
const WEBVIEW = path.join(ROOT, 'webview');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|svelte)$/.test(p) && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Value imports only: `import type` is erased from the bundle. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(
      /(?:^|\n)\s*(import|export)\s+(?!type\s)[^'"`;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g,
    ),
  ].map((m) => m[2] ?? m[3]!);
}

function resolveRelative(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [base, `${base}.ts`, path.join(base, 'index.ts')].find((p) => existsSync(p) && statSync(p).isFile());
}

describe('panel webview imports', () => {
  it('reaches no Node module and no vscode, through every file it bundles', () => {
    const seen = new Set<string>();
    const queue = sources(WEBVIEW).filter((f) => !f.endsWith('build.mjs'));
    const problems: string[] = [];
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of valueImports(file)) {
        const where = `${path.relative(ROOT, file)} imports ${spec}`;
        if (spec.startsWith('.')) {
          const next = resolveRelative(file, spec);
          if (!next) problems.push(`${where}: not found`);
          else if (next.endsWith('.ts') || next.endsWith('.svelte')) queue.push(next);
          continue;
        }
        if (spec === 'vscode' || spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!))
          problems.push(where);
      }
    }
    assert.deepEqual(problems, []);
    // It did follow the imports into the shared modules.
    assert.ok([...seen].some((f) => f.endsWith(path.join('src', 'shared', 'panel', 'protocol.ts'))));
    assert.ok([...seen].some((f) => f.endsWith(path.join('src', 'shared', 'presentation.ts'))));
    // The webview takes what it shares with the host from src/shared, never from the extension.
    assert.deepEqual(
      [...seen].filter((f) => f.startsWith(path.join(ROOT, 'src', 'extension'))).map((f) => path.relative(ROOT, f)),
      [],
    );
  });
});
