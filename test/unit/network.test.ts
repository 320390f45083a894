import { strict as assert } from 'node:assert';
import {
  forward,
  Parameters,
  tokenContributions,
  type Architecture,
  type NetInput,
} from '../../src/router/model/network';
import { datasetLoss, type TrainSample } from '../../src/router/model/train';
import { Rng } from '../../src/router/model/rng';

function randomSample(rng: Rng, arch: Architecture, n: number): TrainSample {
  const features = new Float32Array(n * arch.inputDim);
  for (let i = 0; i < features.length; i++) features[i] = Math.fround(rng.normal());
  const wordIds = Uint32Array.from({ length: n }, () => Math.floor(rng.next() * 1e9));
  const input: NetInput = { n, features, wordIds };
  const targets = Float64Array.from({ length: 2 * arch.metrics }, () => rng.next());
  const mask = Uint8Array.from({ length: 2 * arch.metrics }, (_, j) => (j === 1 ? 0 : 1));
  return { input, targets, mask };
}

describe('predictor network', () => {
  for (const wordBuckets of [0, 5]) {
    it(`matches finite differences for every parameter (word buckets ${wordBuckets})`, () => {
      const arch: Architecture = { metrics: 3, inputDim: 5, topK: 4, rank: 3, hidden: 4, wordBuckets, wordDim: 2 };
      const rng = new Rng(7);
      const p = Parameters.init(arch, rng);
      for (let j = 0; j < p.headBias.length; j++) p.headBias[j] = rng.normal() * 0.5;
      for (let j = 0; j < p.headGlobal.length; j++) p.headGlobal[j] = rng.normal() * 0.5;
      // n ≤ topK in two samples, n > topK in one: selection is then fixed under tiny perturbations unless two scores tie.
      const samples = [randomSample(rng, arch, 3), randomSample(rng, arch, 4), randomSample(rng, arch, 7)];
      const grad = p.zerosLike();
      datasetLoss(p, samples, 0.7, grad);
      const h = 1e-6;
      let worst = 0;
      for (let j = 0; j < p.data.length; j++) {
        const keep = p.data[j]!;
        p.data[j] = keep + h;
        const up = datasetLoss(p, samples, 0.7);
        p.data[j] = keep - h;
        const down = datasetLoss(p, samples, 0.7);
        p.data[j] = keep;
        const numeric = (up - down) / (2 * h);
        const err = Math.abs(numeric - grad.data[j]!) / Math.max(1e-4, Math.abs(numeric) + Math.abs(grad.data[j]!));
        worst = Math.max(worst, err);
      }
      assert.ok(worst < 1e-5, `worst relative gradient error ${worst}`);
    });
  }

  it('token contributions add up to the logit', () => {
    const arch: Architecture = { metrics: 2, inputDim: 6, topK: 3, rank: 2, hidden: 3, wordBuckets: 0, wordDim: 0 };
    const rng = new Rng(3);
    const p = Parameters.init(arch, rng);
    const s = randomSample(rng, arch, 6);
    const fw = forward(p, s.input);
    const contrib = tokenContributions(p, fw, 6);
    for (let o = 0; o < 4; o++) {
      let sum = p.headBias[o]! + p.headGlobal[o]! * fw.g[0]!;
      let nonZero = 0;
      for (let t = 0; t < 6; t++) {
        sum += contrib[o * 6 + t]!;
        if (contrib[o * 6 + t] !== 0) nonZero++;
      }
      assert.ok(Math.abs(sum - fw.logits[o]!) < 1e-12);
      assert.equal(nonZero, 3, 'only the top-K key tokens contribute');
    }
  });

  it('handles a prompt with no tokens', () => {
    const arch: Architecture = { metrics: 2, inputDim: 4, topK: 3, rank: 2, hidden: 3, wordBuckets: 0, wordDim: 0 };
    const p = Parameters.init(arch, new Rng(1));
    const fw = forward(p, { n: 0, features: new Float32Array(0) });
    assert.ok(fw.quality.every((q) => q > 0 && q < 1));
  });
});
