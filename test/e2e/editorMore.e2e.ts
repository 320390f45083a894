// Prompts beyond .t2i files (Markdown fenced blocks), the heat's latency on a 200-prompt file in the real editor, and
// Restricted Mode: the workspace's backends, policy and model paths are ignored until the folder is trusted.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { longPromptFile } from '../support/promptFile';
import { clickWord, colouredWords, heatOf, state, until, waitForLenses, WORKSPACES } from './editorHelpers';
import { useSession } from './harness/session';
import { say } from './harness/say';

describe('prompts in Markdown, and a long prompt file', function () {
  const session = useSession({
    label: 'editor-more',
    workspace: join(WORKSPACES, 'prompts'),
    examples: false,
    settings: { 'routet2i.analysis.languages': ['markdown'] },
  });

  it('analyses ```t2i blocks of a Markdown file once RouteT2I runs, and leaves other blocks alone', async () => {
    const s = session();
    await s.workbench.openFile('notes.md');
    await s.page.waitForTimeout(1000);
    assert.equal(s.probe.ready(), undefined, 'a Markdown file alone does not start RouteT2I');
    await s.workbench.runCommand('RouteT2I: Show Log');
    await s.probe.waitReady();
    await s.page.keyboard.press('Escape');
    await s.workbench.openFile('notes.md');
    const heat = await until(
      s,
      (st) => {
        const h = heatOf(st, 'notes.md');
        return h && h.tokens > 0 && h.pending === 0 && h;
      },
      'heat in notes.md',
    );
    assert.equal(heat.prompts, 2);
    const words = colouredWords(heat);
    assert.ok(words.length > 0);
    assert.ok(!words.includes('prompt') && !words.includes('analysed'), 'the js block is not a prompt');
    for (const range of Object.values(heat.buckets).flat())
      assert.ok(range.line >= 4 && range.line <= 7, `heat only inside the t2i block (line ${range.line})`);
    const lenses = await waitForLenses(s.page, /PRS \d\.\d\d → (edge|cloud)/);
    assert.equal(lenses.filter((l) => /PRS/.test(l)).length, 2);
    await s.screenshot('markdown');
  });

  it('falls back from a wrong setting with a warning that names it and opens it', async () => {
    const s = session();
    await s.workbench.setSetting('routet2i.policy.cloudShare', 2);
    const toast = await s.workbench.waitForNotification(
      /Setting "routet2i\.policy\.cloudShare" \(user settings\) must be a number from 0 to 1; got 2\. Using 0\.3 instead\./,
    );
    assert.equal((await state(s)).settings!.settings.policy!.cloudShare, 0.3);
    await s.screenshot('bad-setting');
    await toast.getByRole('button', { name: 'Open Setting' }).click();
    await s.page
      .locator('.settings-editor .setting-item-contents', { hasText: /Cloud Share/ })
      .first()
      .waitFor({ timeout: 15_000 });
    await s.screenshot('bad-setting-opened');
    await s.workbench.setSetting('routet2i.policy.cloudShare', undefined);
    await s.workbench.closeModalEditor().catch(() => undefined);
  });

  it('redraws the heat of a 200-prompt file, the part in view, after each pause in typing', async () => {
    const s = session();
    const file = join(s.server.workspace, 'long.t2i');
    writeFileSync(file, longPromptFile(200));
    // Opened through VS Code's API: quick open may not have indexed a file written a moment ago.
    await s.probe.call('executeCommand', { command: 'vscode.open', args: [`file://${file}`] });
    await s.page.locator('.tabs-container .tab.active', { hasText: 'long.t2i' }).waitFor();
    await until(s, (st) => heatOf(st, 'long.t2i')?.tokens, 'heat in long.t2i');
    // Scroll to the middle of the file and type there, word by word, pausing as people do.
    await s.page.keyboard.press('Control+G');
    await s.page.keyboard.type('420');
    await s.page.keyboard.press('Enter');
    await s.page.keyboard.press('End');
    const times: number[] = [];
    for (const word of [', golden', ' hour', ', mist']) {
      const before = heatOf(await state(s), 'long.t2i')!.at;
      await s.page.keyboard.type(word, { delay: 30 });
      const drawn = await until(
        s,
        (st) => {
          const h = heatOf(st, 'long.t2i');
          return h && h.at > before && h;
        },
        'a redraw after typing',
      );
      times.push(drawn.ms);
    }
    const h = heatOf(await state(s), 'long.t2i')!;
    assert.ok(h.prompts >= 10 && h.prompts < 100, `a screenful of prompts drawn, not the whole file (${h.prompts})`);
    say(
      `heat redraw in the editor after typing, 200-prompt file: ${times.map((t) => t.toFixed(1)).join(', ')} ms (${h.prompts} prompts, ${h.tokens} words in view)`,
    );
    // The times are reported, not asserted: `npm run bench` measures speed (BENCHMARKS.md, "Token heat").
    await s.screenshot('long-file');
  });
});

describe('Restricted Mode in the editor', function () {
  const session = useSession({
    label: 'editor-restricted',
    workspace: join(WORKSPACES, 'untrusted'),
    examples: false,
    trusted: false,
    settings: { 'security.workspace.trust.startupPrompt': 'never' },
  });

  it("analyses with the built-in predictor and ignores the workspace's backends, policy and model path", async () => {
    const s = session();
    await s.workbench.openFile('portraits.t2i');
    await s.probe.waitReady();
    const st = await until(
      s,
      (x) => x.engine?.status === 'ready' && heatOf(x, 'portraits.t2i') && x,
      'heat in Restricted Mode',
    );
    assert.equal(st.extension.restricted, true);
    const settings = st.settings!.settings;
    assert.equal(settings.backends!.edge, null);
    assert.deepEqual(settings.backends!.settings, {});
    assert.equal(settings.model!.path, '');
    assert.equal(settings.policy!.cloudShare, 0.3);
    // A key that is not restricted still comes from the workspace.
    assert.equal(heatOf(st, 'portraits.t2i')!.metric, 'quality');
    assert.match(st.engine!.modelDir, /models\/default$/);
    const log = await s.workbench.outputChannel('RouteT2I', /activated in/);
    assert.match(
      log,
      /Restricted Mode: this workspace is not trusted, so its settings for backends, policy and model paths are ignored/,
    );
    await s.page.keyboard.press('Escape');
    await s.workbench.openFile('portraits.t2i');
    await clickWord(s.page, 'fisherman');
    await s.workbench.runCommand('RouteT2I: Generate Prompt at Cursor');
    const toast = await s.workbench.waitForNotification(/RouteT2I does not generate in Restricted Mode/);
    assert.ok(await toast.getByRole('button', { name: 'Manage Workspace Trust' }).isVisible());
    await s.screenshot('restricted-generate');
  });

  it("applies the workspace's settings once the folder is trusted, and names a bad model path", async () => {
    const s = session();
    await s.workbench.runCommand('Workspaces: Manage Workspace Trust');
    const trust = s.page.getByRole('button', { name: /^Trust$/ }).first();
    await trust.waitFor({ state: 'visible' });
    await trust.click();
    const st = await until(
      s,
      (x) => !x.settings?.restricted && x.engine?.status === 'error' && x,
      'the workspace settings after trust',
    );
    assert.equal(st.settings!.settings.backends!.edge, 'a1111');
    assert.equal(st.settings!.settings.policy!.cloudShare, 0.9);
    assert.match(st.engine!.message!, /Setting "routet2i\.model\.path": the folder .*models\/not-here does not exist/);
    await s.workbench.waitForNotification(/routet2i\.model\.path": the folder .* does not exist/);
    await s.workbench.closeModalEditor();
    await s.workbench.openFile('portraits.t2i');
    await s.screenshot('trusted-bad-model');
    assert.equal((await state(s)).status!.engine.severity, 'error');
  });
});
