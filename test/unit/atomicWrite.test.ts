// The one atomic write (src/router/atomicWrite.ts): the new content replaces the old whole, and a failed write leaves
// the old file and no temporary file behind.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicTempName, writeFileAtomic, writeFileAtomicSync } from '../../src/router/atomicWrite';

describe('atomic write', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'routet2i-atomic-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, write] of [
    ['async', writeFileAtomic],
    ['sync', async (f: string, d: string | Uint8Array, o?: { mkdir?: boolean }) => writeFileAtomicSync(f, d, o)],
  ] as const) {
    it(`replaces a file whole and leaves nothing else (${name})`, async () => {
      const file = join(dir, 'state.json');
      writeFileSync(file, 'old');
      await write(file, 'new content');
      assert.equal(readFileSync(file, 'utf8'), 'new content');
      assert.deepEqual(readdirSync(dir), ['state.json']);
    });

    it(`creates the folder only when asked (${name})`, async () => {
      const file = join(dir, 'a', 'b', 'x.bin');
      await assert.rejects(write(file, new Uint8Array([1, 2])), /ENOENT/);
      await write(file, new Uint8Array([1, 2]), { mkdir: true });
      assert.deepEqual([...readFileSync(file)], [1, 2]);
    });

    it(`keeps the old file and removes its temporary file when the rename fails (${name})`, async () => {
      // A folder where the file should be: the rename fails after the temporary file was written.
      const file = join(dir, 'taken');
      mkdirSync(file);
      writeFileSync(join(file, 'inside'), 'kept');
      await assert.rejects(write(file, 'x'));
      assert.deepEqual(readdirSync(dir), ['taken']);
      assert.equal(readFileSync(join(file, 'inside'), 'utf8'), 'kept');
    });
  }

  it('names temporary files beside the target, hidden and distinct', () => {
    const a = atomicTempName('/x/y/ledger.json');
    assert.match(a, /^\/x\/y\/\.ledger\.json\.\d+\.[0-9a-f]{8}\.tmp$/);
    assert.notEqual(a, atomicTempName('/x/y/ledger.json'));
  });
});
