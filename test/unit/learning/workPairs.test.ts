import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RouteT2IError } from '../../../src/router/errors';
import {
  describeLabelSource,
  labelSourceOfPair,
  singleLabelSource,
  type LabelSource,
} from '../../../src/router/learning/labelSource';
import { calibrationFor, recordedModelPair } from '../../../src/router/learning/modelPair';
import { WorkPairsLog, type Measurement } from '../../../src/router/learning/workPairs';
import { parsePairs } from '../../../src/router/pairs';
import { tempDirs } from '../../support/tmp';

const clip: LabelSource = {
  kind: 'scorer',
  model: 'Xenova/clip-vit-base-patch32',
  metrics: [{ id: 'definition', positive: 'High definition photo.', negative: 'Low definition photo.' }],
};
const models = { edge: 'a1111:sd-turbo', cloud: 'openai:gpt-image-1' };
const m = (prompt: string, e: number, c: number, extra: Partial<Measurement> = {}): Measurement => ({
  prompt,
  edge: { definition: e },
  cloud: { definition: c },
  models,
  labels: clip,
  via: 'compare',
  ...extra,
});

describe('WorkPairsLog', () => {
  const tmp = tempDirs();

  it('adds a measurement of a prompt measured again to its line (running mean, count) instead of a duplicate', () => {
    const file = path.join(tmp(), '.routet2i', 'pairs.jsonl');
    const log = WorkPairsLog.open(file);
    assert.equal(log.add(m('a red cube', 0.2, 0.6)).again, false);
    log.add(m('two dogs', 0.5, 0.5, { via: 'cascade' }));
    const again = log.add(m('a red cube', 0.4, 0.9, { via: 'calibration' }));
    assert.equal(again.again, true);
    const reread = WorkPairsLog.open(file);
    assert.equal(reread.pairs.length, 2);
    const cube = reread.pairs.find((p) => p.prompt === 'a red cube')!;
    assert.equal(cube.count, 2);
    assert.ok(Math.abs(cube.edge.definition! - 0.3) < 1e-12);
    assert.ok(Math.abs(cube.cloud.definition! - 0.75) < 1e-12);
    assert.deepEqual(cube.via, ['compare', 'calibration']);
    assert.equal(reread.measurements(models, clip), 3);
    // The file is a plain labelled-pairs file that train reads.
    assert.equal(parsePairs(fs.readFileSync(file, 'utf8'), file).length, 2);
  });

  it('keeps another model pair or another label source on its own line and out of the training set', () => {
    const log = WorkPairsLog.open(path.join(tmp(), 'p.jsonl'));
    log.add(m('a red cube', 0.2, 0.6));
    log.add(m('a red cube', 0.2, 0.6, { models: { edge: 'a1111:sdxl', cloud: models.cloud } }));
    const other: LabelSource = {
      kind: 'scorer',
      model: 'Xenova/clip-vit-base-patch32',
      metrics: [{ id: 'definition', positive: 'Sharp photo.', negative: 'Blurry photo.' }],
    };
    log.add(m('a red cube', 0.2, 0.6, { labels: other }));
    assert.equal(log.pairs.length, 3);
    assert.equal(log.select(models, clip).length, 1);
    assert.equal(log.select(models, other).length, 1);
  });

  it('refuses a score outside [0, 1] and a damaged log, naming what is wrong', () => {
    const file = path.join(tmp(), 'p.jsonl');
    const log = WorkPairsLog.open(file);
    assert.throws(
      () => log.add(m('x', 1.5, 0.2)),
      (e: unknown) => e instanceof RouteT2IError && e.code === 'bad-measurement' && /edge\.definition/.test(e.message),
    );
    assert.equal(fs.existsSync(file), false);
    fs.writeFileSync(file, JSON.stringify({ id: 'a', prompt: 'p', edge: { d: 0.1 }, cloud: { d: 0.2 } }) + '\n');
    assert.throws(
      () => WorkPairsLog.open(file),
      (e: unknown) => e instanceof RouteT2IError && /"models"/.test(e.message),
    );
  });
});

describe('label sources', () => {
  const pair = (id: string, extra: Record<string, unknown>) => ({
    id,
    prompt: id,
    edge: { a: 0.1 },
    cloud: { a: 0.9 },
    ...extra,
  });

  it('reads the recorded source, a collect scorer, or none', () => {
    assert.deepEqual(labelSourceOfPair(pair('a', { labels: clip })), clip);
    assert.deepEqual(labelSourceOfPair(pair('b', { scoredWith: 'clip-x' })), { kind: 'scorer', model: 'clip-x' });
    assert.equal(labelSourceOfPair(pair('c', {})), undefined);
    assert.match(
      describeLabelSource(clip),
      /CLIP scorer Xenova\/clip-vit-base-patch32 \(definition "High definition photo."/,
    );
  });

  it('refuses a training set that mixes human ratings and a scorer, naming both', () => {
    const pairs = [
      pair('h1', { labels: { kind: 'human' } }),
      pair('h2', { labels: { kind: 'human' } }),
      pair('s1', { labels: clip }),
    ];
    assert.throws(
      () => singleLabelSource(pairs),
      (e: unknown) =>
        e instanceof RouteT2IError &&
        e.code === 'mixed-label-sources' &&
        /human ratings \(pair "h1"\)/.test(e.message) &&
        /CLIP scorer .* \(pair "s1"\)/.test(e.message),
    );
    assert.deepEqual(singleLabelSource(pairs.slice(0, 2)), { kind: 'human' });
  });
});

describe('calibrated pair', () => {
  it('is calibrated only where the predictor records the pair in use', () => {
    const file = { training: { data: { source: 'x', pairs: 3, pair: models } } } as never;
    assert.deepEqual(calibrationFor(file, models), { calibrated: true, pair: models });
    const other = calibrationFor(file, { edge: 'comfyui:flux', cloud: models.cloud });
    assert.equal(other.calibrated, false);
    assert.match((other as { why: string }).why, /trained on a1111:sd-turbo → openai:gpt-image-1, not on comfyui:flux/);
    assert.equal(calibrationFor({ training: { data: { source: 'x', pairs: 3 } } } as never, models).calibrated, false);
  });

  it('reads the pair from collect\'s "generated" record, and none where the pairs disagree', () => {
    const g = (edge: string) => ({
      id: edge,
      prompt: 'p',
      edge: { a: 0 },
      cloud: { a: 1 },
      generated: { edge: { backend: 'a1111', model: edge }, cloud: { backend: 'openai', model: 'gpt-image-1' } },
    });
    assert.deepEqual(recordedModelPair([g('sd-turbo'), g('sd-turbo')]), models);
    assert.equal(recordedModelPair([g('sd-turbo'), g('sdxl')]), undefined);
  });
});
