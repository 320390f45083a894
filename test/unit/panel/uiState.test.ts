import assert from 'node:assert/strict';
import type { Snapshot } from '../../../src/shared/panel/protocol';
import { defaultUiState, initialSnapshot, readUiState } from '../../../webview/lib/uiState';

const snapshot = (at: number, metric = 'verdict'): Snapshot => ({
  protocol: 1,
  at,
  host: 'view',
  prompt: null,
  metric,
});

describe('panel UI state', () => {
  it('restores a saved state', () => {
    const saved = {
      v: 1,
      tab: 'gallery',
      focusedToken: 12,
      scroll: { gallery: 340, prompt: 0 },
      cache: { snapshot: snapshot(5, 'quality'), budget: { month: '2026-11' } },
    };
    const state = readUiState(JSON.parse(JSON.stringify(saved)));
    assert.equal(state.tab, 'gallery');
    assert.equal(state.focusedToken, 12);
    assert.deepEqual(state.scroll, { gallery: 340, prompt: 0 });
    assert.equal(state.cache.snapshot?.metric, 'quality');
    assert.equal(state.cache.budget?.month, '2026-11');
  });

  it('falls back field by field on a damaged or foreign state', () => {
    assert.deepEqual(readUiState(undefined), defaultUiState());
    assert.deepEqual(readUiState({ v: 2, tab: 'budget' }), defaultUiState());
    const state = readUiState({
      v: 1,
      tab: 'settings',
      focusedToken: -3,
      scroll: { budget: 'far', gallery: -1, calibration: 20 },
      cache: { snapshot: { metric: 'q' }, gallery: [1, { id: 'a' }], calibration: [] },
    });
    assert.equal(state.tab, 'prompt');
    assert.equal(state.focusedToken, undefined);
    assert.deepEqual(state.scroll, { calibration: 20 });
    assert.equal(state.cache.snapshot, undefined);
    assert.deepEqual(state.cache.gallery, [{ id: 'a' }]);
    assert.equal(state.cache.calibration, undefined);
  });

  it('starts from the newer of the bootstrap and the saved copy', () => {
    const saved = readUiState({ v: 1, tab: 'prompt', scroll: {}, cache: { snapshot: snapshot(20, 'alignment') } });
    // Reloaded after hiding: the HTML's bootstrap is the one from when the panel opened.
    assert.equal(initialSnapshot(snapshot(10, 'quality'), saved).metric, 'alignment');
    // Rendered afresh (new HTML): the bootstrap is newer.
    assert.equal(initialSnapshot(snapshot(30, 'quality'), saved).metric, 'quality');
    assert.equal(initialSnapshot(undefined, saved).metric, 'alignment');
    assert.equal(initialSnapshot(snapshot(1), defaultUiState()).at, 1);
    assert.deepEqual(initialSnapshot(undefined, defaultUiState()), {
      protocol: 1,
      at: 0,
      host: 'view',
      prompt: null,
      metric: 'verdict',
    });
  });
});
