// The RouteT2I panel in a real VS Code: it renders the prompt at the cursor and follows it, keeps the heat metric in
// sync with the editor, shows the budget, the gallery and the calibration, works from the keyboard, follows the
// theme, and keeps its state when hidden and shown again. Screenshots in dark, light and high-contrast themes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { parsePromptInput } from '../../src/router/inputs';
import { defaultModelDir, Predictor } from '../../src/router/predictor';
import { EXTENSION_ID } from './harness/environment';
import { useSession, type Session } from './harness/session';
import { CASCADE, CHARGES, GENERATED, LAYOUT, OPEN_RESERVATION, writePanelFixtures } from './panel/fixtures';

const PANEL = '[data-testid="routet2i-panel"]';

const PROMPT_FILE = 'examples/portraits.t2i';

/** The heat metric the editor uses, as its core reports it to the test probe. */
async function editorMetric(session: Session): Promise<string> {
  const state = (await session.probe.call('state', {})) as { engine?: { metric: string } };
  assert.ok(state.engine, 'the editor core has not started');
  return state.engine.metric;
}

/** Moves the cursor of the active editor to a 1-based line, as a user does with Go to Line. */
async function goToLine(page: Page, line: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** Puts the cursor on a line of the prompt file in the first editor group (the panel sits in the second). */
async function cursorTo(session: Session, line: number): Promise<void> {
  await session.workbench.runCommand('View: Focus First Editor Group');
  await goToLine(session.page, line);
}

/** The panel's content frame, in the editor tab (kind "panel") or the activity-bar view ("view"). */
async function panelFrame(session: Session, host: 'panel' | 'view'): Promise<Frame> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const frame of session.workbench.webviewFrames(EXTENSION_ID)) {
      const found = await frame
        .locator(`#app[data-host="${host}"] ${PANEL}`)
        .count()
        .catch(() => 0);
      if (found > 0) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no RouteT2I ${host} webview`);
    await session.page.waitForTimeout(200);
  }
}

async function waitFor<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The page's own globals, typed for the callbacks that run there (this project's lib has no DOM). */
type PageGlobals = {
  getComputedStyle(el: unknown): { outlineStyle: string; color: string; getPropertyValue(name: string): string };
};

const stripText = (frame: Frame): Promise<string> => frame.locator('[data-testid="heat-strip"]').innerText();

describe('the RouteT2I panel', function () {
  const session = useSession({
    label: 'panel',
    viewport: { width: 1500, height: 940 },
    settings: { 'routet2i.policy.monthlyCap': LAYOUT.monthlyCap, 'routet2i.policy.cloudShare': LAYOUT.cloudShare },
  });
  let prompts: Array<{ prompt: string; line: number }>;
  let predictor: Predictor;

  before(async function () {
    const s = session();
    await writePanelFixtures(s.server.workspace);
    const text = readFileSync(join(s.server.workspace, PROMPT_FILE), 'utf8');
    const entries = parsePromptInput(text, PROMPT_FILE, 't2i').entries.map((e) => ({
      prompt: e.prompt,
      line: e.source.line + 1,
    }));
    prompts = ['fisherman', 'wooden sign', 'cat sitting'].map((word) => {
      const found = entries.find((e) => e.prompt.includes(word));
      assert.ok(found, `the workspace example has no prompt with "${word}"`);
      return found;
    });
    predictor = await Predictor.load(defaultModelDir());
  });

  it('opens beside the editor and shows what the engine predicts for the prompt at the cursor', async () => {
    const s = session();
    const { workbench, page, probe } = s;
    await workbench.openFile(PROMPT_FILE);
    await probe.waitReady();
    await goToLine(page, prompts[0]!.line);
    await workbench.runCommand('RouteT2I: Open Panel');
    const frame = await panelFrame(s, 'panel');
    // The cursor stays in the editor: the panel opened beside it without taking the focus.
    assert.equal((await probe.call('editor', {}))?.uri.endsWith(`/${PROMPT_FILE}`), true);

    const expected = predictor.predictSync(prompts[0]!.prompt);
    await waitFor(
      () => stripText(frame),
      (t) => t.trim() === prompts[0]!.prompt.trim(),
      'the heat strip',
    );
    // The host learnt the images folder before rendering: asking for the gallery does not reload the webview.
    await frame.locator('vscode-tab-header[data-tab="gallery"]').click();
    await frame.locator('[data-testid="gallery"] img').first().waitFor();
    await frame.locator('vscode-tab-header[data-tab="prompt"]').click();
    assert.equal(frame.isDetached(), false, 'the webview reloaded');
    const bars = frame.locator('[data-testid="metric-bars"] li');
    assert.deepEqual(
      await bars.evaluateAll((els) => els.map((el) => el.getAttribute('data-metric'))),
      predictor.metrics.map((m) => m.id),
    );
    for (const m of predictor.metrics) {
      const spoken =
        (await frame.locator(`[data-testid="metric-bars"] li[data-metric="${m.id}"]`).getAttribute('aria-label')) ?? '';
      assert.match(
        spoken,
        new RegExp(`^${m.label}: edge ${expected.edge[m.id]!.toFixed(2)}, cloud ${expected.cloud[m.id]!.toFixed(2)}`),
      );
    }
    const marker = frame.locator('[data-testid="prs-axis"] .marker');
    assert.equal(Number(await marker.getAttribute('data-prs')).toFixed(2), expected.prs.toFixed(2));
    assert.match(
      (await frame.locator('[data-testid="prs-axis"]').getAttribute('aria-label')) ?? '',
      /0\.5 line.*α \d\.\d\d/,
    );
    const route = await frame.locator('[data-testid="route"]').getAttribute('data-route');
    assert.ok(route === 'edge' || route === 'cloud');
    assert.ok((await frame.locator('[data-testid="pareto"]').innerText()).length > 20);
    // The budget facts (cloud share, money left of the cap) are filled from the ledger.
    await waitFor(
      () => frame.locator('.facts').innerText(),
      (t) => /\$\d+\.\d\d\s+of \$10\.00/.test(t),
      'money left',
    );
    // Every word of the prompt that the engine scored is a heat-strip item with a spoken impact.
    assert.equal(await frame.locator('[data-testid="heat-strip"] [role="listitem"]').count(), expected.tokens.length);
    // Coloured words take the editor's contributed heat colours from the theme.
    const coloured = frame.locator('[data-testid="heat-strip"] [role="listitem"]:not([data-bucket="neutral"])');
    assert.ok((await coloured.count()) > 0, 'no word of the prompt is coloured');
    const fill = await coloured.first().evaluate((el) => {
      const style = (globalThis as unknown as PageGlobals).getComputedStyle(el);
      const bucket = el.getAttribute('data-bucket');
      return {
        background: style.getPropertyValue('background-color'),
        theme: style.getPropertyValue(`--vscode-routet2i-heat.${bucket}.background`).trim(),
      };
    });
    assert.ok(fill.theme, 'the theme has no colour for the heat bucket');
    assert.notEqual(fill.background, 'rgba(0, 0, 0, 0)');
    await s.screenshot('panel-dark');
  });

  it('follows the cursor to another prompt', async () => {
    const s = session();
    const frame = await panelFrame(s, 'panel');
    for (const p of [prompts[2]!, prompts[1]!]) {
      await cursorTo(s, p.line);
      await waitFor(
        () => stripText(frame),
        (t) => t.trim() === p.prompt.trim(),
        `the panel following the cursor to line ${p.line}`,
        5_000,
      );
      const expected = predictor.predictSync(p.prompt);
      assert.equal(
        Number(await frame.locator('[data-testid="prs-axis"] .marker').getAttribute('data-prs')).toFixed(2),
        expected.prs.toFixed(2),
      );
    }
    await s.screenshot('panel-follows-cursor');
  });

  it('keeps the heat metric in sync with the editor, both ways', async () => {
    const s = session();
    const frame = await panelFrame(s, 'panel');
    const strip = frame.locator('[data-testid="heat-strip"]');
    assert.equal(await strip.getAttribute('data-metric'), 'verdict');
    assert.equal(await editorMetric(s), 'verdict');

    // Panel → editor: choose "Quality" in the panel's picker; the editor's heat follows.
    await frame.locator('[data-testid="metric-picker"]').click();
    await frame.getByRole('option', { name: 'Quality' }).click();
    await waitFor(
      () => editorMetric(s),
      (m) => m === 'quality',
      "the editor's heat metric",
    );
    assert.equal(await strip.getAttribute('data-metric'), 'quality');
    // Clicking in the panel took the focus from the editor: the panel still shows the prompt last at the cursor.
    assert.equal((await stripText(frame)).trim(), prompts[1]!.prompt.trim());

    // Editor → panel: "Choose Heat Metric" in the editor picks "Alignment".
    await s.workbench.runCommand('View: Focus First Editor Group');
    await s.workbench.runCommand('RouteT2I: Choose Heat Metric…');
    await s.workbench.pick(/Alignment$/);
    await waitFor(
      () => strip.getAttribute('data-metric'),
      (m) => m === 'alignment',
      "the panel's heat metric",
    );
    await waitFor(
      () => frame.locator('[data-testid="metric-picker"]').evaluate((el) => (el as unknown as { value: string }).value),
      (v) => v === 'alignment',
      'the picker',
    );
    assert.match(await frame.locator('.legend').innerText(), /lowers Alignment[\s\S]*raises Alignment/);
    await s.screenshot('panel-metric-alignment');
  });

  it('is operable from the keyboard: words one by one, tabs by arrows', async () => {
    const s = session();
    const frame = await panelFrame(s, 'panel');
    const words = frame.locator('[data-testid="heat-strip"] [role="listitem"]');
    // One Tab stop for the whole strip.
    assert.equal(await frame.locator('[data-testid="heat-strip"] [role="listitem"][tabindex="0"]').count(), 1);
    await words.first().focus();
    await s.page.keyboard.press('ArrowRight');
    const focused = frame.locator('[data-testid="heat-strip"] [role="listitem"]:focus');
    assert.equal(await focused.getAttribute('data-start'), await words.nth(1).getAttribute('data-start'));
    const label = (await focused.getAttribute('aria-label')) ?? '';
    assert.match(
      label,
      /^\u201c.+\u201d (strongly |slightly )?(raises|lowers|hardly changes) the edge's Alignment \([+\u2212\u00b1]\d\.\d\d\)$/,
    );
    assert.equal((await frame.locator('[data-testid="token-detail"] strong').innerText()).trim(), label);
    // The focus ring is visible.
    const outline = await focused.evaluate(
      (el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).outlineStyle,
    );
    assert.notEqual(outline, 'none');
    await s.screenshot('panel-keyboard-focus');
    await s.page.keyboard.press('End');
    assert.equal(
      await frame.locator('[data-testid="heat-strip"] [role="listitem"]:focus').getAttribute('data-start'),
      await words.last().getAttribute('data-start'),
    );

    // Tabs: a tablist whose headers move with the arrow keys and open with Enter.
    const tabs = frame.getByRole('tab');
    assert.deepEqual(
      (await tabs.allInnerTexts()).map((t) => t.trim()),
      ['Prompt', 'Budget', 'Gallery', 'Predictor'],
    );
    await tabs.first().focus();
    await s.page.keyboard.press('ArrowRight');
    await s.page.keyboard.press('Enter');
    await frame.locator('[data-testid="budget"]').waitFor();
  });

  it("shows this month's budget: cloud share, money against the cap, the latest ledger entries", async () => {
    const s = session();
    const frame = await panelFrame(s, 'panel');
    await frame.locator('vscode-tab-header[data-tab="budget"]').click();
    const spent = CHARGES.reduce((sum, c) => sum + c.cost, 0);
    const money = await waitFor(
      () => frame.locator('[data-testid="money"]').innerText(),
      (t) => t.includes('spent'),
      'the money line',
    );
    assert.match(money, new RegExp(`\\$${spent.toFixed(3)} spent`));
    assert.match(money, new RegExp(`\\+ \\$${OPEN_RESERVATION.estimate.toFixed(2)} reserved`));
    assert.match(money, /of \$10\.00/);
    const rows = frame.locator('[data-testid="ledger"] tbody tr');
    assert.equal(await rows.count(), CHARGES.length);
    // Newest first.
    assert.match(await rows.first().innerText(), new RegExp(CHARGES[CHARGES.length - 1]!.backend));
    const cloud = GENERATED.filter((g) => g.route === 'cloud').length;
    assert.match(
      await frame.locator('[data-testid="budget"]').innerText(),
      new RegExp(`${cloud} cloud, ${GENERATED.length - cloud} edge`),
    );
    assert.equal(
      (await frame.locator('[data-testid="cascade-tally"]').innerText()).replace(/\s+/g, ' ').trim(),
      `Cascade: ${CASCADE.escalated} of ${CASCADE.cascaded} measured edge images redone on the cloud · at most 1 at ρ 30%`,
    );
    const meter = frame.getByRole('meter', { name: 'Money spent this month' });
    assert.equal(Number(await meter.getAttribute('aria-valuemax')), 10);
    await s.screenshot('panel-budget');
  });

  it('shows recent generations, how far predictions were off, and opens an image with its sidecar', async () => {
    const s = session();
    const frame = await panelFrame(s, 'panel');
    await frame.locator('vscode-tab-header[data-tab="gallery"]').click();
    const items = frame.locator('[data-testid="gallery"] > li');
    await waitFor(
      () => items.count(),
      (n) => n === GENERATED.length,
      'gallery items',
      15_000,
    );
    // Newest first, and every thumbnail loaded through the webview's resource roots under the CSP.
    assert.deepEqual(
      await items.evaluateAll((els) => els.map((el) => el.getAttribute('data-id'))),
      [...GENERATED].sort((a, b) => a.minutesAgo - b.minutesAgo).map((g) => g.id),
    );
    await waitFor(
      () =>
        frame
          .locator('[data-testid="gallery"] img')
          .evaluateAll((imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth)),
      (widths) => widths.every((w) => w === 256),
      'thumbnails loaded',
    );
    const fisherman = GENERATED.find((g) => g.id === 'fisherman')!;
    const card = frame.locator('[data-testid="gallery"] > li[data-id="fisherman"]');
    const quality = await card.locator('table.errors tbody tr', { hasText: 'Quality' }).innerText();
    const off = fisherman.measured!.quality! - fisherman.predicted.cloud.quality!;
    assert.match(
      quality,
      new RegExp(
        `${fisherman.predicted.cloud.quality!.toFixed(2)}\\s+${fisherman.measured!.quality!.toFixed(2)}\\s+\\+${off.toFixed(2)}`,
      ),
    );
    assert.match(await card.innerText(), /\$0\.04/);
    assert.match(await frame.locator('[data-testid="gallery"] > li[data-id="fox"]').innerText(), /not measured/);
    await s.screenshot('panel-gallery');

    await card.getByRole('button', { name: 'Open fisherman.png and its sidecar' }).click();
    await s.page.locator('.tabs-container .tab', { hasText: 'fisherman.png' }).first().waitFor({ timeout: 10_000 });
    await s.page.locator('.tabs-container .tab', { hasText: 'fisherman.json' }).first().waitFor({ timeout: 10_000 });
    await s.screenshot('panel-gallery-opened');
  });

  it('shows the predictor, its evaluation against random and oracle, its curve, and starts calibration', async () => {
    const s = session();
    await s.workbench.runCommand('RouteT2I: Open Panel');
    const frame = await panelFrame(s, 'panel');
    await frame.locator('vscode-tab-header[data-tab="calibration"]').click();
    const evaluation = frame.locator('[data-testid="evaluation"]');
    await evaluation.waitFor();
    const model = predictor.file.evaluation as { routers: Record<string, { apgr: number; cpt50: number }> };
    for (const [name, label] of [
      ['routet2i', 'This predictor'],
      ['random', 'Random'],
      ['oracle', 'Oracle'],
    ] as const) {
      const row = await evaluation.locator(`tr[data-router="${name}"]`).innerText();
      assert.match(
        row,
        new RegExp(
          `${label}[\\s\\S]*${model.routers[name]!.apgr.toFixed(2)}[\\s\\S]*${Math.round(model.routers[name]!.cpt50 * 100)}%`,
        ),
      );
    }
    assert.match((await frame.locator('[data-testid="curve"] path.line').getAttribute('d')) ?? '', /^M0 100 L5 /);
    assert.match(
      await frame.locator('[data-testid="calibration"]').innerText(),
      new RegExp(`${predictor.file.training.data.pairs} prompt pairs`),
    );
    await s.screenshot('panel-calibration');

    // The button runs the editor's "Calibrate on My Models", which says what it needs first: two backends.
    await frame.locator('[data-testid="calibrate"]').click();
    const toast = await s.workbench.waitForNotification(
      /calibration renders every prompt on both your edge and your cloud backend/,
    );
    await waitFor(
      () => frame.locator('[data-testid="calibrate"]').innerText(),
      (t) => /Calibrate on my models/.test(t),
      'the button after the run',
    );
    await s.screenshot('panel-calibrate-clicked');
    await toast.hover();
    await toast.locator('.codicon-notifications-clear, .codicon-close').first().click();
    await toast.waitFor({ state: 'hidden' });
  });

  it('follows the theme: light, high contrast, dark', async () => {
    const s = session();
    await s.workbench.runCommand('RouteT2I: Open Panel');
    const frame0 = await panelFrame(s, 'panel');
    await frame0.locator('vscode-tab-header[data-tab="prompt"]').click();
    const colours = async (frame: Frame) =>
      frame.locator('body').evaluate((body) => {
        const style = (globalThis as unknown as PageGlobals).getComputedStyle(body);
        return { cls: body.className, fg: style.color, edge: style.getPropertyValue('--rt-edge').trim() };
      });
    const dark = await colours(frame0);
    assert.match(dark.cls, /vscode-dark/);

    await s.workbench.setTheme('light');
    const light = await waitFor(
      () => colours(frame0),
      (c) => /vscode-light/.test(c.cls),
      'the webview switching to light',
    );
    assert.notEqual(light.fg, dark.fg);
    assert.ok(
      light.edge && light.edge !== dark.edge,
      `the edge colour follows the theme (${dark.edge} → ${light.edge})`,
    );
    await s.screenshot('panel-light');
    await frame0.locator('vscode-tab-header[data-tab="calibration"]').click();
    await frame0.locator('[data-testid="curve"]').waitFor();
    await s.screenshot('panel-light-calibration');
    await frame0.locator('vscode-tab-header[data-tab="gallery"]').click();
    await s.screenshot('panel-light-gallery');
    await frame0.locator('vscode-tab-header[data-tab="prompt"]').click();

    await s.workbench.setTheme('hc-dark');
    await waitFor(
      () => colours(frame0),
      (c) => /vscode-high-contrast/.test(c.cls),
      'the webview switching to high contrast',
    );
    await s.screenshot('panel-high-contrast');
    await s.workbench.setTheme('dark');
    await waitFor(
      () => colours(frame0),
      (c) => /vscode-dark/.test(c.cls) && !/high-contrast/.test(c.cls),
      'the webview back in dark',
    );
  });

  it('keeps its state when hidden and shown again', async () => {
    const s = session();
    let frame = await panelFrame(s, 'panel');
    await frame.locator('vscode-tab-header[data-tab="budget"]').click();
    await frame.locator('[data-testid="budget"]').waitFor();
    // Open another file in the panel's editor group: the panel's webview is hidden (and, not retained, unloaded).
    await s.page.locator('.tabs-container .tab', { hasText: 'RouteT2I' }).first().click();
    await s.workbench.openFile('harness/notes.md');
    await waitFor(
      async () => s.workbench.webviewFrames(EXTENSION_ID).length,
      (n) => n === 0,
      'the panel hidden',
    );
    await s.page.locator('.tabs-container .tab', { hasText: 'RouteT2I' }).first().click();
    frame = await panelFrame(s, 'panel');
    await frame.locator('[data-testid="budget"]').waitFor();
    assert.equal(await frame.locator('vscode-tabs').getAttribute('selected-index'), '1');
    await s.screenshot('panel-restored');
  });

  it('is restored with its state after the window reloads', async () => {
    const s = session();
    let frame = await panelFrame(s, 'panel');
    await frame.locator('vscode-tab-header[data-tab="calibration"]').click();
    await frame.locator('[data-testid="calibration"]').waitFor();
    // The panel saves a tab change at once (not throttled), so the reload can follow straight away. Wait for the new
    // page to load before waiting for the workbench: the old one still shows its workbench until it unloads.
    const reloaded = s.page.waitForEvent('load', { timeout: 60_000 });
    await s.workbench.runCommand('Developer: Reload Window');
    await reloaded;
    await s.workbench.waitReady();
    frame = await panelFrame(s, 'panel');
    await frame.locator('[data-testid="calibration"]').waitFor({ timeout: 20_000 });
    assert.equal(await frame.locator('vscode-tabs').getAttribute('selected-index'), '3');
    await s.screenshot('panel-after-reload');
  });

  it('renders in the activity bar view too, following the cursor', async () => {
    const s = session();
    await s.workbench.runCommand('View: Close All Editor Groups');
    await s.page.locator('.activitybar .action-item a[aria-label^="RouteT2I"]').first().click();
    const frame = await panelFrame(s, 'view');
    await s.workbench.openFile(PROMPT_FILE);
    await goToLine(s.page, prompts[0]!.line);
    await waitFor(
      () => stripText(frame),
      (t) => t.trim() === prompts[0]!.prompt.trim(),
      'the view following the cursor',
    );
    await s.screenshot('view-dark');
    await s.workbench.setTheme('light');
    await waitFor(
      () => frame.locator('body').getAttribute('class'),
      (c) => /vscode-light/.test(c ?? ''),
      'the view in light',
    );
    await s.screenshot('view-light');
    await s.workbench.setTheme('dark');
  });

  it('loads nothing that the content security policy refuses', async () => {
    const s = session();
    const frame = await panelFrame(s, 'view');
    const csp = await frame.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(
      csp ?? '',
      /^default-src 'none'; img-src [^;]+; style-src [^;]+; script-src 'nonce-[A-Za-z0-9+/=]{24}'; base-uri 'none'; form-action 'none'$/,
    );
    // The policy is enforced: an image from anywhere but the extension's resources is refused.
    const violation = await frame.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const doc = (
            globalThis as unknown as {
              document: {
                addEventListener(
                  type: string,
                  listener: (e: { violatedDirective: string }) => void,
                  options?: unknown,
                ): void;
                createElement(t: string): { src: string };
                body: { append(e: unknown): void };
              };
            }
          ).document;
          doc.addEventListener(
            'securitypolicyviolation',
            (e: { violatedDirective: string }) => resolve(e.violatedDirective),
            { once: true },
          );
          const img = doc.createElement('img');
          img.src = 'http://127.0.0.1:9/refused.png';
          doc.body.append(img);
        }),
    );
    assert.equal(violation, 'img-src');
    // And nothing of ours was refused along the way (the refusal above is the only one). The console keeps its order:
    // once the browser has logged that refusal, any earlier one is in the log too.
    const log = await waitFor(
      () => Promise.resolve(readFileSync(join(s.artifactsDir, 'browser-console.log'), 'utf8')),
      (text) => /refused\.png.*Content Security Policy/i.test(text),
      'the browser logging the refused image',
    );
    const refused = log.split('\n').filter((l) => /Content Security Policy/i.test(l) && !/refused\.png/.test(l));
    assert.deepEqual(refused, []);
  });
});
