// The RouteT2I panel: what the rest of the extension uses.
export { PANEL_COMMANDS, PANEL_VIEW_ID, PANEL_VIEW_TYPE, registerPanel } from './register';
