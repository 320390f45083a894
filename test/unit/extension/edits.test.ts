import { strict as assert } from 'node:assert';
import { removalRange, removeWord, routeOverrideEdit } from '../../../src/extension/language/edits';
import { findPrompts } from '../../../src/extension/prompts/regions';

/** Removes the first occurrence of `word` as the quick fix does. */
function remove(prompt: string, word: string): string {
  const at = prompt.indexOf(word);
  assert.ok(at >= 0);
  return removeWord(prompt, at, at + word.length);
}

describe('quick-fix edits', () => {
  it('removes a word with the separator it leaves behind', () => {
    assert.equal(remove('a, hands, b', 'hands'), 'a, b');
    assert.equal(remove('hands, b', 'hands'), 'b');
    assert.equal(remove('a, hands', 'hands'), 'a');
    assert.equal(remove('both hands kneading', 'hands'), 'both kneading');
    assert.equal(remove('in both hands, soft light', 'hands'), 'in both, soft light');
    assert.equal(remove('a, hands kneading', 'hands'), 'a, kneading');
    assert.equal(remove('the hands.', 'hands'), '.');
    assert.equal(remove('hands', 'hands'), '');
    assert.equal(remove('a cat,\nhands, b', 'hands'), 'a cat,\nb');
  });

  it('takes the article before the word and a preposition it would leave dangling', () => {
    assert.equal(remove('a portrait of an old fisherman, soft light', 'portrait'), 'an old fisherman, soft light');
    assert.equal(remove('a man with hands, soft light', 'hands'), 'a man, soft light');
    assert.equal(remove('a photo of a cat', 'cat'), 'a photo');
    assert.equal(remove('a cat on the table, warm light', 'table'), 'a cat, warm light');
    assert.equal(remove('the old fisherman mending nets', 'old'), 'the fisherman mending nets');
    assert.equal(remove('a bowl of red apples', 'red'), 'a bowl of apples');
  });

  it('removes an emphasis group when the word was all it held, and only the word otherwise', () => {
    assert.equal(remove('a cat, (hands:1.3), b', 'hands'), 'a cat, b');
    assert.equal(remove('a ((hands)) c', 'hands'), 'a c');
    assert.equal(remove('a [hands] c', 'hands'), 'a c');
    assert.equal(remove('(red roses:1.2) in a vase', 'roses'), '(red:1.2) in a vase');
    assert.equal(remove('(red roses:1.2) in a vase', 'red'), '(roses:1.2) in a vase');
    assert.equal(remove('x, (hands:1.3)', 'hands'), 'x');
  });

  it('gives the range it deletes', () => {
    const p = 'a, hands, b';
    assert.deepEqual(removalRange(p, 3, 8), { start: 3, end: 10 });
  });

  it('inserts a "# route:" line above a prompt, indented like it, or replaces the one there', () => {
    const text = 'a cat\n\n  a dog\n';
    const [, dog] = findPrompts(text, 't2i', 'x.t2i').prompts;
    const e = routeOverrideEdit(text, dog!, 'cloud');
    assert.deepEqual(e, {
      start: text.indexOf('  a dog'),
      end: text.indexOf('  a dog'),
      newText: '  # route: cloud\n',
    });
    const edited = text.slice(0, e.start) + e.newText + text.slice(e.end);
    const again = findPrompts(edited, 't2i', 'x.t2i').prompts[1]!;
    assert.equal(again.override?.side, 'cloud');
    assert.equal(again.entry.prompt, 'a dog', 'the comment line is not part of the prompt');
    const back = routeOverrideEdit(edited, again, 'edge');
    assert.equal(edited.slice(back.start, back.end), '# route: cloud');
    assert.equal(back.newText, '# route: edge');
    const crlf = 'a cat\r\n';
    assert.equal(
      routeOverrideEdit(crlf, findPrompts(crlf, 't2i', 'x.t2i').prompts[0]!, 'cloud').newText,
      '# route: cloud\r\n',
    );
  });
});
