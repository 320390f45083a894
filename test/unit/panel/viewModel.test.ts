import { pairState } from '../../../src/extension/panel/pairState';
import assert from 'node:assert/strict';
import type {
  ActivePromptState,
  BudgetState,
  CalibrationState,
  GalleryItem,
} from '../../../src/extension/panel/services';
import {
  budgetView,
  calibrationView,
  galleryItemView,
  keyGallery,
  promptView,
} from '../../../src/extension/panel/viewModel';

const active = (): ActivePromptState => ({
  uri: 'file:///work/my%20prompts/portraits.t2i',
  range: { start: 10, end: 40, line: 6 },
  promptId: 'portraits.t2i:7',
  prompt: 'an old fisherman',
  prediction: {
    edge: { quality: 0.62, alignment: Number.NaN },
    cloud: { quality: 0.74, alignment: 0.7 },
    prs: 0.31,
    pareto: 'cloud-dominates',
    tokens: [
      { text: 'old', start: 3, end: 6, impact: { quality: 0.02 }, cloudGain: { quality: Infinity } },
      { text: 'ghost', start: 30, end: 35, impact: {}, cloudGain: {} },
    ],
  },
  decision: { route: 'edge', reason: 'above-alpha', alpha: 0.21, prs: 0.31 },
  why: 'cloud slightly better',
  metrics: [
    { id: 'quality', label: 'Quality', positive: 'High quality photo.', negative: 'Low quality photo.' },
    { id: 'alignment', label: 'Alignment', kind: 'alignment' },
  ],
  weights: { quality: 0.5, alignment: 0.5 },
});

describe('panel view models', () => {
  it('flattens the active prompt into plain JSON: finite numbers only, tokens inside the prompt', () => {
    const view = promptView(active())!;
    assert.equal(view.fileName, 'my prompts/portraits.t2i'.split('/').pop());
    assert.equal(view.line, 6);
    assert.deepEqual(view.edge, { quality: 0.62 });
    assert.deepEqual(view.metrics, [
      { id: 'quality', label: 'Quality' },
      { id: 'alignment', label: 'Alignment' },
    ]);
    assert.deepEqual(view.tokens, [{ text: 'old', start: 3, end: 6, impact: { quality: 0.02 }, cloudGain: {} }]);
    assert.equal(view.route, 'edge');
    assert.equal(view.reason, 'above-alpha');
    assert.equal(view.alpha, 0.21);
    assert.deepEqual(JSON.parse(JSON.stringify(view)), view);
    assert.equal(promptView(undefined), null);
  });

  it('gives the budget without a cap as null, not Infinity', () => {
    const state: BudgetState = {
      month: '2026-11',
      cloudShare: { used: 0.25, budget: 0.3, images: { edge: 6, cloud: 2 } },
      money: { spent: 1.2, reserved: 0.04, cap: null, left: Infinity, currency: 'USD' },
      latest: Array.from({ length: 12 }, (_, i) => ({
        id: `e${i}`,
        backend: 'openai',
        cost: 0.04,
        estimate: 0.04,
        at: `2026-11-0${(i % 9) + 1}T10:00:00Z`,
        ...(i === 0 ? { note: 'fox', reconciled: true } : {}),
      })),
    };
    const view = budgetView(state);
    assert.deepEqual(view.money, { spent: 1.2, reserved: 0.04, cap: null, left: null, currency: 'USD' });
    assert.deepEqual(view.cloudShare, {
      used: 0.25,
      budget: 0.3,
      edge: 6,
      cloud: 2,
      cascaded: 0,
      escalated: 0,
      escalationLimit: 0,
    });
    const cascading = budgetView({
      ...state,
      cloudShare: { ...state.cloudShare, cascade: { cascaded: 5, escalated: 2 } },
    });
    assert.deepEqual(
      [cascading.cloudShare.cascaded, cascading.cloudShare.escalated, cascading.cloudShare.escalationLimit],
      [5, 2, 2],
    );
    assert.equal(view.latest.length, 8);
    assert.deepEqual(view.latest[0], {
      id: 'e0',
      backend: 'openai',
      cost: 0.04,
      estimate: 0.04,
      at: '2026-11-01T10:00:00Z',
      note: 'fox',
      reconciled: true,
    });
    assert.equal('note' in view.latest[1]!, false);
    const capped = budgetView({ ...state, money: { spent: 9.9, reserved: 0.2, cap: 10, left: -0.1, currency: 'USD' } });
    assert.deepEqual(capped.money, { spent: 9.9, reserved: 0.2, cap: 10, left: 0, currency: 'USD' });
  });

  it('keys gallery items uniquely, even when a prompt was generated twice', () => {
    const item = (id: string): GalleryItem => ({
      image: `/w/generated/${id}.png`,
      sidecar: `/w/generated/${id}.json`,
      id,
      prompt: 'p',
      route: 'edge',
      why: '',
      backend: 'comfyui',
      model: 'sd15',
      cost: 0,
      created: '2026-11-26T10:00:00Z',
    });
    assert.deepEqual(
      keyGallery([item('a'), item('b'), item('a'), item('a')]).map((k) => k.key),
      ['a', 'b', 'a#2', 'a#3'],
    );
    const view = galleryItemView(
      {
        ...item('fox'),
        cost: Number.NaN,
        predicted: { edge: { quality: 0.6 }, cloud: { quality: 0.7 }, prs: 0.4 },
        measured: { quality: 0.65, alignment: Number.NaN },
      },
      'https://file+.vscode-resource/w/generated/fox.png',
    );
    assert.equal(view.fileName, 'fox.png');
    assert.equal(view.src, 'https://file+.vscode-resource/w/generated/fox.png');
    assert.equal(view.cost, 0);
    assert.deepEqual(view.measured, { quality: 0.65 });
    assert.equal('image' in view, false, 'paths stay on the host');
  });

  it('carries the evaluation with unknown figures as null, and the curve', () => {
    const state: CalibrationState = {
      modelName: 'default',
      modelDir: '/ext/models/default',
      encoder: 'lexical v1',
      metrics: [{ id: 'quality', label: 'Quality' }],
      data: { source: 'AGIQA-3K', pairs: 300 },
      evaluation: { n: 300, routers: { routet2i: { apgr: 0.54, cpt50: Number.NaN, pgr50: 0.56 } } },
      curve: [
        { share: 0, pgr: 0 },
        { share: 0.5, pgr: Number.NaN },
        { share: 1, pgr: 1 },
      ],
      pair: { calibrated: true, note: '', trainedOn: null, inUse: { edge: null, cloud: null } },
      mode: 'predict',
    };
    const view = calibrationView(state, true);
    assert.deepEqual(view.evaluation, { n: 300, routers: { routet2i: { apgr: 0.54, cpt50: null, pgr50: 0.56 } } });
    assert.deepEqual(view.curve, [
      { share: 0, pgr: 0 },
      { share: 1, pgr: 1 },
    ]);
    assert.equal(view.running, true);
    const bare = calibrationView({ ...state, evaluation: undefined, curve: [] }, false);
    assert.equal('evaluation' in bare, false);
    assert.equal('curve' in bare, false);
  });

  it('says "uncalibrated" with the pair trained on and the pair in use, and the mode', () => {
    const inUse = { edge: 'a1111:current checkpoint', cloud: 'openai:gpt-image-2.6-flare' };
    const trainedOn = { edge: 'a1111:sd-turbo', cloud: 'openai:gpt-image-1' };
    const base: CalibrationState = {
      modelName: 'mine',
      modelDir: '/w/.routet2i/models/mine',
      encoder: 'lexical',
      metrics: [{ id: 'quality', label: 'Quality' }],
      data: { source: 'pairs.jsonl', pairs: 30 },
      pair: pairState({ training: { data: { source: 'x', pairs: 30, pair: trainedOn } } } as never, 'mine', inUse),
      mode: 'predict',
    };
    const view = calibrationView(base, false);
    assert.equal(view.pair.calibrated, false);
    assert.match(
      view.pair.note,
      /^Routing with "mine", which was trained on a1111:sd-turbo → openai:gpt-image-1, not on a1111:current checkpoint → openai:gpt-image-2\.6-flare; cascade mode .*calibration/,
    );
    assert.deepEqual(view.pair.trainedOn, trainedOn);
    assert.deepEqual(view.pair.inUse, inUse);
    assert.equal(view.mode, 'predict');
    // The configured pair is the one a calibration records: the same names, calibrated.
    const same = pairState({ training: { data: { source: 'x', pairs: 30, pair: inUse } } } as never, 'mine', inUse);
    assert.deepEqual(same, { calibrated: true, note: '', trainedOn: inUse, inUse });
  });
});
