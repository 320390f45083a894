import { strict as assert } from 'node:assert';
import { BackendError } from '../../src/backends/errors';

/** Awaits a rejection with a BackendError of `code` (and a message matching `pattern`). */
export async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<BackendError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BackendError, `expected a BackendError, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected a rejection');
}
