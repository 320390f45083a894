import { strict as assert } from 'node:assert';
import { RouteT2IError } from '../../src/router/errors';
import { inputFormatOf, parsePromptInput } from '../../src/router/inputs';
import { decodeText, splitLines } from '../../src/router/text';

function assertSlices(text: string, file: string): void {
  for (const e of parsePromptInput(text, file).entries) {
    if (!e.source.escaped) assert.equal(text.slice(e.source.start, e.source.end), e.prompt, `source range of ${e.id}`);
  }
}

describe('prompt inputs', () => {
  it('reads .t2i: front matter, comments, blank-line separated prompts, negatives', () => {
    const text =
      '---\nsize: 768x512\nseed: 7\nnegative: lowres\n---\n# a comment\n\nfirst prompt\ncontinues here\nnegative: blurry\n\n# between\nsecond (prompt:1.2)\n\nthird\n';
    const { entries, settings } = parsePromptInput(text, 'a.t2i');
    assert.deepEqual(
      entries.map((e) => e.prompt),
      ['first prompt\ncontinues here', 'second (prompt:1.2)', 'third'],
    );
    assert.equal(entries[0]!.negative, 'blurry');
    assert.equal(entries[1]!.negative, 'lowres', 'the front matter negative is the default');
    assert.equal(settings.width, 768);
    assert.equal(entries[2]!.settings.seed, 7);
    assert.equal(entries[0]!.source.line, 7);
    assertSlices(text, 'a.t2i');
  });

  it('keeps exact ranges in CRLF files and with comment lines inside a prompt', () => {
    const text = 'one\r\n# inside\r\ntwo\r\n\r\nthree\r\nnegative: x\r\n';
    const { entries } = parsePromptInput(text, 'b.t2i');
    assert.equal(entries.length, 2);
    assert.equal(entries[0]!.prompt, 'one\r\n# inside\r\ntwo');
    assert.equal(entries[1]!.negative, 'x');
    assertSlices(text, 'b.t2i');
  });

  it('attaches a negative after a blank line to the prompt above, and refuses an orphan', () => {
    assert.equal(parsePromptInput('a cat\n\nnegative: dogs\n', 'c.t2i').entries[0]!.negative, 'dogs');
    assert.throws(
      () => parsePromptInput('negative: dogs\n', 'c.t2i'),
      (e: RouteT2IError) => e.code === 'orphan-negative' && /c\.t2i:1/.test(e.message),
    );
  });

  it('refuses bad front matter with the file and the key', () => {
    assert.throws(
      () => parsePromptInput('---\nsteps: many\n---\nx\n', 'd.t2i'),
      /d\.t2i: front matter "steps" must be a whole number/,
    );
    assert.throws(() => parsePromptInput('---\nsize: big\n---\nx\n', 'd.t2i'), /"size" must look like 1024x1024/);
    assert.throws(() => parsePromptInput('---\nsize: [\n---\nx\n', 'd.t2i'), /not valid YAML/);
    assert.throws(() => parsePromptInput('---\nseed: 1\nx\n', 'd.t2i'), /never closed/);
  });

  it('reads .txt one prompt per line, skipping blanks and # comments', () => {
    const text = '  a red cat  \n\n# note\nblue dog\r\n';
    const { entries } = parsePromptInput(text, 'p.txt');
    assert.deepEqual(
      entries.map((e) => e.prompt),
      ['a red cat', 'blue dog'],
    );
    assertSlices(text, 'p.txt');
  });

  it('reads .tsv and .csv by a "prompt" column in any case, with quotes, commas and line breaks in cells', () => {
    const tsv = 'Prompt\tCategory\nbond\tAbstract\na sign that says "hi"\tText\n';
    assert.deepEqual(
      parsePromptInput(tsv, 'x.tsv').entries.map((e) => e.prompt),
      ['bond', 'a sign that says "hi"'],
    );
    assertSlices(tsv, 'x.tsv');
    const csv = 'id,PROMPT,negative\r\nk1,"a cat, sitting",blurry\r\nk2,"two\nlines",\r\nk3,"say ""hello""",\r\n';
    const { entries } = parsePromptInput(csv, 'x.csv');
    assert.deepEqual(
      entries.map((e) => [e.id, e.prompt, e.negative]),
      [
        ['k1', 'a cat, sitting', 'blurry'],
        ['k2', 'two\nlines', undefined],
        ['k3', 'say "hello"', undefined],
      ],
    );
    assert.equal(entries[2]!.source.escaped, true);
    assertSlices(csv, 'x.csv');
    assert.throws(() => parsePromptInput('text,kind\na,b\n', 'y.csv'), /no column named "prompt"/);
  });

  it('reads .jsonl "prompt" fields with ids and escapes', () => {
    const text = '{"id": 5, "prompt": "a cat"}\n\n{"prompt": "tab\\there", "negative": "n"}\n';
    const { entries } = parsePromptInput(text, 'z.jsonl');
    assert.deepEqual(
      entries.map((e) => [e.id, e.prompt, e.negative, Boolean(e.source.escaped)]),
      [
        ['5', 'a cat', undefined, false],
        ['p2', 'tab\there', 'n', true],
      ],
    );
    assertSlices(text, 'z.jsonl');
    assert.throws(() => parsePromptInput('{"prompt": 3}\n', 'z.jsonl'), /z\.jsonl:1: "prompt" must be a string/);
    assert.throws(() => parsePromptInput('{oops\n', 'z.jsonl'), /z\.jsonl:1: not valid JSON/);
  });

  it('knows formats by extension and refuses unknown ones', () => {
    assert.equal(inputFormatOf('a.T2I'), 't2i');
    assert.equal(inputFormatOf('-'), 'txt');
    assert.throws(() => inputFormatOf('a.docx'), /unknown prompt file type ".docx"/);
  });

  it('decodes UTF-8, drops a BOM, and refuses binary, UTF-16 and invalid UTF-8', () => {
    assert.equal(decodeText(Buffer.from('\ufeffhi'), 'f'), 'hi');
    assert.throws(
      () => decodeText(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]), 'img.t2i'),
      /img\.t2i: this looks like a binary file/,
    );
    assert.throws(() => decodeText(Buffer.from([0xff, 0xfe, 0x61, 0]), 'w.txt'), /UTF-16/);
    assert.throws(() => decodeText(Buffer.from([0x61, 0xc3, 0x28]), 'bad.txt'), /not valid UTF-8/);
  });

  it('splits lines on LF, CRLF and CR keeping offsets', () => {
    assert.deepEqual(
      splitLines('a\r\nb\rc\nd').map((l) => [l.start, l.end, l.text]),
      [
        [0, 1, 'a'],
        [3, 4, 'b'],
        [5, 6, 'c'],
        [7, 8, 'd'],
      ],
    );
  });
});

describe('route override lines', () => {
  it('reads "# route: cloud|edge" among the comment lines just above a .t2i prompt', () => {
    const text = '# route: cloud\nfirst\n\n# a note\n#route:EDGE\nsecond\n\n# route: cloud\n\nthird\n';
    const { entries } = parsePromptInput(text, 'r.t2i');
    assert.deepEqual(
      entries.map((e) => e.route?.side),
      ['cloud', 'edge', undefined],
    );
    assert.equal(text.slice(entries[0]!.route!.start, entries[0]!.route!.end), '# route: cloud');
  });

  it('reads TSV quotes as text: a cell that starts with a quote is whole (PartiPrompts)', () => {
    // PartiPrompts.tsv, line 1562 (github.com/google-research/parti): TSV has no quoting.
    const tsv =
      'Prompt\tCategory\n"G I G G L E" painted in thick colorful lettering as graffiti\tIllustrations\n"unclosed quote\tx\nnext\ty\n';
    const { entries } = parsePromptInput(tsv, 'parti.tsv');
    assert.deepEqual(
      entries.map((e) => e.prompt),
      ['"G I G G L E" painted in thick colorful lettering as graffiti', '"unclosed quote', 'next'],
    );
    assert.ok(entries.every((e) => !e.source.escaped));
    assertSlices(tsv, 'parti.tsv');
  });

  it('refuses a CSV quote that is never closed, naming the file and the line it opens on', () => {
    const csv = 'id,prompt\n1,a cat\n2,"a dog\n3,a bird\n4,a fish\n';
    assert.throws(
      () => parsePromptInput(csv, 'open.csv'),
      (e: RouteT2IError) =>
        e.code === 'bad-csv' && e.message === 'open.csv:3: a quoted field opens here and is never closed',
    );
  });

  it('honours a "# route:" line above a one-per-line prompt, as the CodeLens does', () => {
    const { entries } = parsePromptInput('# route: cloud\na cat\na dog\n', 'r.txt');
    assert.deepEqual(
      entries.map((e) => e.route?.side),
      ['cloud', undefined],
    );
  });
});
