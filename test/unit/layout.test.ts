import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

/**
 * DESIGN.md's import rules, checked on the sources: the faces (extension, cli) → generation → backends, runtime →
 * router, never back (backends never import generation: the clients know nothing of plans, money or outputs).
 */
const SRC = path.resolve(__dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** The top-level area (router, runtime, …) an import lands in, or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.'))
    return spec.startsWith('node:')
      ? spec
      : spec.split('/')[0]!.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : spec.split('/')[0]!;
  const rel = path.relative(SRC, path.resolve(path.dirname(file), spec));
  return `src/${rel.split(path.sep)[0]}`;
}

const ALLOWED: Record<string, string[]> = {
  'src/shared': ['src/shared'],
  'src/router': ['src/router', 'src/shared'],
  'src/runtime': ['src/runtime', 'src/router', 'src/shared'],
  'src/backends': ['src/backends', 'src/router', 'src/shared'],
  'src/generation': ['src/generation', 'src/backends', 'src/runtime', 'src/router', 'src/shared'],
  // `routet2i serve` is the CLI's door to the gateway.
  'src/cli': ['src/cli', 'src/server', 'src/generation', 'src/runtime', 'src/backends', 'src/router', 'src/shared'],
  'src/extension': ['src/extension', 'src/generation', 'src/runtime', 'src/backends', 'src/router', 'src/shared'],
  'src/server': ['src/server', 'src/generation', 'src/runtime', 'src/backends', 'src/router', 'src/shared'],
};
const NODE_BUILTINS = new Set([
  'fs',
  'path',
  'os',
  'crypto',
  'http',
  'https',
  'net',
  'tls',
  'child_process',
  'worker_threads',
  'url',
  'util',
  'stream',
  'buffer',
]);
const NETWORK = new Set([
  'node:http',
  'node:https',
  'http',
  'https',
  'ws',
  'undici',
  'node:net',
  'node:tls',
  'net',
  'tls',
]);

describe('source layout', () => {
  for (const [area, allowed] of Object.entries(ALLOWED)) {
    it(`${area} imports only ${allowed.join(', ')} of ours`, () => {
      const dir = path.resolve(SRC, '..', area);
      if (!existsSync(dir)) return;
      for (const file of files(dir)) {
        for (const spec of imports(file)) {
          const t = target(file, spec);
          const where = `${path.relative(SRC, file)} imports ${spec}`;
          if (t.startsWith('src/')) assert.ok(allowed.includes(t), where);
          if (t === 'vscode') assert.equal(area, 'src/extension', where);
          if (area === 'src/shared')
            assert.ok(
              !t.startsWith('node:') && !NODE_BUILTINS.has(t) && t !== 'vscode',
              `${where}: src/shared is pure (no Node built-ins, no vscode)`,
            );
          if (area === 'src/router') {
            assert.ok(!NETWORK.has(t), `${where}: the engine has no network code`);
            assert.ok(
              !['onnxruntime-node', 'sharp', '@huggingface/transformers'].includes(t),
              `${where}: the engine loads no native modules`,
            );
          }
          if (NETWORK.has(t))
            assert.ok(
              area === 'src/backends' || area === 'src/runtime' || area === 'src/server',
              `${where}: network code lives in src/backends (and the runtime's model download, and the gateway's HTTP server)`,
            );
          if (t === 'pg')
            assert.equal(area, 'src/generation', `${where}: the ledger's database client lives with the ledger`);
        }
      }
    });
  }
});
