// The same facts the code-server suite checks on screen, checked through the VS Code API in a desktop VS Code.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RouteT2IApi } from '../../../src/extension/api';

const EXTENSION_ID = 'routet2i.routet2i';

async function openExample(): Promise<vscode.TextEditor> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the runner opens the example workspace');
  const document = await vscode.workspace.openTextDocument(
    vscode.Uri.joinPath(folder.uri, 'examples', 'portraits.t2i'),
  );
  return vscode.window.showTextDocument(document);
}

describe('RouteT2I in the extension host', () => {
  it('is inactive until a prompt file opens', () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is installed`);
    assert.equal(extension.isActive, false);
  });

  it('activates on a .t2i file, which is in the t2i-prompt language', async () => {
    const editor = await openExample();
    assert.equal(editor.document.languageId, 't2i-prompt');
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    await extension.activate();
    assert.equal(extension.isActive, true);
    // The exported API is read-only: getters of plain data, nothing that changes settings or runs commands.
    const api = extension.exports as RouteT2IApi;
    assert.equal(api.extension().version, extension.packageJSON.version);
    assert.equal(api.extension().restricted, false);
    assert.equal(typeof api.settings().settings.heat.enabled, 'boolean');
  });

  it('contributes its commands, and New Prompt File opens an untitled prompt file', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['routet2i.showLog', 'routet2i.newPromptFile']) assert.ok(commands.includes(id), id);
    await vscode.commands.executeCommand('routet2i.newPromptFile');
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.scheme, 'untitled');
    assert.equal(editor?.document.languageId, 't2i-prompt');
    assert.match(editor?.document.getText() ?? '', /^negative: /m);
  });

  it('comments lines with #', async () => {
    const editor = await openExample();
    const line = editor.document
      .getText()
      .split('\n')
      .findIndex((l) => l.startsWith('negative:'));
    editor.selection = new vscode.Selection(line, 0, line, 0);
    const before = editor.document.lineAt(line).text;
    await vscode.commands.executeCommand('editor.action.commentLine');
    assert.equal(editor.document.lineAt(line).text, `# ${before}`);
    await vscode.commands.executeCommand('undo');
  });
});
