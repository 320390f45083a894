import { strict as assert } from 'node:assert';
import {
  fencedBlocks,
  findPrompts,
  kindOfLanguage,
  promptAt,
  promptsIn,
  routeOverride,
} from '../../../src/extension/prompts/regions';

const T2I = `---
size: 512x512
---
# a comment
a red cat, (soft light:1.2)
negative: blurry

# route: cloud
a portrait of a chef's hands

a castle
`;

describe('prompt regions', () => {
  it('maps every .t2i prompt to its exact range in the document', () => {
    const { prompts, errors } = findPrompts(T2I, 't2i', 'x.t2i');
    assert.deepEqual(errors, []);
    assert.equal(prompts.length, 3);
    for (const p of prompts) assert.equal(T2I.slice(p.start, p.end), p.entry.prompt);
    assert.equal(prompts[0]!.entry.negative, 'blurry');
    assert.equal(prompts[0]!.settings.width, 512);
  });

  it('finds the "# route:" override line above a prompt, only within its paragraph', () => {
    const { prompts } = findPrompts(T2I, 't2i', 'x.t2i');
    assert.equal(prompts[0]!.override, undefined);
    const o = prompts[1]!.override!;
    assert.equal(o.side, 'cloud');
    assert.equal(T2I.slice(o.start, o.end), '# route: cloud');
    assert.equal(prompts[2]!.override, undefined);
    // A route line in a paragraph of its own does not attach to the prompt below the blank line.
    const apart = '# route: edge\n\na cat\n';
    assert.equal(routeOverride(apart, apart.indexOf('a cat')), undefined);
    const crlf = 'x\r\n\r\n# ROUTE: Edge\r\n# another comment\r\na cat\r\n';
    const found = routeOverride(crlf, crlf.indexOf('a cat'))!;
    assert.equal(found.side, 'edge');
    assert.equal(crlf.slice(found.start, found.end), '# ROUTE: Edge');
  });

  it('reads ```t2i fenced blocks of Markdown, with offsets into the whole document', () => {
    const md =
      'Intro\n\n```t2i\na red cat\n\n# route: cloud\na dog\n```\n\n```js\nnot a prompt\n```\n\n~~~~t2i-prompt\nlast one\n~~~~\n';
    assert.equal(fencedBlocks(md).length, 2);
    const { prompts } = findPrompts(md, 'markdown', 'README.md');
    assert.deepEqual(
      prompts.map((p) => p.entry.prompt),
      ['a red cat', 'a dog', 'last one'],
    );
    assert.deepEqual(
      prompts.map((p) => p.entry.id),
      ['p1', 'p2', 'p3'],
    );
    for (const p of prompts) assert.equal(md.slice(p.start, p.end), p.entry.prompt);
    assert.equal(prompts[1]!.override?.side, 'cloud');
    // An unclosed fence runs to the end.
    assert.deepEqual(
      findPrompts('```t2i\nopen block', 'markdown', 'a.md').prompts.map((p) => p.entry.prompt),
      ['open block'],
    );
  });

  it('reads plain text as one prompt per line', () => {
    const text = 'a cat\n\n  a dog  \n# not this\n';
    const { prompts } = findPrompts(text, 'plaintext', 'a.txt');
    assert.deepEqual(
      prompts.map((p) => text.slice(p.start, p.end)),
      ['a cat', 'a dog'],
    );
  });

  it('turns a file it cannot read into an error at the right line, not an exception', () => {
    const { prompts, errors } = findPrompts('---\nsize: 12\n---\na cat\n', 't2i', 'bad.t2i');
    assert.deepEqual(prompts, []);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /front matter "size" must look like 1024x1024/);
    assert.doesNotMatch(errors[0]!.message, /bad\.t2i/);
    const orphan = 'negative: blurry\n';
    const e2 = findPrompts(orphan, 't2i', 'o.t2i').errors[0]!;
    assert.match(e2.message, /needs a prompt above it/);
    assert.equal(e2.offset, 0);
  });

  it('finds the prompt at an offset and the prompts in ranges', () => {
    const { prompts } = findPrompts(T2I, 't2i', 'x.t2i');
    const second = prompts[1]!;
    assert.equal(promptAt(prompts, second.start), second);
    assert.equal(promptAt(prompts, second.end), second, 'the end counts (cursor after the last word)');
    assert.equal(promptAt(prompts, second.start - 1), undefined);
    assert.deepEqual(promptsIn(prompts, [{ start: 0, end: 5 }]), []);
    assert.deepEqual(
      promptsIn(prompts, [
        { start: second.start + 2, end: T2I.length },
        { start: 0, end: prompts[0]!.start },
      ]),
      prompts,
    );
  });

  it('knows which languages hold prompts', () => {
    assert.equal(kindOfLanguage('t2i-prompt'), 't2i');
    assert.equal(kindOfLanguage('markdown'), 'markdown');
    assert.equal(kindOfLanguage('plaintext'), 'plaintext');
    assert.equal(kindOfLanguage('python'), undefined);
  });
});
