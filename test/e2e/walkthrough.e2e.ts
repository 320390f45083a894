import assert from 'node:assert/strict';
// First use: the walkthrough is listed, its steps show their Markdown, and its button creates a prompt file.
import { pollAsync } from './harness/probe';
import { useSession } from './harness/session';

describe('first-use walkthrough', function () {
  const session = useSession({ label: 'walkthrough' });

  it("opens from Welcome: Open Walkthrough and shows each step's page", async () => {
    const { workbench, page } = session();
    await workbench.runCommand('Welcome: Open Walkthrough...');
    await workbench.pick(/Get started with RouteT2I/);
    const steps = page.locator('.gettingStartedContainer .getting-started-step');
    await steps.first().waitFor();
    const titles = (await steps.locator('.step-title').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(titles, [
      'Write prompts in a .t2i file',
      'Edge or cloud?',
      'Restricted Mode',
      'See what happened',
    ]);
    await steps.filter({ hasText: 'Edge or cloud?' }).click();
    const frame = await workbench.webviewFrame('h1:text("Edge or cloud?")');
    assert.match(await frame.locator('body').innerText(), /Pareto relative superiority/);
    await session().screenshot('edge-or-cloud');
  });

  it('creates a prompt file from the first step, which then counts as done', async () => {
    const { workbench, page, probe } = session();
    const first = page.locator('.gettingStartedContainer .getting-started-step', {
      hasText: 'Write prompts in a .t2i file',
    });
    await first.click();
    await workbench.webviewFrame('h1:text("Prompt files")');
    await first.getByRole('button', { name: 'Create a prompt file' }).click();
    await workbench.languageMode(/T2I Prompt/);
    // The status bar is the renderer's view; the extension host learns of the new editor a moment later, so wait for
    // the host to report the language rather than reading it once (this read raced the host in 2 runs of 5).
    let seen: string | undefined;
    await pollAsync(
      async () => ((seen = (await probe.call('editor', {}))?.languageId) === 't2i-prompt' ? true : undefined),
      15_000,
      () => `the extension host still reports the new editor's language as ${seen ?? 'nothing'}`,
    );
    await session().screenshot('prompt-file-created');
    await page.locator('.tabs-container .tab', { hasText: 'Welcome' }).click();
    await page.waitForFunction(
      () =>
        (globalThis as any).document.querySelector('[data-step-id$="#promptFiles"]')?.getAttribute('aria-checked') ===
        'true',
      undefined,
      { timeout: 10_000 },
    );
    await session().screenshot('first-step-done');
  });
});
