import assert from 'node:assert/strict';
import type { GalleryItemView } from '../../../src/shared/panel/protocol';
import { meanAbsoluteError, predictionErrors } from '../../../webview/lib/gallery';

const item = (over: Partial<GalleryItemView>): GalleryItemView => ({
  id: 'a',
  src: 'x',
  fileName: 'a.png',
  prompt: 'p',
  route: 'cloud',
  why: '',
  backend: 'openai',
  model: 'm',
  cost: 0.04,
  created: '2026-11-26T10:00:00Z',
  ...over,
});

describe('panel gallery', () => {
  it('compares the measured scores with the prediction for the side that rendered the image', () => {
    const rows = predictionErrors(
      item({
        predicted: { edge: { quality: 0.5, alignment: 0.6 }, cloud: { quality: 0.76, alignment: 0.74 }, prs: 0.2 },
        measured: { quality: 0.81, alignment: 0.72, sharpness: 0.9 },
      }),
      [{ id: 'quality', label: 'Quality' }],
    );
    assert.deepEqual(
      rows.map((r) => [r.metric, r.label, r.predicted, r.measured, Math.round(r.off * 100) / 100]),
      [
        ['quality', 'Quality', 0.76, 0.81, 0.05],
        ['alignment', 'Alignment', 0.74, 0.72, -0.02],
      ],
    );
    assert.ok(Math.abs(meanAbsoluteError(rows)! - 0.035) < 1e-9);
  });

  it('has nothing to compare without a prediction or a measurement', () => {
    assert.deepEqual(predictionErrors(item({ measured: { quality: 0.5 } })), []);
    assert.deepEqual(predictionErrors(item({ predicted: { edge: {}, cloud: { quality: 0.5 }, prs: 0.3 } })), []);
    assert.equal(meanAbsoluteError([]), undefined);
  });
});
