// What a user sees in a prompt file: token heat that follows the chosen metric, the hover table, weak words in the
// Problems view with quick fixes that show the predicted change, the CodeLens verdicts and the status bar; then
// generation through a loopback edge server, and an API key that lives in SecretStorage only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startOpenAI } from '../fixtures/servers/openai';
import type { TestServer } from '../support/server';
import {
  clickWord,
  codeLenses,
  colouredWords,
  filesContaining,
  heatOf,
  openQuickFixes,
  ourDiagnostics,
  startEdgeServer,
  state,
  until,
  waitForLenses,
  WORKSPACES,
} from './editorHelpers';
import { useSession } from './harness/session';

const LENS = /^edge \d\.\d\d · cloud \d\.\d\d · (cloud better|edge better|mixed|tie), PRS \d\.\d\d → (edge|cloud)/;

describe('the editor on a prompt file', function () {
  const session = useSession({ label: 'editor', workspace: join(WORKSPACES, 'prompts'), examples: false });
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('colours the words of every prompt, and the colours follow the chosen metric', async () => {
    const s = session();
    await s.workbench.openFile('portraits.t2i');
    await s.probe.waitReady();
    const verdict = await until(
      s,
      (st) => {
        const h = heatOf(st, 'portraits.t2i');
        // Predictions come in time slices: the draw that counts is the one with none still pending.
        return h && h.metric === 'verdict' && h.tokens > 0 && h.pending === 0 && h;
      },
      'heat on portraits.t2i',
    );
    assert.equal(verdict.prompts, 5);
    const words = colouredWords(verdict);
    assert.ok(words.length >= 5, `coloured: ${words.join(', ')}`);
    for (const w of words) assert.match(w, /^[\p{L}\p{N}'’-]+$/u, 'each decoration covers one word');
    // On screen: decorated spans carry the decoration types' classes (the renderer paints a frame after the host draws).
    const spans = s.page.locator('.editor-group-container.active .view-overlays [class*="ced-"]');
    const painted = Date.now() + 10_000;
    while ((await spans.count()) < words.length && Date.now() < painted) await s.page.waitForTimeout(100);
    const classes = await s.page
      .locator('.editor-group-container.active .view-overlays div div')
      .evaluateAll((els) => [...new Set(els.map((e) => e.className))]);
    const decorated = await spans.count();
    assert.ok(decorated >= words.length, `${decorated} decorated spans on screen; classes: ${classes.join(' | ')}`);
    await s.screenshot('heat-verdict');

    await s.workbench.runCommand('RouteT2I: Choose Heat Metric…');
    await s.workbench.pick(/Quality/);
    const quality = await until(
      s,
      (st) => {
        const h = heatOf(st, 'portraits.t2i');
        return h && h.metric === 'quality' && h.pending === 0 && h;
      },
      'heat for the quality metric',
    );
    assert.notDeepEqual(quality.buckets, verdict.buckets, 'another metric colours differently');
    const language = (await state(s)).status!.engine.text;
    assert.match(language, /RouteT2I: default · heat: Quality/);
    await s.screenshot('heat-quality');

    await s.workbench.setTheme('light');
    await s.screenshot('heat-quality-light');
    await s.workbench.setTheme('hc-dark');
    await s.screenshot('heat-quality-high-contrast');
    await s.workbench.setTheme('dark');

    await s.workbench.runCommand('RouteT2I: Toggle Token Heat');
    await until(
      s,
      (st) => !heatOf(st, 'portraits.t2i') && st.settings?.settings.heat!.enabled === false,
      'heat cleared',
    );
    const cleared = Date.now() + 10_000;
    while ((await spans.count()) > 0 && Date.now() < cleared) await s.page.waitForTimeout(100);
    assert.equal(await spans.count(), 0, 'no decoration left on screen');
    await s.workbench.runCommand('RouteT2I: Toggle Token Heat');
    await until(s, (st) => heatOf(st, 'portraits.t2i'), 'heat back');
  });

  it("hovers a word with its impact on every metric, the cloud advantage, and the prompt's verdict", async () => {
    const s = session();
    const text = await s.workbench.hoverAt('portrait');
    // The weak-word diagnostic comes first, then our part.
    // The heat metric is still Quality, chosen above.
    assert.match(text, /\nportrait (strongly |slightly )?lowers the edge's Quality \(heat −\d\.\d\d\)/);
    assert.match(text, /Prompt: edge \d\.\d\d · cloud \d\.\d\d · PRS \d\.\d\d · .* → (edge|cloud)/);
    const rows = (await s.page.locator('.monaco-hover:not(.hidden) table tr').allInnerTexts()).map((r) =>
      r.replace(/\s+/g, ' ').trim(),
    );
    assert.deepEqual(rows[0], 'metric word impact cloud gain edge cloud');
    assert.match(rows[1]!, /^Quality [−+±]?\d\.\d\d [−+±]?\d\.\d\d \d\.\d\d \d\.\d\d$/);
    assert.match(rows[2]!, /^Alignment [−+±]?\d\.\d\d [−+±]?\d\.\d\d \d\.\d\d \d\.\d\d$/);
    await s.screenshot('hover');
    await s.page.mouse.move(1, 1);
  });

  it('lists weak words in the Problems view, and a quick fix shows the predicted change and removes the word', async () => {
    const s = session();
    let weak = await ourDiagnostics(s, 'portraits.t2i');
    for (let i = 0; weak.length === 0 && i < 50; i++) {
      await s.page.waitForTimeout(200);
      weak = await ourDiagnostics(s, 'portraits.t2i');
    }
    assert.ok(weak.length > 0, 'the portraits have weak words');
    for (const d of weak) {
      assert.equal(d.code, 'weak-word');
      assert.equal(d.severity, 'information');
      assert.match(d.message, /^"[^"]+" is a weak word for the edge model: it lowers /);
    }
    const rows = await s.workbench.problems(weak.length);
    assert.ok(
      rows.some((r) => /is a weak word for the edge model/.test(r.text + r.ariaLabel)),
      JSON.stringify(rows),
    );
    await s.screenshot('problems');

    const target = weak[0]!;
    const word = /^"([^"]+)"/.exec(target.message)![1]!;
    const lineBefore = (await s.workbench.editorLines())[target.range.start.line]!;
    const occurrence = countBefore(lineBefore, word, target.range.start.character) + 1;
    await s.page.keyboard.press('Escape');
    await clickWord(
      s.page,
      word,
      occurrenceOnScreen(await s.workbench.editorLines(), target.range.start.line, word, occurrence),
    );
    const title = new RegExp(
      `^Remove "${word}" \\(edge quality \\d\\.\\d\\d → \\d\\.\\d\\d, PRS \\d\\.\\d\\d → \\d\\.\\d\\d\\)`,
    );
    const { items, texts } = await openQuickFixes(s.page, title);
    assert.ok(
      texts.some((t) => new RegExp(`^Ignore "${word}" in this workspace`).test(t)),
      JSON.stringify(texts),
    );
    await s.screenshot('quick-fixes');
    await items.filter({ hasText: title }).first().click();
    const deadline = Date.now() + 10_000;
    let lineAfter = lineBefore;
    while (lineAfter === lineBefore && Date.now() < deadline) {
      await s.page.waitForTimeout(100);
      lineAfter = (await s.workbench.editorLines())[target.range.start.line]!;
    }
    assert.notEqual(lineAfter, lineBefore, 'the quick fix edited the prompt');
    assert.equal(countWord(lineAfter, word), countWord(lineBefore, word) - 1, `"${word}" removed once: ${lineAfter}`);
    assert.doesNotMatch(lineAfter, /,\s*,|^\s*,|,\s*$/, `no stray comma: ${lineAfter}`);
    await s.screenshot('quick-fix-applied');
  });

  it('routes a prompt to the cloud with a "# route: cloud" line, which its CodeLens shows', async () => {
    const s = session();
    await clickWord(s.page, 'windowsill');
    const { items } = await openQuickFixes(s.page, /^Route this prompt to the (cloud|edge) /);
    const route = items.filter({ hasText: /^Route this prompt to the (cloud|edge)/ }).first();
    const side = /to the (cloud|edge)/.exec(await route.innerText())![1]!;
    await route.click();
    const deadline = Date.now() + 10_000;
    while (!(await s.workbench.editorLines()).includes(`# route: ${side}`)) {
      assert.ok(Date.now() < deadline, `no "# route: ${side}" line appeared`);
      await s.page.waitForTimeout(100);
    }
    const lenses = await waitForLenses(s.page, new RegExp(`→ ${side} \\(set in file\\)$`));
    assert.ok(lenses.filter((l) => /\(set in file\)/.test(l)).length === 1, JSON.stringify(lenses));
    await s.screenshot('route-override');
  });

  it('shows a CodeLens verdict and Generate above every prompt, and the verdict at the cursor in the status bar', async () => {
    const s = session();
    const lenses = await waitForLenses(s.page, LENS);
    assert.equal(lenses.filter((l) => LENS.test(l)).length, 5, JSON.stringify(lenses));
    assert.equal(lenses.filter((l) => l === 'Generate').length, 5);
    await clickWord(s.page, 'lighting');
    const item = await s.workbench.statusBarItem(
      /routet2i\.verdict$/,
      /(cloud|edge) · PRS \d\.\d\d · \$0\.00 this month/,
    );
    assert.match(item.text, /(cloud|edge) · PRS \d\.\d\d/);
    const st = await state(s);
    assert.equal(st.status!.visible, true);
    assert.match(st.status!.tooltip, /Route: \*\*(edge|cloud)\*\*/);
    await s.screenshot('codelens-and-status');
  });

  it('generates a prompt through a loopback edge server, saves the image and its sidecar, and opens the image', async () => {
    const s = session();
    const edge = await startEdgeServer();
    servers.push(edge.server);
    await s.workbench.setSetting('routet2i.backends.edge', 'a1111');
    await s.workbench.setSetting('routet2i.backends.settings', { a1111: { url: edge.server.url } });
    await s.workbench.setSetting('routet2i.policy.cloudShare', 0);
    // The settings just changed, so the lenses are drawn again: wait until they show the new settings (at a cloud share
    // of 0 with only an edge backend, every prompt goes to the edge), so the click below meets the new lenses.
    const redrawn = Date.now() + 20_000;
    for (;;) {
      const verdicts = (await codeLenses(s.page)).filter((l) => LENS.test(l));
      if (verdicts.length === 5 && verdicts.every((l) => /→ edge/.test(l))) break;
      assert.ok(Date.now() < redrawn, `the lenses never showed the new settings: ${JSON.stringify(verdicts)}`);
      await s.page.waitForTimeout(100);
    }
    // The CodeLens "Generate" above the first prompt. A click can still land on a lens that VS Code replaces under it
    // (seen once in five runs; VS Code then says "Actual command not found"): click again until the generation has
    // started, as its first log line shows.
    const generate = s.page
      .locator('.editor-group-container.active .codelens-decoration a', { hasText: /^Generate$/ })
      .first();
    for (let attempt = 1; ; attempt++) {
      await generate.click();
      const started = Date.now() + 10_000;
      while (!/p1: planned on the edge/.test(s.logChannelFile() ?? '') && Date.now() < started)
        await s.page.waitForTimeout(100);
      if (/p1: planned on the edge/.test(s.logChannelFile() ?? '') || attempt >= 3) break;
    }
    const toast = await s.workbench.waitForNotification(/RouteT2I: 1 image \(1 edge, 0 cloud\), \$0\.00/, 30_000);
    assert.ok(await toast.isVisible());
    const out = join(s.server.workspace, 'generated');
    const files = readdirSync(out).sort();
    const png = files.find((f) => /^portraits-p1-\d{8}-\d{6}\.png$/.test(f));
    const json = files.find((f) => /^portraits-p1-\d{8}-\d{6}\.json$/.test(f));
    assert.ok(png && json, `generated/ holds ${files.join(', ')}`);
    assert.deepEqual(readFileSync(join(out, png)), edge.png);
    const sidecar = JSON.parse(readFileSync(join(out, json), 'utf8'));
    assert.equal(sidecar.route, 'edge');
    assert.equal(sidecar.backend, 'a1111');
    // As the file holds it now (the quick fix above removed a word).
    const firstPrompt = (await s.workbench.editorLines()).find((l) => /old fisherman/.test(l));
    assert.equal(sidecar.prompt, firstPrompt);
    assert.equal(sidecar.negative, 'blurry, extra fingers');
    assert.deepEqual(sidecar.size, { width: 1024, height: 1024 });
    assert.equal(sidecar.seed, 42);
    assert.ok(sidecar.predicted && typeof sidecar.predicted.prs === 'number');
    assert.equal(sidecar.source.file, 'portraits.t2i');
    const request = edge.server.requests.find((r) => r.path === '/sdapi/v1/txt2img');
    assert.equal(request?.json.prompt, sidecar.prompt);
    // The image opened beside the prompt file.
    await s.page.locator('.tabs-container .tab', { hasText: png }).first().waitFor({ timeout: 10_000 });
    // The screenshot shows the image itself: wait until VS Code's image preview (a webview) has decoded it.
    const shown = Date.now() + 15_000;
    while (!(await imageDecoded(s.page))) {
      assert.ok(Date.now() < shown, `the image preview of ${png} never showed its image`);
      await s.page.waitForTimeout(100);
    }
    await s.screenshot('generated-image');
    const generated = (await state(s)).generated!;
    assert.equal(generated.length, 1);
    assert.equal(generated[0]!.route, 'edge');
    await s.workbench.outputChannel(
      'RouteT2I',
      /p1: edge \(a1111, v1-5-pruned-emaonly\) in [\d.]+ s, \$0\.00 → generated\/portraits-p1-/,
    );
  });

  it('keeps an API key in SecretStorage: the cloud backend gets it, and no setting, log or file holds it', async () => {
    const s = session();
    const key = `sk-e2e-${randomBytes(12).toString('hex')}`;
    const cloud = await startOpenAI({ key });
    servers.push(cloud.server);
    await s.workbench.openFile('portraits.t2i');
    await s.workbench.runCommand('RouteT2I: Set API Key…');
    // The backend pick, then (in the same quick input) the masked key.
    await s.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'OpenAI Images' }).first().click();
    const input = s.page.locator('.quick-input-widget input[type="password"]');
    await input.waitFor({ state: 'visible' });
    await input.fill(key);
    await s.screenshot('api-key-input');
    await s.page.keyboard.press('Enter');
    await s.workbench.waitForNotification(/the OpenAI Images key is stored in VS Code's secret storage/);

    await s.workbench.setSetting('routet2i.backends.cloud', 'openai');
    await s.workbench.setSetting('routet2i.backends.settings', {
      a1111: { url: 'http://127.0.0.1:9' },
      openai: { url: cloud.server.url, model: 'gpt-image-2.6-flare' },
    });
    await s.workbench.setSetting('routet2i.policy.monthlyCap', 5);
    await clickWord(s.page, 'bouquet');
    await s.workbench.runCommand('RouteT2I: Generate on Cloud');
    await s.workbench.waitForNotification(/RouteT2I: 1 image \(0 edge, 1 cloud\), \$0\.\d+/, 30_000);
    const call = cloud.server.requests.find((r) => r.path === '/v1/images/generations');
    assert.equal(call?.headers.authorization, `Bearer ${key}`);
    const ledger = JSON.parse(readFileSync(join(s.server.workspace, '.routet2i', 'ledger.json'), 'utf8'));
    const entries = Object.values(
      ledger.months as Record<string, { entries: Array<{ backend: string; cost: number }> }>,
    ).flatMap((m) => m.entries);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.backend, 'openai');
    assert.ok(entries[0]!.cost > 0);
    await s.workbench.statusBarItem(/routet2i\.verdict$/, /\$0\.0\d+ of \$5\.00 this month/);
    await s.screenshot('cloud-generated');

    // Nowhere but the secret store: not in the settings, not in any log, not in the workspace (sidecars, ledger).
    const leaks = [
      ...filesContaining(join(s.server.userDataDir, 'User'), key).filter((f) => !/secret|state\.vscdb/i.test(f)),
      ...filesContaining(join(s.server.userDataDir, 'logs'), key),
      ...filesContaining(s.server.workspace, key),
      ...s.extensionLogs().filter((f) => readFileSync(f, 'utf8').includes(key)),
    ];
    assert.deepEqual(leaks, []);
    assert.ok(
      !existsSync(join(s.server.workspace, '.vscode', 'settings.json')) ||
        !readFileSync(join(s.server.workspace, '.vscode', 'settings.json'), 'utf8').includes(key),
    );
    assert.match(s.logChannelFile() ?? '', /API key for openai stored in the secret storage \(OPENAI_API_KEY\)/);
    // The key is where VS Code keeps secrets: readable back through the extension's own command path only.
    assert.equal(JSON.stringify(await state(s)).includes(key), false, 'the extension state does not expose it');
  });
});

function countWord(line: string, word: string): number {
  return [
    ...line.matchAll(
      new RegExp(`(?<![\\p{L}\\p{N}])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'gu'),
    ),
  ].length;
}

function countBefore(line: string, word: string, character: number): number {
  return countWord(line.slice(0, character), word);
}

/** Which on-screen occurrence of `word` the `occurrence`-th one on `line` is (the lines above may hold it too). */
function occurrenceOnScreen(lines: string[], line: number, word: string, occurrence: number): number {
  return lines.slice(0, line).reduce((n, l) => n + countWord(l, word), 0) + occurrence;
}

/** Whether a frame of the page (VS Code's image preview is a webview) shows a decoded image. */
async function imageDecoded(page: Page): Promise<boolean> {
  for (const frame of page.frames()) {
    if (frame === page.mainFrame()) continue;
    const decoded = await frame
      .evaluate(() => {
        const img = (
          globalThis as unknown as {
            document: { querySelector(s: string): { complete: boolean; naturalWidth: number } | null };
          }
        ).document.querySelector('img');
        return !!img && img.complete && img.naturalWidth > 0;
      })
      .catch(() => false);
    if (decoded) return true;
  }
  return false;
}
