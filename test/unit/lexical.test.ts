import { strict as assert } from 'node:assert';
import { encodeLexical, LEXICAL_FEATURES } from '../../src/router/encoders';

function flags(prompt: string): Record<string, string[]> {
  const e = encodeLexical(prompt);
  const d = LEXICAL_FEATURES.length;
  return Object.fromEntries(e.tokens.map((t, i) => [t.text, LEXICAL_FEATURES.filter((_, f) => e.features[i * d + f] !== 0)]));
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
});
