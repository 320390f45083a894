import { strict as assert } from 'node:assert';
import { encodeLexical, lexicalFeatures, LEXICAL_ENCODER_VERSION } from '../../src/router/encoders';

const LEXICAL_FEATURES = lexicalFeatures(LEXICAL_ENCODER_VERSION);

function flags(prompt: string): Record<string, string[]> {
  const e = encodeLexical(prompt);
  const d = LEXICAL_FEATURES.length;
  return Object.fromEntries(
    e.tokens.map((t, i) => [t.text, LEXICAL_FEATURES.filter((_, f) => e.features[i * d + f] !== 0)]),
  );
}

describe('lexical encoder', () => {
  it('tags words with part of speech and the word-list features', () => {
    const f = flags('two women holding a sign that says "hello", left of a red car, by Greg Rutkowski, (4k:1.3)');
    assert.ok(f.two!.includes('count'));
    assert.ok(f.women!.includes('person') && f.women!.includes('pos:NOUN'));
    assert.ok(f.sign!.includes('text'));
    assert.ok(f.hello!.includes('quoted'));
    assert.ok(f.left!.includes('spatial'));
    assert.ok(f.red!.includes('colour') && f.red!.includes('pos:ADJ'));
    assert.ok(f.Rutkowski!.includes('artist') && f.Rutkowski!.includes('proper'));
    assert.ok(f['4k']!.includes('emphasised') && f['4k']!.includes('quality'));
  });

  it('gives one row per token, deterministic, with hashed word ids', () => {
    const a = encodeLexical('a cat on a mat');
    const b = encodeLexical('a cat on a mat');
    assert.equal(a.features.length, a.tokens.length * LEXICAL_FEATURES.length);
    assert.deepEqual(a.features, b.features);
    assert.equal(a.wordIds![0], a.wordIds![3], 'the same word, the same id');
  });

  it('encodes odd input without failing', () => {
    for (const p of ['', '   ', '😀😀', '\u0000\u0001', 'مرحبا بالعالم', 'x'.repeat(5000), '((((']) {
      const e = encodeLexical(p);
      assert.ok(e.features.every(Number.isFinite));
    }
  });

  it('gives each word its GloVe vector (sub-words for unknown words), its rarity and the size of a number', () => {
    const e = encodeLexical('seven giraffes beside a giraffelike xqzzyv');
    const col = (name: string) => LEXICAL_FEATURES.indexOf(name);
    const d = LEXICAL_FEATURES.length;
    const row = (t: number) => Array.from(e.features.subarray(t * d, (t + 1) * d));
    const vec = (t: number) => row(t).slice(col('vec:0'), col('vec:0') + 100);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (norm(a) * norm(b));
    const giraffe = encodeLexical('giraffe');
    assert.ok(
      cos(vec(1), Array.from(giraffe.features.subarray(col('vec:0'), col('vec:0') + 100))) > 0.99,
      'a plural falls back to its singular',
    );
    assert.ok(norm(vec(4)) > 0, 'a compound word falls back to a known prefix');
    assert.equal(norm(vec(5)), 0);
    assert.equal(row(5)[col('oov')], 1, 'an unknown word is flagged');
    assert.ok(row(1)[col('rarity')]! > row(2)[col('rarity')]!, 'giraffes are rarer than "beside"');
    assert.ok(Math.abs(Math.exp(row(0)[col('number-value')]! * Math.log(102)) - 2 - 7) < 1e-3, 'the number seven');
  });

  it('keeps version 1 (48 features, no vectors) for predictors trained on it', () => {
    const e = encodeLexical('a cat on a mat', 1);
    assert.equal(e.features.length, 5 * lexicalFeatures(1).length);
    assert.equal(lexicalFeatures(1).length, 48);
  });
});
