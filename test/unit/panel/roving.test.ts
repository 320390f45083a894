import assert from 'node:assert/strict';
import { rovingIndex } from '../../../webview/lib/roving';

describe('panel roving focus', () => {
  it('moves along a row and stops at its ends', () => {
    assert.equal(rovingIndex('ArrowRight', 0, 3), 1);
    assert.equal(rovingIndex('ArrowRight', 2, 3), 2);
    assert.equal(rovingIndex('ArrowLeft', 0, 3), 0);
    assert.equal(rovingIndex('ArrowDown', 1, 3), 2);
    assert.equal(rovingIndex('ArrowUp', 1, 3), 0);
    assert.equal(rovingIndex('Home', 2, 3), 0);
    assert.equal(rovingIndex('End', 0, 3), 2);
  });

  it('jumps a row in a grid', () => {
    assert.equal(rovingIndex('ArrowDown', 1, 10, 4), 5);
    assert.equal(rovingIndex('ArrowUp', 5, 10, 4), 1);
    assert.equal(rovingIndex('ArrowDown', 8, 10, 4), 9);
  });

  it('ignores other keys and empty rows, and recovers from a stale index', () => {
    assert.equal(rovingIndex('Enter', 0, 3), undefined);
    assert.equal(rovingIndex('ArrowRight', 0, 0), undefined);
    assert.equal(rovingIndex('ArrowRight', -1, 3), 1);
    assert.equal(rovingIndex('ArrowLeft', 9, 3), 1);
  });
});
