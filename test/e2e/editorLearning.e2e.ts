// Calibration that learns from work, in the real editor: a calibration run adds its measurements to the workspace's
// pairs log; with enough prompts for the promotion rule's folds, the predictor trained on them is a candidate like any
// background retrain: compared with the predictor in use on the same folds, and since it routes this pair better by the
// margin, it takes over by itself and the editor says so (one rule, one order: no second predictor trained on the same
// pairs races it). A cascade that escalates measured one prompt before, and Compare on Both renders another on both
// sides with one seed afterwards: their lines in the log gain a measurement instead of a duplicate.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clickWord, configureLoopbackModels, useLoopbackModels, WORKSPACES } from './editorHelpers';
import { useSession, type Session } from './harness/session';

const SUBJECTS = [
  'portrait of a woman',
  'portrait of an old man',
  'close-up of hands',
  'portrait of a child',
  'a woman laughing',
  'portrait of a sailor',
];
const SCENES = [
  'a red barn in a field',
  'a lighthouse at dusk',
  'a bowl of lemons',
  'a mountain lake',
  'a city street at noon',
  'a sailing boat',
];
const STYLES = ['photo', 'oil painting'];
const prompts = [...SUBJECTS, ...SCENES].flatMap((p) => STYLES.map((s) => `${p}, ${s}`));

/** Waits for a line of the RouteT2I output channel as VS Code writes it to disk (the Output view may be covered). */
async function logLine(s: Session, line: RegExp, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!line.test(s.logChannelFile() ?? '')) {
    if (Date.now() > deadline) throw new Error(`the RouteT2I log has no line matching ${line}`);
    await s.page.waitForTimeout(200);
  }
}

describe('calibration that learns from work', function () {
  // While the cascade step runs, the edge renders the green that the test's tiny CLIP finds unaligned with a portrait
  // prompt (alignment 0), so the measured edge image falls short of any threshold and the cascade escalates.
  let cascadeStep = false;
  const models = useLoopbackModels({
    // The edge renders people badly, everything else as well as the cloud: a pair with something to learn. (Colours the
    // test's tiny CLIP scores far apart: about 0.28 for the red, 0.66 for the green on the mean of the metrics.)
    edge: (p) => (!cascadeStep && /portrait|woman|hands|man|child/.test(p) ? [200, 30, 30] : [30, 200, 30]),
    cloud: () => [30, 200, 30],
  });
  const session = useSession({ label: 'editor-learning', workspace: join(WORKSPACES, 'learning'), examples: false });

  it('grows the pairs log from a cascade escalation, calibration and Compare on Both, and a better predictor takes over by itself', async function () {
    this.timeout(600_000);
    const s = session();
    // test/e2e/workspaces/learning/learning.t2i holds exactly these prompts.
    assert.equal(readFileSync(join(s.server.workspace, 'learning.t2i'), 'utf8'), prompts.join('\n\n') + '\n');
    await s.workbench.openFile('learning.t2i');
    await s.probe.waitReady();
    await configureLoopbackModels(s, models());
    await s.workbench.setSetting('routet2i.learning.retrainEvery', prompts.length);

    const logFile = join(s.server.workspace, '.routet2i', 'pairs.jsonl');
    const readLog = () =>
      readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));

    // A cascade that escalates measures both sides: the prompt's first measurement enters the log. The second prompt
    // ("portrait of a woman, oil painting"), on screen without scrolling.
    await s.workbench.setSetting('routet2i.policy.mode', 'cascade');
    await s.workbench.setSetting('routet2i.policy.cascadeThreshold', 1);
    await s.workbench.setSetting('routet2i.policy.cloudShare', 1);
    cascadeStep = true;
    await clickWord(s.page, 'painting');
    await s.workbench.runCommand('RouteT2I: Generate Prompt at Cursor');
    await logLine(s, /Pairs log: 1 measurement of .* from cascade/);
    cascadeStep = false;
    const escalated = readLog();
    assert.equal(escalated.length, 1, JSON.stringify(escalated));
    assert.equal(escalated[0].prompt, prompts[1]);
    assert.deepEqual(escalated[0].via, ['cascade']);
    await s.screenshot('cascade-escalation-measured');
    await s.workbench.setSetting('routet2i.policy.mode', 'predict');
    await s.workbench.setSetting('routet2i.policy.cloudShare', 0.3);
    await s.probe.call('executeCommand', { command: 'workbench.action.closeAllGroups', args: [] });
    await s.workbench.openFile('learning.t2i');
    // Back to the first prompt (the editor restores the cursor where the cascade left it), for Compare on Both below.
    await s.page.keyboard.press('Control+Home');

    await s.workbench.runCommand('RouteT2I: Calibrate on My Models…');
    const dialog = await s.workbench.waitForDialog(
      new RegExp(`Calibrate on ${prompts.length} prompts from learning\\.t2i\\?`),
      60_000,
    );
    await dialog.getByRole('button', { name: 'Calibrate' }).click();
    await s.workbench.waitForNotification(
      new RegExp(`a predictor retrained on ${prompts.length} of your prompts now routes this workspace`),
      480_000,
    );
    await s.screenshot('learning-switched');

    // Calibration measured every prompt once. The cascade's measurement keeps its own line: it was scored on the shipped
    // predictor's metrics, calibration on its own, and labels from different scorers are never mixed.
    const all = readLog();
    assert.equal(all.length, prompts.length + 1);
    const lines = all.filter((l) => l.via.includes('calibration'));
    const cascaded = all.find((l) => l.via.includes('cascade'));
    assert.equal(cascaded?.prompt, prompts[1]);
    assert.notDeepEqual(cascaded.labels, lines[0].labels);
    assert.equal(lines.length, prompts.length);
    assert.ok(
      lines.every(
        (l) =>
          l.count === 1 &&
          l.via.length === 1 &&
          l.models.edge.startsWith('openai-compatible:') &&
          l.models.cloud === 'openai:gpt-image-2.6-flare' &&
          l.labels.kind === 'scorer',
      ),
    );
    const learned = join(
      s.server.workspace,
      '.routet2i',
      'models',
      `learned-${lines[0].models.edge.replace(/[^\w.-]+/g, '_')}--openai_gpt-image-2.6-flare-${prompts.length}`,
    );
    assert.ok(existsSync(join(learned, 'model.json')), learned);
    const card = JSON.parse(readFileSync(join(learned, 'model.json'), 'utf8'));
    assert.ok(card.evaluation.promotion.gain >= 0.02, JSON.stringify(card.evaluation.promotion));
    await s.workbench.outputChannel('RouteT2I', /Learning: switched to the predictor retrained on \d+ of your prompts/);

    // Compare on Both on the first prompt: the same prompt measured again is averaged into its line.
    await s.workbench.openFile('learning.t2i');
    await s.workbench.runCommand('RouteT2I: Compare on Both');
    const compare = await s.workbench.waitForDialog(
      /Render this prompt on both openai-compatible and openai \(seed \d+\)\?/,
      60_000,
    );
    await compare.getByRole('button', { name: 'Compare' }).click();
    await logLine(s, /Pairs log: 1 measurement of .* from compare \(1 of prompts measured before, averaged in\)/);
    await s.screenshot('compare-on-both');
    const after = readLog();
    assert.equal(after.length, prompts.length + 1);
    const first = after.find((l) => l.prompt === prompts[0]);
    assert.equal(first.count, 2);
    assert.deepEqual(first.via, ['calibration', 'compare']);
  });
});
