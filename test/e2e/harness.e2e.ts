// The harness's helpers against the real editor, on built-in features (JSON diagnostics, the Markdown preview, the
// formatter notification), so that a broken helper fails here rather than in a feature's scenario.
import assert from 'node:assert/strict';
import { useSession } from './harness/session';

describe('harness helpers', function () {
  const session = useSession({ label: 'harness' });

  it('reads problems from the Problems view, matching the diagnostics the extension host has', async () => {
    const { workbench, probe } = session();
    await workbench.openFile('examples/portraits.t2i');
    await probe.waitReady();
    await workbench.openFile('harness/broken.json');
    assert.equal(await workbench.languageMode(/JSON/), 'JSON');
    const rows = await workbench.problems(2);
    const problem = rows.find((r) => /Expected comma/i.test(r.ariaLabel + r.text));
    assert.ok(problem, `no "Expected comma" row in ${JSON.stringify(rows)}`);
    const diagnostics = await probe.call('diagnostics', {});
    const fromHost = diagnostics.find((d) => d.uri.endsWith('/harness/broken.json'));
    assert.ok(fromHost, `the extension host has no diagnostics for broken.json: ${JSON.stringify(diagnostics)}`);
    assert.equal(fromHost.severity, 'error');
    assert.equal(fromHost.range.start.line, 3);
    await session().screenshot('problems');
  });

  it('opens the file at the path it is given when several files share its name', async () => {
    const { workbench, probe } = session();
    await workbench.openFile('harness/portraits.t2i');
    assert.match((await probe.call('editor', {}))?.uri ?? '', /\/harness\/portraits\.t2i$/);
    await workbench.openFile('examples/portraits.t2i');
    assert.match((await probe.call('editor', {}))?.uri ?? '', /\/examples\/portraits\.t2i$/);
    await workbench.openFile('harness/broken.json');
  });

  it('hovers a word and reads the hover', async () => {
    const { workbench } = session();
    const text = await workbench.hoverAt('"steps"');
    assert.match(text, /Expected comma/i);
    await session().screenshot('hover');
  });

  it('runs a palette command and waits for the notification it raises', async () => {
    const { workbench, page } = session();
    await page.mouse.move(1, 1);
    await workbench.openFile('examples/portraits.t2i');
    // The built-in merge-conflict extension warns when there is no conflict to go to.
    await workbench.runCommand('Merge Conflict: Next Conflict');
    const toast = await workbench.waitForNotification(/No merge conflicts found in this file/);
    assert.ok(await toast.isVisible());
    await session().screenshot('notification');
    await toast.hover();
    await toast.locator('.codicon-notifications-clear, .codicon-close').first().click();
    await toast.waitFor({ state: 'hidden' });
  });

  it('finds a webview by its extension and reads its content', async () => {
    const { workbench } = session();
    await workbench.openFile('harness/notes.md');
    await workbench.runCommand('Markdown: Open Preview');
    const frame = await workbench.webviewFrame('h1', { extensionId: 'vscode.markdown-language-features' });
    assert.equal((await frame.locator('h1').innerText()).trim(), 'Harness notes');
    assert.equal(workbench.webviewFrames('routet2i.routet2i').length, 0);
    await session().screenshot('webview');
  });

  it('sets a user setting, which VS Code writes into the profile and the extension host sees', async () => {
    const { workbench, probe } = session();
    await workbench.openFile('examples/portraits.t2i');
    await workbench.setSetting('editor.fontSize', 17);
    assert.equal(workbench.userSettings()['editor.fontSize'], 17);
    assert.equal((await probe.call('configuration', { key: 'editor.fontSize' })).value, 17);
    const fontSize = await workbench.activeEditor().locator('.view-line').first().evaluate(computedFontSize);
    assert.equal(fontSize, '17px');
    await workbench.setSetting('editor.fontSize', undefined);
    assert.equal('editor.fontSize' in workbench.userSettings(), false);
    assert.notEqual((await probe.call('configuration', { key: 'editor.fontSize' })).value, 17);
  });

  it('switches the colour theme', async () => {
    const { workbench } = session();
    assert.equal(await workbench.themeKind(), 'dark');
    await workbench.setTheme('light');
    await session().screenshot('theme-light');
    assert.equal(await workbench.toggleTheme(), 'dark');
    await workbench.setTheme('hc-dark');
    await session().screenshot('theme-high-contrast');
    await workbench.setTheme('dark');
  });
});

/** Runs in the page (passed to evaluate whole, so it must not call anything of this file). */
function computedFontSize(el: unknown): string {
  const view = (globalThis as { getComputedStyle?: (e: unknown) => { fontSize: string } }).getComputedStyle!;
  return view(el).fontSize;
}
