// The webview's side of VS Code: the typed protocol client on postMessage, the bootstrap state, and getState/setState.
import { BOOTSTRAP_ID, RpcClient, type Snapshot } from '../src/shared/panel/protocol';
import { readUiState, type UiState } from './lib/uiState';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export const rpc = new RpcClient({
  post: (message) => api.postMessage(message),
  // Reading sidecars and model files may take longer than a snapshot.
  timeouts: { gallery: 20_000, calibration: 20_000, openImage: 20_000 },
});

window.addEventListener('message', (event: MessageEvent) => {
  rpc.receive(event.data);
});
window.addEventListener('unload', () => rpc.dispose());

export function readBootstrap(): Snapshot | undefined {
  const text = document.getElementById(BOOTSTRAP_ID)?.textContent;
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Snapshot;
  } catch {
    return undefined;
  }
}

export function loadUiState(): UiState {
  return readUiState(api.getState());
}

let pending: UiState | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

/** Saves the state, at most every 200 ms (scrolling and live updates call this often); `flush` writes at once. */
export function saveUiState(state: UiState, flush = false): void {
  pending = state;
  if (flush) {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    api.setState(pending);
    return;
  }
  if (timer !== undefined) return;
  timer = setTimeout(() => {
    timer = undefined;
    if (pending) api.setState(pending);
  }, 200);
}
