import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

describe('lazy model runtime', () => {
  it('loading the CLI, its command table and the runtime index loads neither transformers.js nor onnxruntime', function () {
    this.timeout(30_000);
    const root = path.resolve(__dirname, '../..');
    const script = `
      require('./src/cli/main.ts');
      require('./src/cli/encoders.ts');
      require('./src/runtime/index.ts');
      const loaded = Object.keys(require.cache).filter((f) => /node_modules[\\/](@huggingface[\\/]transformers|onnxruntime-(node|web|common)|sharp)[\\/]/.test(f));
      process.stdout.write(JSON.stringify(loaded));
    `;
    const out = execFileSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), []);
  });
});
