import { strict as assert } from 'node:assert';
import { parsePromptSyntax, plainPromptText, promptTokens } from '../../src/router/prompt';

function words(prompt: string): string[] {
  return promptTokens(prompt).tokens.map((t) => t.text);
}

/** Every token's range must slice the source to its text. */
function assertRanges(prompt: string): void {
  for (const t of promptTokens(prompt).tokens) assert.equal(prompt.slice(t.start, t.end), t.text, `range of ${JSON.stringify(t.text)}`);
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
    assert.deepEqual(s.extraNetworks.map((e) => [e.kind, e.name, e.weight]), [['lora', 'detail_v2', 0.8]]);
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
    assert.equal(plainPromptText('(masterpiece:1.2), a [cat] <lora:x:0.5>  BREAK on a mat'), 'masterpiece, a cat on a mat');
  });
});
