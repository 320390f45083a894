import * as assert from 'node:assert/strict';
import { builtinEncoders } from '../../../src/router/encoders';
import { RouteT2IError } from '../../../src/router/errors';
import {
  DEFAULT_PROMOTION,
  decidePromotion,
  retrainDue,
  type PromotionRule,
} from '../../../src/router/learning/promotion';
import { fitPredictor, prepareData } from '../../../src/router/training';
import type { LabelledPair } from '../../../src/router/types';

// A pair whose cloud model is far better at counting and lettering, and no better at the rest: a router that learns the
// pair sends the counting and lettering prompts first.
const hard = [
  'three red apples on a table',
  'a sign that says OPEN',
  'five birds on a wire',
  'a poster with the word HELLO',
  'seven candles on a cake',
  'two cats and four dogs',
  'a label reading FRESH',
  'nine balloons in the sky',
];
const easy = [
  'a cat on a windowsill, watercolor',
  'a misty forest at dawn',
  'portrait of an old man',
  'a bowl of soup',
  'sunset over the sea',
  'a quiet street in the rain',
  'a mountain lake',
  'a field of flowers',
];
function pairs(): LabelledPair[] {
  const out: LabelledPair[] = [];
  for (let r = 0; r < 3; r++) {
    hard.forEach((p, i) =>
      out.push({
        id: `h${r}${i}`,
        prompt: `${p} ${['', 'photo', 'drawing'][r]}`.trim(),
        edge: { q: 0.2 + 0.01 * i },
        cloud: { q: 0.85 },
      }),
    );
    easy.forEach((p, i) =>
      out.push({
        id: `e${r}${i}`,
        prompt: `${p} ${['', 'photo', 'drawing'][r]}`.trim(),
        edge: { q: 0.6 + 0.01 * i },
        cloud: { q: 0.62 },
      }),
    );
  }
  return out;
}
const flipped = (ps: LabelledPair[]) => ps.map((p) => ({ ...p, edge: p.cloud, cloud: p.edge }));
const fast: PromotionRule = { ...DEFAULT_PROMOTION, folds: 4 };
const hp = { hyperparameters: { maxEpochs: 60, learningRate: 0.01 } };

describe('promotion rule', () => {
  it('is due after the documented number of new measurements', () => {
    assert.equal(DEFAULT_PROMOTION.every, 20);
    assert.equal(retrainDue(39, 20, DEFAULT_PROMOTION), false);
    assert.equal(retrainDue(40, 20, DEFAULT_PROMOTION), true);
  });

  it('switches to the retrained predictor when it routes the same held-out prompts better by the margin, and says why with figures', async () => {
    const encoder = await builtinEncoders.lexical!({ id: 'lexical' }, {});
    const data = await prepareData(pairs(), encoder);
    // The predictor in use learned the opposite pair (edge and cloud swapped): it routes this pair backwards.
    const backwards = fitPredictor(await prepareData(flipped(pairs()), encoder), encoder, {
      ...hp,
      name: 'other-pair',
    }).predictor;
    const decision = await decidePromotion(data, encoder, backwards, fast, { ...hp, name: 'retrained' });
    assert.equal(decision.promote, true, decision.reason);
    assert.ok(decision.candidate.apgr - decision.current.apgr >= fast.margin);
    assert.equal(decision.n, 48);
    assert.equal(decision.candidate.perFold.length, 4);
    assert.match(decision.reason, /APGR 0\.\d{3} against 0\.\d{3} for "other-pair"/);
    // Deterministic: the same data and rule give the same figures.
    const again = await decidePromotion(data, encoder, backwards, fast, { ...hp, name: 'retrained' });
    assert.deepEqual(again.candidate, decision.candidate);
  });

  it('keeps the predictor in use when the candidate is not better by the margin', async () => {
    const encoder = await builtinEncoders.lexical!({ id: 'lexical' }, {});
    const data = await prepareData(pairs(), encoder);
    // The predictor in use was trained on all of these prompts: the held-out candidate cannot beat it by the margin.
    const current = fitPredictor(data, encoder, { ...hp, name: 'in-use' }).predictor;
    const decision = await decidePromotion(data, encoder, current, { ...fast, margin: 0.5 }, hp);
    assert.equal(decision.promote, false);
    assert.match(decision.reason, /^"in-use" stays/);
  });

  it('refuses to compare on too few prompts, saying how many it needs', async () => {
    const encoder = await builtinEncoders.lexical!({ id: 'lexical' }, {});
    const data = await prepareData(pairs().slice(0, 10), encoder);
    const current = fitPredictor(data, encoder, hp).predictor;
    await assert.rejects(
      decidePromotion(data, encoder, current, fast, hp),
      (e: unknown) => e instanceof RouteT2IError && e.code === 'too-few-pairs' && /at least 16/.test(e.message),
    );
  });
});
