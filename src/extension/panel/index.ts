// The RouteT2I panel: what the rest of the extension uses.
export { PANEL_VIEW_ID, PANEL_VIEW_TYPE, registerPanel, type RegisteredPanel } from './register';
