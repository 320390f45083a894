import { strict as assert } from 'node:assert';
import { defaultModelDir, Predictor } from '../../src/router/predictor';
import {
  boundPrompt,
  MAX_PROMPT_CHARS,
  parsePromptSyntax,
  plainPromptText,
  promptTokens,
} from '../../src/router/prompt';

function words(prompt: string): string[] {
  return promptTokens(prompt).tokens.map((t) => t.text);
}

/** Every token's range must slice the source to its text. */
function assertRanges(prompt: string): void {
  for (const t of promptTokens(prompt).tokens)
    assert.equal(prompt.slice(t.start, t.end), t.text, `range of ${JSON.stringify(t.text)}`);
}

describe('prompt syntax', () => {
  it('reads A1111 emphasis: (x:1.2), (x), [x], nesting and escapes', () => {
    const p = '(masterpiece:1.2), a ((red)) cat, [blurry], \\(literal\\)';
    const toks = promptTokens(p).tokens;
    const w = Object.fromEntries(toks.map((t) => [t.text, t.weight]));
    assert.ok(Math.abs(w.masterpiece! - 1.2) < 1e-6);
    assert.ok(Math.abs(w.red! - 1.21) < 1e-6);
    assert.equal(w.cat, 1);
    assert.ok(Math.abs(w.blurry! - 1 / 1.1) < 1e-6);
    assert.equal(w.literal, 1);
    assertRanges(p);
  });

  it('drops LoRA tags, BREAK and weight numbers but keeps their neighbours exact', () => {
    const p = 'a castle <lora:detail_v2:0.8> BREAK (sunset:1.3) over BREAKWATER';
    assert.deepEqual(words(p), ['a', 'castle', 'sunset', 'over', 'BREAKWATER']);
    const s = parsePromptSyntax(p);
    assert.deepEqual(
      s.extraNetworks.map((e) => [e.kind, e.name, e.weight]),
      [['lora', 'detail_v2', 0.8]],
    );
    assert.equal(s.breaks.length, 1);
    assert.equal(s.masked.length, p.length);
    assertRanges(p);
  });

  it('treats prompt editing and alternatives as their words', () => {
    assert.deepEqual(words('a [cat:dog:10] on {grass|sand}'), ['a', 'cat', 'dog', 'on', 'grass', 'sand']);
    assert.deepEqual(words('[cat:0.5] alone'), ['cat', 'alone']);
  });

  it('applies unclosed brackets to the end, as A1111 does', () => {
    const toks = promptTokens('plain (bright sky').tokens;
    assert.equal(toks[0]!.weight, 1);
    assert.ok(Math.abs(toks[2]!.weight - 1.1) < 1e-6);
  });

  it('keeps compounds one word: close-up, f/1.8, 16:9, 4k', () => {
    assert.deepEqual(words('close-up, f/1.8 at 16:9 in 4k'), ['close-up', 'f/1.8', 'at', '16:9', 'in', '4k']);
  });

  it('skips # comment lines inside a prompt', () => {
    assert.deepEqual(words('first line\n  # a comment here\nsecond line'), ['first', 'line', 'second', 'line']);
  });

  it('keeps exact ranges with CRLF, tabs, emoji, combining marks and right-to-left text', () => {
    const p = 'e\u0301migre\u0301\tcafe\u0301\r\n👩‍👩‍👧 🇫🇷 (مرحبا:1.1) بالعالم שלום 東京タワー';
    assertRanges(p);
    const w = words(p);
    assert.ok(w.includes('👩‍👩‍👧'), 'a ZWJ emoji sequence is one token');
    assert.ok(w.includes('🇫🇷'), 'a flag is one token');
    assert.ok(w.includes('مرحبا'));
    assert.ok(w.includes('שלום'));
    assert.equal(w[0], 'e\u0301migre\u0301');
  });

  it('handles a 1 MB prompt with exact ranges', () => {
    const unit = 'a (red:1.1) cat 🐈 on a mat,\r\n';
    const p = unit.repeat(Math.ceil(1_048_576 / unit.length));
    const { tokens } = promptTokens(p);
    assert.equal(tokens.length, 7 * Math.ceil(1_048_576 / unit.length));
    const last = tokens[tokens.length - 1]!;
    assert.equal(p.slice(last.start, last.end), 'mat');
    assert.ok(Math.abs(tokens[tokens.length - 6]!.weight - 1.1) < 1e-6);
  });

  it('gives no tokens for empty or syntax-only prompts', () => {
    assert.deepEqual(words(''), []);
    assert.deepEqual(words('  <lora:x:1> BREAK () [] , ; '), []);
  });

  it('makes plain text for backends that do not read the syntax', () => {
    assert.equal(
      plainPromptText('(masterpiece:1.2), a [cat] <lora:x:0.5>  BREAK on a mat'),
      'masterpiece, a cat on a mat',
    );
  });
});

// Inputs that took seconds to minutes when the parser ran regular expressions over each bracket's contents. Each must
// come back (mocha's timeout is the only clock here) with the same answer the A1111 rules give on a small case.
describe('prompt syntax on hostile input', () => {
  it('reads one 80,000-letter word as one token', () => {
    const p = 'x'.repeat(80_000);
    assert.deepEqual(
      promptTokens(p).tokens.map((t) => [t.start, t.end]),
      [[0, 80_000]],
    );
  });

  it('reads `<a:` and 80,000 letters as text, not an extra network', () => {
    const p = `<a:${'b'.repeat(80_000)}`;
    const { syntax, tokens } = promptTokens(p);
    assert.equal(syntax.extraNetworks.length, 0);
    assert.equal(tokens.length, 1);
    assert.equal(tokens[0]!.end, p.length);
  });

  it('weights 100,000 nested brackets, closed or not', () => {
    const open = '['.repeat(100_000);
    assert.deepEqual(promptTokens(open).tokens, []);
    const closed = `${'('.repeat(50_000)}cat${')'.repeat(50_000)}`;
    const [cat] = promptTokens(closed).tokens;
    assert.equal(closed.slice(cat!.start, cat!.end), 'cat');
    assert.ok(Number.isFinite(cat!.weight) && cat!.weight > 1e6, 'fifty thousand ×1.1, held to a finite weight');
    // A `)` skips the `[`s opened after its `(` (they are dropped, as before): no weight left from them.
    const mixed = `(${'['.repeat(50_000)}dog)`;
    assert.ok(Math.abs(promptTokens(mixed).tokens[0]!.weight - 1.1) < 1e-6);
  });

  it('finds 80,000 BREAKs', () => {
    const p = 'BREAK '.repeat(80_000);
    const s = parsePromptSyntax(p);
    assert.equal(s.breaks.length, 80_000);
    assert.equal(s.masked.trim(), '');
  });

  it('keeps a weight only when the first colon of the bracket starts it, among thousands of colons', () => {
    const many = `(${'a:'.repeat(20_000)}1.5)`;
    assert.ok(
      promptTokens(many).tokens.every((t) => Math.abs(t.weight - 1.1) < 1e-6),
      'not a weight: colons before it',
    );
    assert.equal(promptTokens('(sky: -0.5 )').tokens[0]!.weight, 1, 'a weight that is not positive is dropped');
    assert.ok(Math.abs(promptTokens('(sky: 0.5 )').tokens[0]!.weight - 0.5) < 1e-6);
    // Three colons are not prompt editing: the bracket is plain de-emphasis.
    const [t] = promptTokens('[a:b:c:d]').tokens;
    assert.equal(t!.text, 'a:b:c:d');
    assert.ok(Math.abs(t!.weight - 1 / 1.1) < 1e-6);
  });

  it('joins 40,000 hyphenated parts into one word', () => {
    const p = 'a-'.repeat(40_000) + 'a';
    assert.deepEqual(
      promptTokens(p).tokens.map((t) => [t.start, t.end]),
      [[0, p.length]],
    );
  });

  it('masks a 9 MB line with every offset kept', () => {
    const unit = 'a photo of a (red:1.2) cat <lora:x:1> BREAK, ';
    const p = unit.repeat(Math.ceil(9_000_000 / unit.length));
    const s = parsePromptSyntax(p);
    assert.equal(s.masked.length, p.length);
    assert.equal(s.extraNetworks.length, Math.ceil(9_000_000 / unit.length));
    const at = p.lastIndexOf('red');
    assert.ok(Math.abs(s.weightAt(at) - 1.2) < 1e-6);
  });
});

describe('bounded work per prompt', () => {
  it('leaves a prompt within the limit alone', () => {
    assert.deepEqual(boundPrompt('a cat'), { text: 'a cat' });
    assert.deepEqual(boundPrompt('x'.repeat(MAX_PROMPT_CHARS)).truncated, undefined);
  });

  it('cuts a longer prompt between words, and says where and why', () => {
    const p = 'word '.repeat(1000);
    const { text, truncated } = boundPrompt(p);
    assert.ok(text.length <= MAX_PROMPT_CHARS);
    assert.equal(truncated!.at, text.length);
    assert.ok(/\s/.test(p[truncated!.at]!), 'cut at whitespace');
    assert.equal(truncated!.limit, MAX_PROMPT_CHARS);
    assert.match(truncated!.reason, /5,000 characters, over the 2,000/);
  });

  it('cuts one endless word at the limit, never inside a surrogate pair', () => {
    assert.equal(boundPrompt('a'.repeat(5000)).truncated!.at, MAX_PROMPT_CHARS);
    const emoji = '😀'.repeat(3000);
    const { text } = boundPrompt(`x${emoji}`);
    assert.ok(!/[\ud800-\udbff]$/.test(text), 'no lone high surrogate at the end');
  });

  it('makes the predictor analyse only the start of a long prompt, and say so on the prediction', async () => {
    const predictor = await Predictor.load(defaultModelDir());
    const long = `a red cat on a mat, ${'very '.repeat(2000)}dark`;
    const [asy] = await predictor.predict([long]);
    const sync = predictor.predictSync(long);
    for (const p of [asy!, sync]) {
      assert.ok(p.truncated, 'the prediction says it was cut');
      assert.ok(p.tokens.every((t) => t.end <= p.truncated!.at));
      assert.ok(!p.tokens.some((t) => t.text === 'dark'), 'the word past the limit is not analysed');
      assert.ok(Number.isFinite(p.prs));
    }
    assert.equal(predictor.predictSync('a red cat').truncated, undefined);
  });
});
