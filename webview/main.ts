// The RouteT2I panel's webview: registers the VS Code Elements it uses (each by its own module, so the bundle carries
// only those) and mounts the Svelte app on the bootstrap state.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import { mount } from 'svelte';
import App from './App.svelte';
import './panel.css';

const target = document.getElementById('app');
if (target) {
  mount(App, { target, props: { host: target.dataset.host === 'panel' ? 'panel' : 'view' } });
}
