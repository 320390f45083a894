// "Calibrate on My Models" end to end in the real editor: the packaged extension renders a prompt file on a loopback
// edge server and a loopback cloud API, scores every image with CLIP (a tiny CLIP model the test writes; onnxruntime
// loads from the .vsix), trains a predictor on a worker thread, and switches the workspace to it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configureLoopbackModels, heatOf, state, until, useLoopbackModels, WORKSPACES } from './editorHelpers';
import { useSession } from './harness/session';

describe("calibrating on the user's own models", function () {
  const models = useLoopbackModels({
    // Portraits render darker on the edge: something for the predictor to learn.
    edge: (p) => (/portrait|woman|hands/.test(p) ? [60, 50, 40] : [200, 190, 170]),
    cloud: () => [180, 170, 160],
  });
  const session = useSession({ label: 'editor-calibrate', workspace: join(WORKSPACES, 'prompts'), examples: false });

  it('collects pairs, trains a predictor and puts it to use, with every cloud call in the ledger', async function () {
    this.timeout(240_000);
    const s = session();
    await s.workbench.openFile('portraits.t2i');
    await s.probe.waitReady();
    await configureLoopbackModels(s, models());

    await s.workbench.runCommand('RouteT2I: Calibrate on My Models…');
    const dialog = await s.workbench.waitForDialog(/Calibrate on 5 prompts from portraits\.t2i\?/);
    assert.match(
      await dialog.innerText(),
      /rendered on openai-compatible .* and openai \(gpt-image-2\.6-flare\) .* estimated \$0\.20 \(\$5\.00 left this month\)/s,
    );
    await s.screenshot('calibrate-confirm');
    await dialog.getByRole('button', { name: 'Calibrate' }).click();
    await s.workbench.waitForNotification(/the predictor calibrated on 5 of your prompts is now in use/, 180_000);
    await s.screenshot('calibrated');

    const pairsFile = join(
      s.server.workspace,
      '.routet2i',
      'calibration',
      'portraits.openai-compatible-openai.pairs.jsonl',
    );
    const pairs = readFileSync(pairsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(pairs.length, 5);
    assert.equal(Object.keys(pairs[0].edge).length, 11, 'the ten paper metrics and alignment');
    assert.equal(models().edge.received.length, 5);
    assert.equal(models().cloud.received.length, 5);
    assert.ok(existsSync(join(s.server.workspace, '.routet2i', 'models', 'calibrated-portraits', 'model.json')));
    const setting = await s.probe.call('configuration', { key: 'routet2i.model.path' });
    assert.equal(
      (setting.inspect as { workspaceValue?: string }).workspaceValue,
      '.routet2i/models/calibrated-portraits',
    );
    const st = await until(s, (x) => x.engine?.name === 'calibrated-portraits' && x, 'the calibrated predictor in use');
    assert.equal(st.engine!.metrics.length, 11);
    await until(s, (x) => heatOf(x, 'portraits.t2i')?.tokens, 'heat from the calibrated predictor');
    // Five cloud renders at $0.04 (DALL·E 3, 512×512 priced as square), each reserved and settled in the ledger.
    const ledger = JSON.parse(readFileSync(join(s.server.workspace, '.routet2i', 'ledger.json'), 'utf8'));
    const entries = Object.values(
      ledger.months as Record<string, { entries: Array<{ backend: string; cost: number; note?: string }> }>,
    ).flatMap((m) => m.entries);
    assert.equal(entries.length, 5);
    assert.ok(
      entries.every((e) => e.backend === 'openai' && /^calibration \S+/.test(e.note ?? '')),
      JSON.stringify(entries),
    );
    assert.equal(Math.round(entries.reduce((a, e) => a + e.cost, 0) * 100) / 100, 0.2);
    assert.match((await state(s)).status!.engine.text, /RouteT2I: calibrated-portraits/);
    await s.workbench.outputChannel('RouteT2I', /Calibration: predictor "calibrated-portraits" trained on 5 pairs/);
    await s.screenshot('calibrated-log');
  });
});
