// Which documents RouteT2I analyses (prompt files always; Markdown and plain text where `routet2i.analysis.languages`
// says) and their prompts, parsed once per document version and forgotten when the document closes.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Config } from '../settings/config';
import { DocumentPrompts, type DocumentSource } from './promptCache';
import { kindOfLanguage, promptAt, type DocKind, type DocPrompt, type DocPrompts } from './regions';

export class AnalysedDocuments implements vscode.Disposable {
  readonly docs = new DocumentPrompts();
  private readonly disposables: vscode.Disposable[] = [];
  /** Per open document, aborted when its text changes or it closes: work queued for an older version is dropped. */
  private readonly versions = new Map<string, { version: number; controller: AbortController }>();

  constructor(private readonly config: Config) {
    this.disposables.push(
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.docs.forget(d.uri.toString());
        this.supersede(d.uri.toString());
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        // A feature that already asked for the new version's signal keeps it.
        const key = e.document.uri.toString();
        if (e.contentChanges.length && this.versions.get(key)?.version !== e.document.version) this.supersede(key);
      }),
    );
  }

  /** Aborted when the document's current version is superseded (an edit) or it closes. */
  signal(doc: vscode.TextDocument): AbortSignal {
    const key = doc.uri.toString();
    const current = this.versions.get(key);
    if (current && current.version === doc.version) return current.controller.signal;
    current?.controller.abort();
    const controller = new AbortController();
    this.versions.set(key, { version: doc.version, controller });
    return controller.signal;
  }

  private supersede(key: string): void {
    this.versions.get(key)?.controller.abort();
    this.versions.delete(key);
  }

  kind(doc: vscode.TextDocument): DocKind | undefined {
    const kind = kindOfLanguage(doc.languageId);
    if (kind === 't2i') return kind;
    if (kind && (this.config.settings.analysis.languages as string[]).includes(kind)) return kind;
    return undefined;
  }

  isAnalysed(doc: vscode.TextDocument): boolean {
    return this.kind(doc) !== undefined;
  }

  source(doc: vscode.TextDocument, kind: DocKind): DocumentSource {
    return {
      key: doc.uri.toString(),
      version: doc.version,
      kind,
      name: path.basename(doc.uri.path) || doc.uri.toString(),
      getText: () => doc.getText(),
    };
  }

  /** The prompts of an analysed document (undefined for others). */
  prompts(doc: vscode.TextDocument): DocPrompts | undefined {
    const kind = this.kind(doc);
    return kind ? this.docs.of(this.source(doc, kind)) : undefined;
  }

  promptAt(doc: vscode.TextDocument, position: vscode.Position): DocPrompt | undefined {
    const found = this.prompts(doc);
    return found && promptAt(found.prompts, doc.offsetAt(position));
  }

  dispose(): void {
    for (const key of [...this.versions.keys()]) this.supersede(key);
    for (const d of this.disposables) d.dispose();
  }
}
