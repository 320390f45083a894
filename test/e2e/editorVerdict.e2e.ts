// The verdict the editor shows for a prompt is what "Generate Prompt at Cursor" does with it (issue 11): for an edge
// backend only, a cloud backend only and both, each for a prompt without a `# route:` line and for prompts with one, the
// CodeLens verdict (its title and its tooltip, as a user reads them) is compared with where the image was actually
// rendered — which loopback server received the request, and what the saved sidecar says. One editor session; the
// backends change through the settings between cases, as a user changes them.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { clickWord, configureLoopbackModels, useLoopbackModels, WORKSPACES } from './editorHelpers';
import { useSession } from './harness/session';

/** The prompts of workspaces/verdict/verdict.t2i, in file order, with a word of each to place the cursor on. */
const PROMPTS = [
  { id: 'p1', word: 'cat', route: undefined, text: 'a cat sitting on a windowsill, watercolor' },
  { id: 'p2', word: 'fisherman', route: 'cloud', text: 'portrait of an old fisherman with a weathered face' },
  { id: 'p3', word: 'wooden', route: 'edge', text: 'a wooden sign that says "OPEN ALL NIGHT" above a diner door' },
] as const;

type Side = 'edge' | 'cloud';

interface Lens {
  title: string;
  tooltip: string;
}

/** The verdict CodeLens of each prompt of the active editor, top to bottom (the "uncalibrated" lens is not one). */
async function verdictLenses(page: Page): Promise<Lens[]> {
  const found = await page
    .locator('.editor-group-container.active .monaco-editor .codelens-decoration')
    .evaluateAll((els) =>
      els
        .map((el) => ({
          top: el.getBoundingClientRect().top,
          anchors: [...el.querySelectorAll('a')].map((a) => ({
            title: String(a.textContent ?? '').replace(/\u00a0/g, ' '),
            tooltip: String(a.getAttribute('title') ?? ''),
          })),
        }))
        .sort((a, b) => a.top - b.top),
    );
  return found.flatMap((d) => d.anchors.filter((a) => /PRS \d\.\d\d →/.test(a.title)).slice(0, 1));
}

/** Waits until prompt `index`'s verdict lens matches `title`. */
async function lensOf(page: Page, index: number, title: RegExp, timeoutMs = 20_000): Promise<Lens> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await verdictLenses(page);
    const lens = shown.length === PROMPTS.length ? shown[index] : undefined;
    if (lens && title.test(lens.title)) return lens;
    if (Date.now() > deadline)
      throw new Error(`prompt ${index + 1}'s lens does not match ${title}; shown: ${JSON.stringify(shown)}`);
    await page.waitForTimeout(150);
  }
}

/** Prompt `index`'s PRS as its lens shows it (the prediction, which no setting here changes). */
async function promptPrs(page: Page, index: number): Promise<number> {
  const lens = await lensOf(page, index, /PRS \d\.\d\d/);
  return Number(/PRS (\d\.\d\d)/.exec(lens.title)![1]);
}

/** The sidecars (JSON) in the output folder, by name. */
function sidecars(workspace: string): Set<string> {
  const dir = join(workspace, 'generated');
  return new Set(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : []);
}

/** Numbers aside (α moves with every prompt generated), the same words: the verdict's reason and the plan's. */
const words = (why: string): string => why.replace(/\d+(\.\d+)?%?/g, '#');

describe("the editor's verdict is what Generate Prompt at Cursor does", function () {
  const models = useLoopbackModels({ edge: () => [90, 80, 70], cloud: () => [180, 170, 160] });
  const session = useSession({ label: 'editor-verdict', workspace: join(WORKSPACES, 'verdict'), examples: false });

  it('for an edge backend only, a cloud backend only and both, with and without a "# route:" line', async function () {
    this.timeout(300_000);
    const s = session();
    await s.workbench.openFile('verdict.t2i');
    await s.probe.waitReady();
    await configureLoopbackModels(s, models());
    await s.workbench.setSetting('routet2i.policy.mode', 'predict');

    const cases: Array<{ name: string; edge: boolean; cloud: boolean; cloudShare: number; prompts: number[] }> = [
      { name: 'edge-only', edge: true, cloud: false, cloudShare: 0, prompts: [0, 1, 2] },
      { name: 'cloud-only', edge: false, cloud: true, cloudShare: 0, prompts: [0, 1, 2] },
      { name: 'both', edge: true, cloud: true, cloudShare: 0, prompts: [0, 1, 2] },
      // A share of 100%: the policy itself sends the prompt without a route line to the cloud (unless the edge wins it).
      { name: 'both-share-100', edge: true, cloud: true, cloudShare: 1, prompts: [0] },
    ];
    const rendered: Record<Side, number> = { edge: 0, cloud: 0 };
    for (const c of cases) {
      await s.workbench.setSetting('routet2i.backends.edge', c.edge ? 'openai-compatible' : '');
      await s.workbench.setSetting('routet2i.backends.cloud', c.cloud ? 'openai' : '');
      await s.workbench.setSetting('routet2i.policy.cloudShare', c.cloudShare);
      await s.workbench.openFile('verdict.t2i');
      for (const index of c.prompts) {
        const prompt = PROMPTS[index]!;
        const label = `${c.name}, ${prompt.route ? `# route: ${prompt.route}` : 'no route line'}`;
        // What this case must show, from the backends set (the unit test covers every PRS and mode; here the screen).
        const expected: RegExp = prompt.route
          ? (prompt.route === 'edge' ? c.edge : c.cloud)
            ? new RegExp(`→ ${prompt.route} \\(set in file\\)$`)
            : new RegExp(`→ ${prompt.route} \\(set in file, but no ${prompt.route} backend\\)$`)
          : !c.cloud
            ? /→ edge$/
            : !c.edge
              ? /→ cloud$/
              : c.cloudShare === 0
                ? /→ edge$/
                : // A share of 100% puts α at 0.5: the cloud takes every prompt the edge is not predicted to win.
                  (await promptPrs(s.page, index)) < 0.5
                  ? /→ cloud$/
                  : /→ edge$/;
        const lens = await lensOf(s.page, index, expected);
        const shownSide = /→ (edge|cloud)/.exec(lens.title)![1] as Side;
        const refused = / but no (edge|cloud) backend\)$/.test(lens.title);
        const tooltipWhy = new RegExp(`Route: ${shownSide}, (.*)\\. Click for the panel\\.$`).exec(lens.tooltip)?.[1];
        assert.ok(tooltipWhy, `${label}: the lens's tooltip gives the reason: ${JSON.stringify(lens)}`);
        if (c.cloud && !c.edge && !prompt.route) {
          // The issue's case: the only backend there is renders it, and the verdict says so instead of "→ edge".
          assert.match(tooltipWhy, /^no edge backend configured/, label);
        }

        const before = sidecars(s.server.workspace);
        const calls = { edge: models().edge.received.length, cloud: models().cloud.received.length };
        await s.workbench.runCommand('Notifications: Clear All Notifications');
        await clickWord(s.page, prompt.word);
        await s.workbench.runCommand('RouteT2I: Generate Prompt at Cursor');
        if (refused) {
          await s.workbench.waitForNotification(
            new RegExp(`asks for the ${shownSide}, but no ${shownSide} backend is configured`),
            30_000,
          );
          assert.deepEqual(sidecars(s.server.workspace), before, `${label}: nothing was saved`);
          assert.deepEqual(
            { edge: models().edge.received.length, cloud: models().cloud.received.length },
            calls,
            `${label}: no backend was asked`,
          );
          await s.screenshot(`${c.name}-${prompt.id}-refused`);
          continue;
        }
        // The summary comes after the image, its sidecar and the PRS history are written.
        await s.workbench.waitForNotification(
          new RegExp(`RouteT2I: 1 image \\(${shownSide === 'edge' ? '1 edge, 0 cloud' : '0 edge, 1 cloud'}\\)`),
          60_000,
        );
        const added = [...sidecars(s.server.workspace)].filter((f) => !before.has(f));
        assert.equal(added.length, 1, `${label}: one new sidecar (${added.join(', ')})`);
        assert.match(added[0]!, new RegExp(`^verdict-${prompt.id}-`), label);
        const sidecar = JSON.parse(readFileSync(join(s.server.workspace, 'generated', added[0]!), 'utf8')) as {
          route: Side;
          backend: string;
          plan: { action: string; why: string };
        };
        assert.equal(sidecar.route, shownSide, `${label}: rendered where the verdict said`);
        assert.equal(sidecar.backend, shownSide === 'edge' ? 'openai-compatible' : 'openai', label);
        assert.equal(sidecar.plan.action, shownSide, label);
        assert.equal(words(sidecar.plan.why), words(tooltipWhy), `${label}: planned for the reason the verdict gave`);
        const other: Side = shownSide === 'edge' ? 'cloud' : 'edge';
        assert.equal(models()[shownSide].received.length, calls[shownSide] + 1, `${label}: one ${shownSide} call`);
        assert.equal(models()[other].received.length, calls[other], `${label}: no ${other} call`);
        assert.ok(
          String(models()[shownSide].received.at(-1)!.prompt).includes(prompt.text),
          `${label}: the ${shownSide} server rendered this prompt`,
        );
        rendered[shownSide]++;
        await s.screenshot(`${c.name}-${prompt.id}-${shownSide}`);
      }
    }
    // Both sides were exercised, by the policy and by the route lines alike.
    assert.ok(rendered.edge >= 3 && rendered.cloud >= 3, JSON.stringify(rendered));
  });
});
