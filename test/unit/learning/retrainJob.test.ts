import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retrainAndCompare } from '../../../src/extension/calibrate/retrainJob';
import { WorkPairsLog } from '../../../src/router/learning/workPairs';
import { defaultModelDir } from '../../../src/router/predictor';

/**
 * The background retrain (and calibration, which decides by the same rule) on a workspace's pairs log: a pair whose edge
 * fails on people and matches the cloud elsewhere is learnt, the candidate beats the shipped predictor by the margin on
 * the same folds, and is saved with its model card and both figures.
 */
describe('retrain and compare on the pairs log', function () {
  this.timeout(60_000);

  it('saves a candidate that wins by the margin, with its card and the promotion figures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrain-'));
    const file = join(dir, 'pairs.jsonl');
    const log = WorkPairsLog.open(file);
    const models = { edge: 'openai-compatible:default', cloud: 'openai:gpt-image-2.6-flare' };
    const labels = {
      kind: 'scorer' as const,
      model: 'tiny-clip',
      metrics: [{ id: 'quality', positive: 'a', negative: 'b' }],
    };
    const subjects = [
      'portrait of a woman',
      'portrait of an old man',
      'close-up of hands',
      'portrait of a child',
      'a woman laughing',
      'portrait of a sailor',
    ];
    const scenes = [
      'a red barn in a field',
      'a lighthouse at dusk',
      'a bowl of lemons',
      'a mountain lake',
      'a city street at noon',
      'a sailing boat',
    ];
    for (const style of ['photo', 'oil painting']) {
      for (const s of subjects)
        log.add({
          prompt: `${s}, ${style}`,
          edge: { quality: 0.28 },
          cloud: { quality: 0.66 },
          models,
          labels,
          via: 'calibration',
        });
      for (const s of scenes)
        log.add({
          prompt: `${s}, ${style}`,
          edge: { quality: 0.66 },
          cloud: { quality: 0.66 },
          models,
          labels,
          via: 'calibration',
        });
    }
    const outDir = join(dir, 'learned');
    const result = await retrainAndCompare({
      kind: 'retrain',
      workPairsFile: file,
      models,
      labels,
      currentDir: defaultModelDir(),
      outDir,
      name: 'learned-24',
      rule: { every: 24, margin: 0.02, folds: 5, seed: 1 },
    });
    assert.equal(result.decision.promote, true, result.decision.reason);
    assert.ok(result.decision.gain >= 0.02);
    assert.equal(result.outDir, outDir);
    const saved = JSON.parse(readFileSync(join(outDir, 'model.json'), 'utf8'));
    assert.deepEqual(saved.training.data.pair, models);
    assert.equal(saved.evaluation.promotion.gain, result.decision.gain);
    assert.deepEqual(saved.evaluation.metrics, ['quality']);
    assert.ok(existsSync(join(outDir, 'README.md')));
    assert.match(readFileSync(join(outDir, 'README.md'), 'utf8'), /metrics quality/);
  });
});
