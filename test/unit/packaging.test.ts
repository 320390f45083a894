// Packaging decisions that must hold for every .vsix: which platforms get one, which packages each carries, and which
// of their files. Runs on the installed node_modules and package-lock.json, fetching nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleExternals } from '../../scripts/package';
import { runtimeClosure } from '../../scripts/packaging/closure';
import { keepFile, PRUNE_RULES } from '../../scripts/packaging/prune';
import { fitsTarget, parseTarget, supportedTargets } from '../../scripts/packaging/targets';

const ROOT = resolve(__dirname, '..', '..');
const linux = parseTarget('linux-x64');

describe('packaging', () => {
  it('builds for the platforms where both native runtimes ship binaries, glibc Linux included, musl not', () => {
    const names = supportedTargets(ROOT).map((t) => t.name);
    assert.ok(names.includes('linux-x64'), names.join());
    assert.ok(names.length >= 3, names.join());
    assert.ok(
      names.every((n) => !n.startsWith('alpine-')),
      names.join(),
    );
  });

  it('maps vsce target names to npm os/cpu/libc and matches package constraints', () => {
    assert.deepEqual(parseTarget('alpine-arm64'), { name: 'alpine-arm64', os: 'linux', cpu: 'arm64', libc: 'musl' });
    assert.deepEqual(parseTarget('win32-x64'), { name: 'win32-x64', os: 'win32', cpu: 'x64' });
    assert.throws(() => parseTarget('linux-mips'), /unknown target "linux-mips"/);
    assert.equal(fitsTarget({ os: ['linux'], cpu: ['x64'], libc: ['glibc'] }, linux), true);
    assert.equal(fitsTarget({ os: ['linux'], cpu: ['x64'], libc: ['musl'] }, linux), false);
    assert.equal(fitsTarget({ os: ['!win32'] }, linux), true);
    assert.equal(fitsTarget({ os: ['!linux'] }, linux), false);
    assert.equal(fitsTarget({}, parseTarget('darwin-arm64')), true);
  });

  describe('runtime closure', () => {
    const paths = (target: string): string[] =>
      runtimeClosure(ROOT, ['@huggingface/transformers'], parseTarget(target)).map((p) => p.path);

    it("carries the target platform's sharp binaries and no other platform's", () => {
      const l = paths('linux-x64');
      assert.ok(l.includes('node_modules/@img/sharp-linux-x64'));
      assert.ok(l.includes('node_modules/@img/sharp-libvips-linux-x64'));
      assert.ok(l.includes('node_modules/onnxruntime-node'));
      assert.ok(l.includes('node_modules/onnxruntime-common'));
      assert.deepEqual(
        l.filter((p) => /@img\/sharp-(?!.*linux-x64)/.test(p)),
        [],
      );
      const mac = paths('darwin-arm64');
      assert.ok(mac.includes('node_modules/@img/sharp-darwin-arm64'));
      assert.ok(mac.includes('node_modules/@img/sharp-libvips-darwin-arm64'));
      assert.ok(!mac.some((p) => p.includes('linux')));
      // Windows builds of sharp carry libvips inside; there is no separate package.
      const win = paths('win32-x64');
      assert.ok(win.includes('node_modules/@img/sharp-win32-x64'));
      assert.ok(!win.some((p) => p.includes('libvips')));
    });

    it('ships onnxruntime-web as a stub, without the dependencies only it needs', () => {
      const l = paths('linux-x64');
      assert.ok(l.includes('node_modules/onnxruntime-web'));
      assert.ok(!l.includes('node_modules/flatbuffers'));
      assert.ok(!l.includes('node_modules/guid-typescript'));
      assert.ok(!l.some((p) => p.startsWith('node_modules/onnxruntime-web/node_modules/')));
      assert.ok(!l.includes('node_modules/esbuild'), 'a development dependency was shipped');
    });

    it('names a root that is not installed', () => {
      assert.throws(
        () => runtimeClosure(ROOT, ['no-such-package-here'], linux),
        /no-such-package-here \(needed by the extension bundle\) is not in package-lock\.json/,
      );
    });
  });

  it('keeps only the files a platform loads', () => {
    assert.equal(keepFile('onnxruntime-node', 'bin/napi-v6/linux/x64/libonnxruntime.so.1', linux), true);
    assert.equal(keepFile('onnxruntime-node', 'bin/napi-v6/linux/arm64/libonnxruntime.so.1', linux), false);
    assert.equal(keepFile('onnxruntime-node', 'bin/napi-v6/win32/x64/onnxruntime.dll', linux), false);
    assert.equal(keepFile('onnxruntime-node', 'dist/index.js', linux), true);
    assert.equal(keepFile('onnxruntime-node', 'script/install.js', linux), false);
    assert.equal(keepFile('@huggingface/transformers', 'dist/transformers.node.cjs', linux), true);
    assert.equal(keepFile('@huggingface/transformers', 'dist/transformers.web.js', linux), false);
    assert.equal(keepFile('onnxruntime-web', 'package.json', linux), true);
    assert.equal(keepFile('onnxruntime-web', 'dist/ort-wasm-simd-threaded.wasm', linux), false);
    assert.equal(keepFile('yaml', 'dist/index.js.map', linux), false);
    assert.equal(keepFile('yaml', 'dist/index.d.ts', linux), false);
    assert.equal(keepFile('yaml', 'dist/index.js', linux), true);
    for (const [name, rule] of Object.entries(PRUNE_RULES)) assert.ok(rule.why.length > 20, `${name} needs a reason`);
  });

  it('finds the packages a bundle loads at run time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routet2i-dist-'));
    try {
      writeFileSync(
        join(dir, 'extension.js'),
        'require("vscode");require("node:fs");require("path");require("./local");' +
          'import("@huggingface/transformers");require("@img/sharp-x/lib");require(\'sharp\');',
      );
      writeFileSync(join(dir, 'cli.js'), 'require("only-the-cli-uses-this")');
      writeFileSync(join(dir, 'extension.js.map'), 'require("not-code")');
      assert.deepEqual(bundleExternals(dir), ['@huggingface/transformers', '@img/sharp-x', 'sharp']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
