// What the webview keeps through being hidden and restored (VS Code's getState/setState): the tab, the focused word,
// scroll positions, and the last data it showed, so a restored panel paints at once and then refreshes.
import type { BudgetView, CalibrationView, GalleryItemView, Snapshot } from '../../src/shared/panel/protocol';

export const TABS = ['prompt', 'budget', 'gallery', 'calibration'] as const;
export type TabId = (typeof TABS)[number];

export const TAB_LABELS: Record<TabId, string> = {
  prompt: 'Prompt',
  budget: 'Budget',
  gallery: 'Gallery',
  calibration: 'Predictor',
};

export interface UiState {
  v: 1;
  tab: TabId;
  /** Start offset of the word focused in the heat strip, so the same word keeps focus as the prediction refreshes. */
  focusedToken?: number;
  scroll: Partial<Record<TabId, number>>;
  cache: {
    snapshot?: Snapshot;
    budget?: BudgetView;
    gallery?: GalleryItemView[];
    calibration?: CalibrationView;
  };
}

export function defaultUiState(): UiState {
  return { v: 1, tab: 'prompt', scroll: {}, cache: {} };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a saved state defensively: a state from another version, or a damaged one, falls back to the defaults field by
 * field rather than breaking the panel.
 */
export function readUiState(raw: unknown): UiState {
  const state = defaultUiState();
  if (!isObject(raw) || raw.v !== 1) return state;
  if (typeof raw.tab === 'string' && (TABS as readonly string[]).includes(raw.tab)) state.tab = raw.tab as TabId;
  if (Number.isSafeInteger(raw.focusedToken) && (raw.focusedToken as number) >= 0)
    state.focusedToken = raw.focusedToken as number;
  if (isObject(raw.scroll)) {
    for (const tab of TABS) {
      const y = raw.scroll[tab];
      if (typeof y === 'number' && Number.isFinite(y) && y >= 0) state.scroll[tab] = y;
    }
  }
  if (isObject(raw.cache)) {
    const { snapshot, budget, gallery, calibration } = raw.cache;
    if (
      isObject(snapshot) &&
      typeof snapshot.metric === 'string' &&
      typeof snapshot.at === 'number' &&
      snapshot.protocol === 1
    )
      state.cache.snapshot = snapshot as unknown as Snapshot;
    if (isObject(budget) && typeof budget.month === 'string') state.cache.budget = budget as unknown as BudgetView;
    if (Array.isArray(gallery)) state.cache.gallery = gallery.filter(isObject) as unknown as GalleryItemView[];
    if (isObject(calibration) && typeof calibration.modelName === 'string')
      state.cache.calibration = calibration as unknown as CalibrationView;
  }
  return state;
}

/**
 * The first state to show. A webview that VS Code reloads after hiding it gets its original HTML again, so the
 * bootstrap may be older than the copy the webview saved: keep the newer (both are stamped by the host's clock).
 */
export function initialSnapshot(bootstrap: Snapshot | undefined, saved: UiState): Snapshot {
  const cached = saved.cache.snapshot;
  const pick = bootstrap && cached ? (cached.at > bootstrap.at ? cached : bootstrap) : (bootstrap ?? cached);
  return pick ?? { protocol: 1, at: 0, host: 'view', prompt: null, metric: 'verdict' };
}
