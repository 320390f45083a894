// A hostile prompt file in a folder nobody trusted (Restricted Mode still analyses): hundreds of prompts of the kind
// that once froze the extension host (`<a:` followed by letters, far past the 2,000 characters the engine reads).
// The analysis runs in time slices, so a command answers while it is still in progress; each prompt then carries the
// note that it was cut, in the Problems view and on its CodeLens; and the analysis finishes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ourDiagnostics, state, until, waitForLenses } from './editorHelpers';
import { useSession } from './harness/session';

/** Prompts in the file, each about 2,100 characters (cut at 2,000): together a minute or more of analysis here. */
const PROMPTS = 1000;
const HOSTILE = 'hostile.t2i';

function hostileFile(): string {
  // Each prompt differs (its number), so no prediction is shared through the cache; blank lines separate prompts.
  return Array.from({ length: PROMPTS }, (_, i) => `<a:${i}${'abcdefghij'.repeat(210)}`).join('\n\n') + '\n';
}

describe('a hostile prompt file in an untrusted folder', function () {
  const workspace = mkdtempSync(join(tmpdir(), 'routet2i-hostile-'));
  writeFileSync(join(workspace, HOSTILE), hostileFile());
  const session = useSession({
    label: 'editor-hostile',
    workspace,
    trusted: false,
    settings: { 'security.workspace.trust.startupPrompt': 'never' },
  });
  after(() => rmSync(workspace, { recursive: true, force: true }));

  it('answers a command while it analyses the file, then shows that each prompt was cut', async function () {
    // Waiting for the whole analysis on a loaded machine can take minutes; nothing below waits for time.
    this.timeout(600_000);
    const s = session();
    await s.workbench.openFile(HOSTILE);
    await s.probe.waitReady();
    // The extension host answers the probe while prompts still wait for their slice.
    const busy = await until(
      s,
      (st) => {
        const e = st.engine;
        return e && e.status === 'ready' && e.queued > 0 && e;
      },
      'the analysis of the hostile file in progress',
      120_000,
    );
    assert.ok(busy.computed < PROMPTS, `analysis under way (${busy.computed} of ${PROMPTS} predicted)`);

    // A command that must answer at once: the log opens while the analysis is still going on.
    await s.workbench.runCommand('RouteT2I: Show Log');
    await s.page
      .locator('.output-view .monaco-editor .view-lines', { hasText: /activated\s+in/ })
      .waitFor({ state: 'visible', timeout: 30_000 });
    const answered = (await state(s)).engine!;
    assert.ok(
      answered.computed < PROMPTS,
      `the log answered before the analysis ended (${answered.computed} of ${PROMPTS} predicted, ${answered.queued} queued)`,
    );
    await s.screenshot('hostile-log-while-analysing');

    // Every prompt carries its cut note in the Problems view, at once (the engine's bound is known without predicting).
    const deadline = Date.now() + 60_000;
    let notes = (await ourDiagnostics(s, HOSTILE)).filter((d) => d.code === 'prompt-truncated');
    while (notes.length < PROMPTS) {
      assert.ok(Date.now() < deadline, `only ${notes.length} of ${PROMPTS} prompts carry the cut note`);
      await s.page.waitForTimeout(200);
      notes = (await ourDiagnostics(s, HOSTILE)).filter((d) => d.code === 'prompt-truncated');
    }
    assert.match(
      notes[0]!.message,
      /Only part of this prompt is analysed: the prompt is 2,10\d characters, over the 2,000 analysed/,
    );
    assert.equal(notes[0]!.severity, 'information');

    // The CodeLens of a prompt in view says it was cut.
    await s.page.keyboard.press('Escape');
    const lenses = await waitForLenses(s.page, /→ (edge|cloud).* · cut at [\d,]+ characters/, 120_000);
    assert.ok(lenses.some((l) => /cut at/.test(l)));
    await s.screenshot('hostile-cut-note');

    // And the analysis ends: nothing left queued, every prompt predicted once.
    const done = await until(
      s,
      (st) => {
        const e = st.engine;
        return e && e.queued === 0 && e.computed >= PROMPTS && e;
      },
      'the end of the analysis',
      540_000,
    );
    assert.ok(done.computed >= PROMPTS);
  });
});
