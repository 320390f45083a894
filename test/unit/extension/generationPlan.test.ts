import { strict as assert } from 'node:assert';
import { groupByRoute, outputStem, promptsFor, requestFor } from '../../../src/extension/generate/generationPlan';
import { findPrompts } from '../../../src/extension/prompts/regions';

const TEXT = `---
size: 512x768
seed: 42
sampler: euler
---
a red cat
negative: blurry

# route: cloud
a chef's hands

a castle
`;
const { prompts } = findPrompts(TEXT, 't2i', 'x.t2i');
const [cat, hands, castle] = prompts as [(typeof prompts)[0], (typeof prompts)[0], (typeof prompts)[0]];

describe('generation plan', () => {
  it('covers the prompt at the cursor, the prompts a selection touches, or the whole file', () => {
    assert.deepEqual(promptsFor('cursor', prompts, hands.start + 2, []), [hands]);
    assert.deepEqual(promptsFor('cursor', prompts, 0, []), []);
    assert.deepEqual(promptsFor('selection', prompts, 0, [{ start: cat.start, end: hands.start + 1 }]), [cat, hands]);
    // An empty selection means the prompt at the cursor.
    assert.deepEqual(promptsFor('selection', prompts, castle.end, [{ start: castle.end, end: castle.end }]), [castle]);
    assert.deepEqual(promptsFor('file', prompts, 0, []), prompts);
  });

  it('builds the request from the front matter over the defaults, passing extras through', () => {
    const r = requestFor(cat, { width: 1024, height: 1024, steps: 30 }, 'x.t2i');
    assert.deepEqual(r, {
      prompt: 'a red cat',
      width: 512,
      height: 768,
      negative: 'blurry',
      seed: 42,
      steps: 30,
      extra: { sampler: 'euler' },
    });
    const plain = findPrompts('a dog\n', 't2i', 'y.t2i').prompts[0]!;
    assert.deepEqual(requestFor(plain, { width: 1024, height: 1024, steps: null }, 'y.t2i'), {
      prompt: 'a dog',
      width: 1024,
      height: 1024,
    });
  });

  it('refuses a bad per-prompt setting with a message naming the file and the prompt', () => {
    const p = { ...cat, settings: { ...cat.settings, steps: 0 } };
    assert.throws(
      () => requestFor(p, { width: 1024, height: 1024, steps: null }, 'x.t2i'),
      /x\.t2i: prompt p1: "steps" must be a whole number from 1 to 1000/,
    );
  });

  it('names outputs after the document, the prompt and the moment', () => {
    assert.equal(
      outputStem('portraits.t2i', 'p2', new Date('2026-11-26T10:15:30.123Z')),
      'portraits-p2-20261126-101530',
    );
    assert.equal(outputStem('my prompts (draft).t2i', 'p1', new Date(0)), 'my_prompts_draft_-p1-19700101-000000');
  });

  it("groups prompts by the side they are forced to; a command's side wins over the file's", () => {
    const items = prompts.map((prompt) => ({ prompt }));
    const byFile = groupByRoute(items);
    assert.deepEqual(
      byFile.get('cloud')!.map((i) => i.prompt),
      [hands],
    );
    assert.deepEqual(
      byFile.get(undefined)!.map((i) => i.prompt),
      [cat, castle],
    );
    const forced = groupByRoute(items, 'edge');
    assert.deepEqual([...forced.keys()], ['edge']);
    assert.equal(forced.get('edge')!.length, 3);
  });
});
