import { strict as assert } from 'node:assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainFromPairs, type TrainProgress } from '../../../src/extension/calibrate/calibrationTrain';
import { Predictor } from '../../../src/router/predictor';
import { tempDirs } from '../../support/tmp';

/** Pairs where portraits favour the cloud and landscapes the edge, so there is something to learn. */
function pairs(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const person = i % 2 === 0;
    const prompt = person
      ? `a portrait of a woman number ${i}, soft light`
      : `a mountain lake number ${i}, morning mist`;
    const edge = person ? 0.45 + (i % 5) * 0.01 : 0.7 - (i % 3) * 0.01;
    const cloud = person ? 0.75 : 0.72;
    lines.push(
      JSON.stringify({
        id: `p${i}`,
        prompt,
        edge: { sharpness: edge, alignment: edge + 0.05 },
        cloud: { sharpness: cloud, alignment: cloud },
      }),
    );
  }
  return lines.join('\n') + '\n';
}

describe('calibration training', function () {
  this.timeout(120_000);
  const tmp = tempDirs();

  it('trains a predictor on collected pairs, cross-validates it and writes a loadable folder with a model card', async () => {
    const dir = tmp();
    const pairsFile = join(dir, 'pairs.jsonl');
    writeFileSync(pairsFile, pairs(24));
    const seen: TrainProgress['phase'][] = [];
    const metrics = [
      {
        id: 'sharpness',
        label: 'Sharpness',
        kind: 'contrast' as const,
        positive: 'Sharp photo.',
        negative: 'Out of focus photo.',
      },
    ];
    const result = await trainFromPairs(
      { pairsFile, outDir: join(dir, 'model'), name: 'mine', folds: 3, metrics },
      (p) => seen.push(p.phase),
    );
    assert.equal(result.pairs, 24);
    assert.deepEqual([...result.metrics].sort(), ['alignment', 'sharpness']);
    assert.ok(result.apgr && result.apgr.routet2i > 0 && result.apgr.oracle >= result.apgr.routet2i);
    assert.ok(seen.includes('encode') && seen.includes('fold') && seen.includes('epoch'));
    assert.ok(existsSync(join(dir, 'model', 'README.md')));
    const predictor = await Predictor.load(join(dir, 'model'));
    assert.equal(predictor.name, 'mine');
    assert.equal(
      predictor.metrics.find((m) => m.id === 'sharpness')?.positive,
      'Sharp photo.',
      'metric texts come from the calibration metrics',
    );
    const p = predictor.predictSync('a portrait of a woman');
    assert.ok(p.prs >= 0 && p.prs <= 1);
  });

  it('says clearly when there is too little to train on, or nothing at all', async () => {
    const dir = tmp();
    const pairsFile = join(dir, 'few.jsonl');
    writeFileSync(pairsFile, pairs(3));
    await assert.rejects(
      trainFromPairs({ pairsFile, outDir: join(dir, 'm'), name: 'x', folds: 5 }),
      /few\.jsonl holds 3 pairs; training needs at least 4/,
    );
    await assert.rejects(
      trainFromPairs({ pairsFile: join(dir, 'none.jsonl'), outDir: join(dir, 'm'), name: 'x', folds: 5 }),
      /no pairs were collected/,
    );
  });
});
