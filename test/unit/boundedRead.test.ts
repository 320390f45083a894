import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { formatBytes, readFileBounded, readFileBoundedSync, readStreamBounded } from '../../src/router/boundedRead';
import { RouteT2IError } from '../../src/router/errors';
import { readPromptFile } from '../../src/router/inputs';
import { tempDirs } from '../support/tmp';

const tooLarge = (name: RegExp) => (e: unknown) =>
  e instanceof RouteT2IError && e.code === 'input-too-large' && name.test(e.message);

/** A stream that never ends (an endless standard input), recording whether its reader let go of it. */
function endless(): Readable & { pulled: number } {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const s = new Readable({
    read() {
      s.pulled += chunk.length;
      this.push(chunk);
    },
  }) as Readable & { pulled: number };
  s.pulled = 0;
  return s;
}

describe('bounded reads', () => {
  const tmp = tempDirs();

  it('reads a file under its limit whole, sync and async', async () => {
    const file = path.join(tmp(), 'a.txt');
    writeFileSync(file, 'x'.repeat(3 * 1024 * 1024 + 5));
    assert.equal(
      (await readFileBounded(file, { limit: 4 * 1024 * 1024, what: 'prompt file' })).length,
      3 * 1024 * 1024 + 5,
    );
    assert.equal(
      readFileBoundedSync(file, { limit: 4 * 1024 * 1024, what: 'prompt file' }).length,
      3 * 1024 * 1024 + 5,
    );
  });

  it('refuses a regular file over the limit from its size, naming it and the limit', async () => {
    const file = path.join(tmp(), 'big.t2i');
    writeFileSync(file, 'x'.repeat(2048));
    await assert.rejects(
      readFileBounded(file, { limit: 1024, what: 'prompt file', name: 'big.t2i' }),
      (e: Error) => e.message === 'big.t2i: 2 KB is over the 1 KB limit for a prompt file',
    );
    assert.throws(
      () => readFileBoundedSync(file, { limit: 1024, what: 'config file', name: 'big.t2i' }),
      /big\.t2i: 2 KB is over the 1 KB limit for a config file/,
    );
  });

  it('stops reading a link to /dev/zero at the limit', async function () {
    if (!existsSync('/dev/zero')) this.skip();
    const link = path.join(tmp(), 'zero.t2i');
    symlinkSync('/dev/zero', link);
    await assert.rejects(
      readFileBounded(link, { limit: 1024 * 1024, what: 'prompt file', name: 'zero.t2i' }),
      tooLarge(/^zero\.t2i: more than 1 MB, the limit for a prompt file$/),
    );
    assert.throws(
      () => readFileBoundedSync(link, { limit: 1024 * 1024, what: 'pairs file', name: 'zero.t2i' }),
      tooLarge(/more than 1 MB, the limit for a pairs file/),
    );
  });

  it('stops reading an endless stream at the limit and lets go of it', async () => {
    const stdin = endless();
    await assert.rejects(
      readStreamBounded(stdin, { limit: 1024 * 1024, what: 'prompt file' }),
      tooLarge(/^standard input: more than 1 MB/),
    );
    assert.ok(stdin.destroyed, 'the stream is destroyed: nothing more is read');
    assert.ok(stdin.pulled < 2 * 1024 * 1024, `read ${stdin.pulled} bytes`);
  });

  it('makes an endless standard input a prompt-file error, not a full memory', async () => {
    const stdin = endless();
    await assert.rejects(
      readPromptFile('-', { stdin }),
      tooLarge(/^standard input: more than 64 MB, the limit for a prompt file$/),
    );
    assert.ok(stdin.destroyed);
  });

  it('names missing files and folders', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'f'));
    await assert.rejects(
      readFileBounded(path.join(dir, 'nope'), { limit: 10, what: 'image', name: 'nope' }),
      /^RouteT2IError: nope: no such file$/,
    );
    await assert.rejects(
      readFileBounded(path.join(dir, 'f'), { limit: 10, what: 'image', name: 'f' }),
      /f: is a folder, not an image$/,
    );
  });

  it('writes sizes as people read them', () => {
    assert.equal(formatBytes(64 * 1024 * 1024), '64 MB');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(12), '12 bytes');
  });
});
