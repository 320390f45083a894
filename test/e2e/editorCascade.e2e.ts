// Cascade from the editor, one prompt at a time: the packaged extension renders on a loopback edge server, measures the
// image with CLIP (a tiny CLIP model the test writes; onnxruntime loads from the .vsix), escalates to a loopback cloud
// API when it falls short, and keeps the month's cloud share across separate Generate commands through the ledger.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clickWord,
  configureLoopbackModels,
  startEdgeServer,
  state,
  useLoopbackModels,
  waitForLenses,
  WORKSPACES,
} from './editorHelpers';
import { useSession } from './harness/session';

interface Sidecar {
  route: string;
  why: string;
  mode: string;
  measured?: Record<string, number>;
  attempts: Array<{ side: string; role: string; measured?: Record<string, number> }>;
}

describe('cascade generation from the editor', function () {
  const models = useLoopbackModels({ edge: () => [60, 50, 40], cloud: () => [200, 190, 170] });
  const session = useSession({ label: 'editor-cascade', workspace: join(WORKSPACES, 'prompts'), examples: false });

  /** The sidecar written for prompt `id` of portraits.t2i. */
  const sidecarOf = (workspace: string, id: string): Sidecar => {
    const dir = join(workspace, 'generated');
    const name = readdirSync(dir).find((f) => new RegExp(`^portraits-${id}-\\d{8}-\\d{6}\\.json$`).test(f));
    assert.ok(name, `a sidecar for ${id} in generated/ (${readdirSync(dir).join(', ')})`);
    return JSON.parse(readFileSync(join(dir, name), 'utf8')) as Sidecar;
  };

  it("measures each edge image, escalates the first shortfall, and then holds the month's cloud share", async function () {
    this.timeout(180_000);
    const s = session();
    await s.workbench.openFile('portraits.t2i');
    await s.probe.waitReady();
    await configureLoopbackModels(s, models());
    await s.workbench.setSetting('routet2i.policy.mode', 'cascade');
    // Every measured edge image falls short of a bar of 1; a share of 30% lets ⌈0.3·n⌉ of n escalate.
    await s.workbench.setSetting('routet2i.policy.cascadeThreshold', 1);
    await s.workbench.setSetting('routet2i.policy.cloudShare', 0.3);

    // The verdicts say what Generate will do now: the edge first, the cloud if the measured image falls short.
    await s.workbench.openFile('portraits.t2i');
    const lenses = await waitForLenses(s.page, /PRS \d\.\d\d → edge, cloud if short$/);
    assert.equal(lenses.filter((l) => /→ edge, cloud if short$/.test(l)).length, 5, JSON.stringify(lenses));
    await clickWord(s.page, 'fisherman');
    const item = await s.workbench.statusBarItem(/routet2i\.verdict$/, /cascade · PRS \d\.\d\d/);
    assert.match(item.text, /cascade · PRS/);
    assert.match((await state(s)).status!.tooltip, /Route: \*\*edge\*\* — cascade: the edge renders first/);
    await s.screenshot('cascade-verdicts');

    // First prompt: rendered on the edge, measured, escalated (⌈0.3·1⌉ = 1).
    await clickWord(s.page, 'fisherman');
    await s.workbench.runCommand('RouteT2I: Generate Prompt at Cursor');
    await s.workbench.waitForNotification(/RouteT2I: 1 image \(0 edge, 1 cloud\), \$0\.04/, 90_000);
    const first = sidecarOf(s.server.workspace, 'p1');
    assert.equal(first.route, 'cloud');
    assert.equal(first.mode, 'cascade');
    assert.match(first.why, /measured edge quality 0\.\d\d below the threshold 1\.00: escalated to the cloud/);
    assert.deepEqual(
      first.attempts.map((a) => `${a.side}:${a.role}`),
      ['edge:planned', 'cloud:escalation'],
    );
    assert.ok(
      first.attempts[0]!.measured && typeof first.attempts[0]!.measured.alignment === 'number',
      'the edge image was measured',
    );
    assert.ok(first.measured && typeof first.measured.alignment === 'number', 'the cloud image was measured');
    assert.ok(
      readdirSync(join(s.server.workspace, 'generated')).some((f) => /^portraits-p1-.*\.edge\.png$/.test(f)),
      'the replaced edge image is kept',
    );
    assert.equal(models().edge.received.length, 1);
    assert.equal(models().cloud.received.length, 1);
    await s.screenshot('cascade-escalated');

    // Second prompt, a separate command: 1 of 2 escalated already, ⌈0.3·2⌉ = 1, so the edge image stays.
    await s.workbench.openFile('portraits.t2i');
    await clickWord(s.page, 'bouquet');
    await s.workbench.runCommand('RouteT2I: Generate Prompt at Cursor');
    await s.workbench.waitForNotification(/RouteT2I: 1 image \(1 edge, 0 cloud\), \$0\.00/, 90_000);
    const second = sidecarOf(s.server.workspace, 'p2');
    assert.equal(second.route, 'edge');
    assert.match(
      second.why,
      /below the threshold 1\.00, but the cloud share budget is used up \(1 of 2 cascaded prompts this month escalated, share 30%\)/,
    );
    assert.equal(models().cloud.received.length, 1, 'no second cloud call');
    assert.ok(!readdirSync(join(s.server.workspace, 'generated')).some((f) => /^portraits-p2-.*\.edge\.png$/.test(f)));

    // The ledger holds the money and the month's cascade tally, which the CLI reads too.
    const ledger = JSON.parse(readFileSync(join(s.server.workspace, '.routet2i', 'ledger.json'), 'utf8'));
    const months = Object.values(
      ledger.months as Record<
        string,
        { entries: Array<{ backend: string; cost: number }>; cascade?: { cascaded: number; escalated: number } }
      >,
    );
    assert.equal(months.length, 1);
    assert.deepEqual(months[0]!.cascade, { cascaded: 2, escalated: 1 });
    assert.deepEqual(
      months[0]!.entries.map((e) => [e.backend, e.cost]),
      [['openai', 0.04]],
    );
    await s.workbench.outputChannel(
      'RouteT2I',
      /p2: edge \(openai-compatible, [^)]*\) in [\d.]+ s, \$0\.00 → generated\/portraits-p2-/,
    );
    await s.screenshot('cascade-share-held');
  });

  it("renders a file's prompts on the backend its front matter names", async function () {
    this.timeout(120_000);
    const s = session();
    const a1111 = await startEdgeServer();
    try {
      await s.workbench.setSetting('routet2i.policy.mode', 'predict');
      await s.workbench.setSetting('routet2i.policy.cloudShare', 0);
      await s.workbench.setSetting('routet2i.backends.settings', {
        'openai-compatible': { url: models().edge.url },
        openai: { url: models().cloud.url, model: 'gpt-image-2.6-flare', price: 0.04 },
        a1111: { url: a1111.server.url },
      });
      writeFileSync(
        join(s.server.workspace, 'lighthouse.t2i'),
        '---\nbackend: a1111\n---\na lighthouse on a cliff at dawn, oil painting\n',
      );
      await s.probe.call('executeCommand', {
        command: 'vscode.open',
        args: [`file://${join(s.server.workspace, 'lighthouse.t2i')}`],
      });
      await s.page.locator('.tabs-container .tab.active', { hasText: 'lighthouse.t2i' }).waitFor();
      await clickWord(s.page, 'lighthouse');
      const before = models().edge.received.length;
      await s.workbench.runCommand('RouteT2I: Generate Prompt at Cursor');
      // The earlier scenario's "1 image" toast may still show: wait for this prompt's sidecar instead.
      const dir = join(s.server.workspace, 'generated');
      const sidecarName = () => readdirSync(dir).find((f) => /^lighthouse-p1-\d{8}-\d{6}\.json$/.test(f));
      const deadline = Date.now() + 60_000;
      while (!sidecarName() && Date.now() < deadline) await s.page.waitForTimeout(200);
      const name = sidecarName();
      assert.ok(name, `no sidecar for lighthouse.t2i in generated/: ${readdirSync(dir).join(', ')}`);
      assert.equal(JSON.parse(readFileSync(join(dir, name), 'utf8')).backend, 'a1111');
      assert.equal(a1111.server.to('POST', '/sdapi/v1/txt2img').length, 1);
      assert.equal(models().edge.received.length, before, 'the configured edge was not used for this file');
    } finally {
      await a1111.server.close();
    }
  });
});
