// What of each shipped package a .vsix carries. A package not named here ships whole, minus source maps and type
// declarations. Each rule says why its files are not needed at run time.
import type { Target } from './targets';

export interface PruneRule {
  why: string;
  /**
   * Ship only the package's manifest (without its dependencies) and licence: it is never loaded, but what depends on
   * it declares it, and vsce's `npm list` wants a complete tree. Its own dependencies are then not shipped either.
   */
  stub?: true;
  /** `file` is relative to the package folder, with forward slashes. */
  keep?(file: string, target: Target): boolean;
}

export const PRUNE_RULES: Record<string, PruneRule> = {
  'onnxruntime-node': {
    why: "only the target platform's binaries; the install scripts (CUDA download) and TypeScript sources never run",
    keep(file, target) {
      const binary = /^bin\/napi-v\d+\/([^/]+)\/([^/]+)\//.exec(file);
      if (binary) return binary[1] === target.os && binary[2] === target.cpu;
      return !file.startsWith('script/') && !file.startsWith('lib/');
    },
  },
  'onnxruntime-web': {
    why:
      "@huggingface/transformers' Node build bundles the part of onnxruntime-web it uses (and fetches WebAssembly " +
      'from a CDN, which the extension never asks for)',
    stub: true,
  },
  '@huggingface/transformers': {
    why: 'Node loads dist/transformers.node.{cjs,mjs} (its "exports" for node); the browser builds and sources are unused',
    keep: (file) =>
      ['package.json', 'LICENSE', 'dist/transformers.node.cjs', 'dist/transformers.node.mjs'].includes(file),
  },
  sharp: {
    why: 'C++ sources and install scripts only serve building sharp from source',
    keep: (file) => !file.startsWith('src/') && !file.startsWith('install/'),
  },
};

const NEVER_SHIPPED = /(\.map|\.d\.[cm]?ts|\.tsbuildinfo)$/;

export function keepFile(packageName: string, file: string, target: Target): boolean {
  if (NEVER_SHIPPED.test(file)) return false;
  const rule = PRUNE_RULES[packageName];
  if (rule?.stub) return file === 'package.json' || file === 'LICENSE';
  return rule?.keep ? rule.keep(file, target) : true;
}

export function isStub(packageName: string): boolean {
  return PRUNE_RULES[packageName]?.stub === true;
}
