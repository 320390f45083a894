// The prompt the panel shows, and the heat scale it buckets words with, as the editor has them.
import * as vscode from 'vscode';
import type { ActivePromptState, PanelServices } from './services';

/**
 * The prompt the panels show. The core reports none while no text editor is active, which is the case as soon as the
 * user clicks into the panel: the panel keeps showing the last prompt then, as long as its document is open.
 */
export class ActivePrompt {
  private last: ActivePromptState | undefined;

  constructor(private readonly services: PanelServices) {}

  current(): ActivePromptState | undefined {
    const state = this.services.getActivePrompt();
    if (state) return (this.last = state);
    const kept = this.last;
    if (
      !vscode.window.activeTextEditor &&
      kept &&
      vscode.workspace.textDocuments.some((d) => d.uri.toString() === kept.uri)
    )
      return kept;
    return (this.last = undefined);
  }
}

/** `routet2i.heat.scale`, read as the editor reads it (0.05 to 20, else 1), so the strip buckets as the editor does. */
export function heatScale(): number {
  const value = vscode.workspace.getConfiguration('routet2i').get<unknown>('heat.scale');
  return typeof value === 'number' && Number.isFinite(value) && value >= 0.05 && value <= 20 ? value : 1;
}
