import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DocumentPrompts,
  heatRanges,
  tokenAt,
  weakWords,
  type DocumentSource,
} from '../../../src/extension/prompts/promptCache';
import { CachedPredictor } from '../../../src/extension/predictor/cachedPredictor';
import { NEUTRAL, VERDICT } from '../../../src/shared/presentation';
import { defaultModelDir, Predictor } from '../../../src/router/predictor';
import type { EncodedPrompt, TokenEncoder } from '../../../src/router/types';

const EXAMPLE = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'portraits.t2i'), 'utf8');

function doc(text: string, version = 1, key = 'file:///x.t2i'): DocumentSource {
  return { key, version, kind: 't2i', name: 'x.t2i', getText: () => text };
}

describe('document analysis', function () {
  this.timeout(30_000);
  let predictor: Predictor;
  before(async () => {
    predictor = await Predictor.load(defaultModelDir());
  });

  it('parses a document once per version', () => {
    const docs = new DocumentPrompts();
    let reads = 0;
    const source = { ...doc(EXAMPLE), getText: () => (reads++, EXAMPLE) };
    const a = docs.of(source);
    assert.equal(docs.of(source), a);
    assert.equal(reads, 1);
    docs.of({ ...source, version: 2 });
    assert.equal(reads, 2);
    docs.forget(source.key);
    docs.of({ ...source, version: 2 });
    assert.equal(reads, 3);
  });

  it('maps heat to document ranges that cover exactly the coloured words', () => {
    const engine = CachedPredictor.of(predictor, { sliceMs: Infinity });
    const { prompts } = new DocumentPrompts().of(doc(EXAMPLE));
    for (const metric of [VERDICT, 'quality', 'alignment']) {
      const heat = heatRanges(
        prompts,
        [{ start: 0, end: EXAMPLE.length }],
        engine,
        { metric, scale: 1 },
        predictor.normalisation.weights,
      );
      assert.equal(heat.prompts, prompts.length);
      assert.equal(heat.pending, 0);
      assert.deepEqual(heat.buckets[NEUTRAL], []);
      const drawn = heat.buckets.flat();
      assert.ok(drawn.length > 3, `${metric}: some words are coloured`);
      for (const r of drawn)
        assert.match(EXAMPLE.slice(r.start, r.end), /^[\p{L}\p{N}'’-]+$/u, `${metric}: a range covers one word`);
    }
    // Different metrics colour differently.
    const colours = (metric: string) =>
      JSON.stringify(
        heatRanges(
          prompts,
          [{ start: 0, end: EXAMPLE.length }],
          engine,
          { metric, scale: 1 },
          predictor.normalisation.weights,
        ).buckets,
      );
    assert.notEqual(colours('quality'), colours('alignment'));
  });

  it('draws only the prompts in the visible ranges', () => {
    const engine = CachedPredictor.of(predictor, { sliceMs: Infinity });
    const { prompts } = new DocumentPrompts().of(doc(EXAMPLE));
    const second = prompts[1]!;
    const heat = heatRanges(
      prompts,
      [{ start: second.start, end: second.start + 1 }],
      engine,
      { metric: VERDICT, scale: 1 },
      predictor.normalisation.weights,
    );
    assert.equal(heat.prompts, 1);
    for (const r of heat.buckets.flat()) assert.ok(r.start >= second.start && r.end <= second.end);
  });

  it('recomputes only the prompt that changed', () => {
    let calls = 0;
    const counting = new Proxy(predictor, {
      get(target, prop, receiver) {
        if (prop === 'predictSync') return (p: string) => (calls++, target.predictSync(p));
        return Reflect.get(target, prop, receiver);
      },
    });
    const engine = CachedPredictor.of(counting, { sliceMs: Infinity });
    const docs = new DocumentPrompts();
    const all = [{ start: 0, end: Number.MAX_SAFE_INTEGER }];
    const first = docs.of(doc(EXAMPLE, 1));
    heatRanges(first.prompts, all, engine, { metric: VERDICT, scale: 1 }, {});
    assert.equal(calls, first.prompts.length);
    const edited = EXAMPLE.replace('a cat sitting', 'a black cat sitting');
    const second = docs.of(doc(edited, 2));
    heatRanges(second.prompts, all, engine, { metric: VERDICT, scale: 1 }, {});
    assert.equal(calls, first.prompts.length + 1);
  });

  it('lists weak words at their document offsets, minus the ignored ones', () => {
    const engine = CachedPredictor.of(predictor, { sliceMs: Infinity });
    const { prompts } = new DocumentPrompts().of(doc(EXAMPLE));
    const weights = predictor.normalisation.weights;
    const all = prompts.flatMap((p) =>
      weakWords(p, engine.prediction(p.entry.prompt)!, predictor.metrics, weights, {
        limit: 3,
        threshold: -0.05,
        ignored: [],
      }),
    );
    assert.ok(all.length > 0, 'the portraits example has weak words');
    for (const w of all) {
      assert.equal(EXAMPLE.slice(w.start, w.end), w.token.text);
      assert.ok(w.score < -0.05);
    }
    const word = all[0]!.token.text;
    const without = prompts.flatMap((p) =>
      weakWords(p, engine.prediction(p.entry.prompt)!, predictor.metrics, weights, {
        limit: 3,
        threshold: -0.05,
        ignored: [word.toUpperCase()],
      }),
    );
    assert.ok(without.every((w) => w.token.text.toLowerCase() !== word.toLowerCase()));
    const one = weakWords(prompts[1]!, engine.prediction(prompts[1]!.entry.prompt)!, predictor.metrics, weights, {
      limit: 1,
      threshold: -0.05,
      ignored: [],
    });
    assert.ok(one.length <= 1);
  });

  it('finds the token at an offset', () => {
    const p = predictor.predictSync('a red cat');
    assert.equal(tokenAt(p, 3)?.text, 'red');
    assert.equal(tokenAt(p, 5)?.text, 'red', 'the end of a word counts');
    assert.equal(tokenAt(p, 100), undefined);
  });

  it('batches an asynchronous encoder and tells when predictions arrive', async () => {
    const sync = predictor.encoder;
    let batches = 0;
    const asyncEncoder: TokenEncoder = {
      spec: sync.spec,
      async encode(prompts: readonly string[]): Promise<EncodedPrompt[]> {
        batches++;
        return prompts.map((p) => sync.encodeSync!(p));
      },
    };
    const engine = CachedPredictor.of(new Predictor(predictor.file, predictor.params, asyncEncoder));
    assert.equal(engine.sync, false);
    const arrived: string[][] = [];
    engine.onDidPredict((prompts) => arrived.push(prompts));
    assert.equal(engine.prediction('a red cat'), undefined, 'pending at first');
    const [a, b, c] = await Promise.all([
      engine.predict('a red cat'),
      engine.predict('a dog'),
      engine.predict('a red cat'),
    ]);
    assert.equal(batches, 1, 'one batch for everything queued together');
    assert.equal(a, c, 'the same prompt shares one prediction');
    assert.deepEqual(arrived, [['a red cat', 'a dog']]);
    assert.equal(engine.prediction('a dog'), b, 'cached afterwards');
    assert.deepEqual(a.edge, predictor.predictSync('a red cat').edge);
    engine.dispose();
  });

  it('keeps at most cacheSize predictions, dropping the least recently used', () => {
    const engine = CachedPredictor.of(predictor, { cacheSize: 2, sliceMs: Infinity });
    const first = engine.prediction('one')!;
    engine.prediction('two');
    engine.prediction('one');
    engine.prediction('three');
    assert.equal(engine.cached, 2);
    assert.equal(engine.prediction('one'), first, '"one" was used recently, so "two" went');
  });
});
