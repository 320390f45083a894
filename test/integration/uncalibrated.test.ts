import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../support/runCommand';
import { syntheticPairs, toJsonl } from '../support/pairs';
import { tempDirs } from '../support/tmp';

const models = { edge: 'a1111:sd-turbo', cloud: 'openai:gpt-image-1' };

describe('route says when the pair in use is uncalibrated', () => {
  const tmp = tempDirs();

  it('records the pair and label source a predictor was trained on, and says "uncalibrated" for any other pair', async () => {
    const dir = tmp();
    const labels = { kind: 'human', dataset: 'my ratings' };
    writeFileSync(path.join(dir, 'pairs.jsonl'), toJsonl(syntheticPairs(40, 3).map((p) => ({ ...p, models, labels }))));
    const t = await runCommand(['train', '--data', 'pairs.jsonl', '--out', 'mine', '--epochs', '20'], { cwd: dir });
    assert.equal(t.code, 0, t.stderr);
    const data = JSON.parse(readFileSync(path.join(dir, 'mine', 'model.json'), 'utf8')).training.data;
    assert.deepEqual(data.pair, models);
    assert.deepEqual(data.labels, labels);

    const route = (...extra: string[]) =>
      runCommand(['route', '-', '--model', 'mine', '--json', ...extra], { cwd: dir, stdin: 'a red cube\n' });
    const same = JSON.parse((await route('--pair', `${models.edge},${models.cloud}`)).stdout);
    assert.equal(same.calibrated, true);
    assert.equal(same.note, undefined);
    const other = JSON.parse((await route('--pair', `comfyui:flux-schnell,${models.cloud}`)).stdout);
    assert.equal(other.calibrated, false);
    assert.deepEqual(other.calibratedOn, models);
    assert.match(
      other.note,
      /^uncalibrated: routing with "mine", which was trained on a1111:sd-turbo → openai:gpt-image-1, not on comfyui:flux-schnell → openai:gpt-image-1; cascade mode/,
    );
    // Routing still runs: every prompt has a route.
    assert.equal(other.prompts[0].route === 'edge' || other.prompts[0].route === 'cloud', true);
    const unknown = JSON.parse((await route()).stdout);
    assert.equal(unknown.calibrated, false);

    const text = await runCommand(['route', '-', '--model', 'mine', '--pair', 'x:y,z:w'], {
      cwd: dir,
      stdin: 'a red cube\n',
    });
    assert.match(text.stdout, /^uncalibrated: /m);
    const bad = await runCommand(['route', '-', '--pair', 'nonsense'], { cwd: dir, stdin: 'a red cube\n' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--pair must be EDGE,CLOUD/);
  });

  it('refuses to train on pairs that mix human ratings with a CLIP scorer', async () => {
    const dir = tmp();
    const pairs = syntheticPairs(20, 4).map((p, i) => ({
      ...p,
      labels: i < 10 ? { kind: 'human' } : { kind: 'scorer', model: 'clip-b32' },
    }));
    writeFileSync(path.join(dir, 'pairs.jsonl'), toJsonl(pairs));
    const t = await runCommand(['train', '--data', 'pairs.jsonl', '--out', 'mine', '--epochs', '5'], { cwd: dir });
    assert.equal(t.code, 1);
    assert.match(t.stderr, /mix human ratings \(pair "[^"]+"\) with CLIP scorer clip-b32/);
  });
});
