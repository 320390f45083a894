import { strict as assert } from 'node:assert';
import { checkWorkflow, defaultWorkflow, fillWorkflow, historyImages } from '../../../src/backends/comfyui-workflow';
import { decodeBase64, isCompleteImage, sniffImage } from '../../../src/backends/image';
import { FLUX_ASPECTS } from '../../../src/backends/catalog';
import { nearestAspect } from '../../../src/backends/stability';
import {
  decideEscalation,
  explainEscalation,
  isUncertain,
  partialPrs,
  weightedQuality,
} from '../../../src/router/policy';
import type { Normalisation } from '../../../src/router/prs';
import { makePng } from '../../support/png';

describe('cascade and hybrid policy helpers', () => {
  const n: Normalisation = {
    muEdge: { a: 0.5, b: 0.6 },
    muCloud: { a: 0.7, b: 0.7 },
    gamma: 1,
    weights: { a: 0.75, b: 0.25 },
  };

  it('isUncertain is a closed band around α', () => {
    assert.equal(isUncertain(0.35, 0.3, 0.05), true);
    assert.equal(isUncertain(0.36, 0.3, 0.05), false);
    assert.equal(isUncertain(0.3, 0.3, 0), true);
  });

  it('weightedQuality renormalises over the metrics present', () => {
    assert.equal(weightedQuality({ a: 0.4, b: 0.8 }, n.weights), 0.5);
    assert.equal(weightedQuality({ b: 0.8 }, n.weights), 0.8);
    assert.equal(weightedQuality({ c: 0.2, d: 0.4 }, n.weights), 0.30000000000000004);
    assert.equal(weightedQuality({}, n.weights), undefined);
  });

  it('partialPrs is 0.5 for equal vectors and falls when the edge is worse', () => {
    assert.equal(partialPrs({ a: 0.6, b: 0.6 }, { a: 0.6, b: 0.6 }, n), 0.5);
    assert.ok(partialPrs({ a: 0.4 }, { a: 0.7, b: 0.9 }, n)! < 0.2);
    assert.equal(partialPrs({ z: 1 }, { a: 1 }, n), undefined);
  });

  it('decideEscalation uses the threshold when set, else measured PRS against α', () => {
    const t = decideEscalation({ a: 0.3, b: 0.3 }, { threshold: 0.5, alpha: 0.3, weights: n.weights });
    assert.deepEqual(t, { escalate: true, basis: 'threshold', value: 0.3, bar: 0.5 });
    assert.equal(explainEscalation(t), 'measured edge quality 0.30 below the threshold 0.50');
    const p = decideEscalation(
      { a: 0.75, b: 0.75 },
      { threshold: null, alpha: 0.3, weights: n.weights, predictedCloud: { a: 0.7, b: 0.7 }, normalisation: n },
    );
    assert.equal(p!.basis, 'prs');
    assert.equal(p!.escalate, false);
    // No prediction and no threshold: the default bar of 0.5.
    assert.equal(decideEscalation({ a: 0.45 }, { threshold: null, alpha: 0.3, weights: n.weights })!.bar, 0.5);
  });
});

describe('ComfyUI workflows', () => {
  const values = {
    prompt: 'p',
    negative: 'n',
    seed: 5,
    width: 64,
    height: 32,
    steps: 3,
    cfg: 6,
    sampler: 'euler',
    scheduler: 'normal',
    checkpoint: 'c.safetensors',
  };

  it('the default graph is complete and wired', () => {
    const w = defaultWorkflow(values);
    assert.deepEqual(w['3']!.inputs.positive, ['6', 0]);
    assert.equal(w['4']!.inputs.ckpt_name, 'c.safetensors');
    assert.equal(checkWorkflow(w, 'x'), w);
  });

  it('placeholders inside text stay text; whole numeric placeholders become numbers', () => {
    const w = fillWorkflow(
      {
        '1': { class_type: 'CLIPTextEncode', inputs: { text: '{{prompt}}, seed {{seed}}' } },
        '2': { class_type: 'EmptyLatentImage', inputs: { width: '{{ width }}' } },
      },
      values,
      'x',
    );
    assert.equal(w['1']!.inputs.text, 'p, seed 5');
    assert.equal(w['2']!.inputs.width, 64);
  });

  it('a workflow with no place for the prompt is a clear error', () => {
    assert.throws(
      () => fillWorkflow({ '1': { class_type: 'SaveImage', inputs: {} } }, values, 'flow.json'),
      /flow\.json: found no place for the prompt/,
    );
    assert.throws(() => checkWorkflow({ '1': { inputs: {} } }, 'flow.json'), /node "1" has no class_type/);
  });

  it('history images: saved outputs before temp previews', () => {
    const refs = historyImages({
      '8': { images: [{ filename: 'a.png', subfolder: '', type: 'temp' }] },
      '9': { images: [{ filename: 'b.png', subfolder: 's', type: 'output' }] },
    });
    assert.deepEqual(
      refs.map((r) => r.filename),
      ['b.png', 'a.png'],
    );
  });
});

describe('image checks', () => {
  it('recognises a whole PNG and rejects a truncated one', () => {
    const png = makePng(3, 3);
    assert.deepEqual(sniffImage(png), { format: 'png', mime: 'image/png', ext: 'png' });
    assert.equal(isCompleteImage(png), true);
    assert.equal(isCompleteImage(png.subarray(0, png.length - 5)), false);
    assert.equal(sniffImage(Buffer.from('{"error": 1}')), undefined);
  });

  it('JPEG needs its end marker', () => {
    const jpg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0xff, 0xd9]);
    assert.equal(isCompleteImage(jpg), true);
    assert.equal(isCompleteImage(jpg.subarray(0, 8)), false);
  });

  it('decodes base64 and data URIs, refuses what is not base64', () => {
    const png = makePng(2, 2);
    assert.deepEqual(Buffer.from(decodeBase64(`data:image/png;base64,${png.toString('base64')}`)!), png);
    assert.equal(decodeBase64('not base64!'), undefined);
  });

  it('nearest aspect ratio', () => {
    assert.equal(nearestAspect(1344, 768), '16:9');
    assert.equal(nearestAspect(1024, 768), '5:4');
    assert.equal(nearestAspect(1024, 768, FLUX_ASPECTS), '4:3');
    assert.equal(nearestAspect(512, 512), '1:1');
  });
});
