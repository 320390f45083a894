import { strict as assert } from 'node:assert';
import { cpSync, existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { MAX_PROMPT_CHARS } from '../../src/router/prompt';
import { defaultModelDir } from '../../src/router/predictor';
import { runCommand } from '../support/runCommand';
import { tempDirs } from '../support/tmp';

interface RoutedJson {
  id: string;
  prompt: string;
  prs: number;
  route: 'edge' | 'cloud';
  reason: string;
  truncated?: { at: number; limit: number; reason: string };
  tokens: Array<{ start: number; end: number }>;
}

const route = async (argv: string[], cwd: string) => {
  const r = await runCommand(['route', ...argv], { cwd });
  return { ...r, json: () => JSON.parse(r.stdout) as { alpha: number; prompts: RoutedJson[] } };
};

describe('route on hostile and large input', function () {
  this.timeout(600_000);
  const tmp = tempDirs();

  it('answers each hostile prompt, analysing at most the documented length and saying so', async () => {
    const dir = tmp();
    const hostile = {
      word: 'a'.repeat(80_000),
      network: `<a:${'b'.repeat(80_000)}`,
      nested: `${'['.repeat(100_000)}cat`,
      breaks: 'BREAK '.repeat(80_000),
      line: 'a photo of a (red:1.2) cat, '.repeat(Math.ceil(9_000_000 / 28)),
    };
    // One prompt per file (.txt reads one prompt per line): five inputs, ids prefixed by file name.
    for (const [name, text] of Object.entries(hostile)) writeFileSync(path.join(dir, `${name}.txt`), `${text}\n`);
    const r = await route([...Object.keys(hostile).map((n) => `${n}.txt`), '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const { prompts } = r.json();
    assert.deepEqual(
      prompts.map((p) => p.id),
      Object.keys(hostile).map((n) => `${n}-p1`),
    );
    for (const p of prompts) {
      assert.ok(p.truncated, `${p.id} says it was cut`);
      assert.ok(p.truncated.at <= MAX_PROMPT_CHARS && p.truncated.limit === MAX_PROMPT_CHARS);
      assert.match(p.truncated.reason, /over the 2,000 analysed/);
      assert.ok(p.tokens.every((t) => t.end <= p.truncated!.at));
      assert.ok(Number.isFinite(p.prs));
    }
    const human = await route(['word.txt'], dir);
    assert.match(human.stdout, /\n {2}cut: the prompt is 80,000 characters/);
  });

  it('routes 150,000 prompts', async () => {
    const dir = tmp();
    const words = [
      'a red cat',
      'an old fisherman, oil painting',
      'neon city street in the rain',
      '(vivid:1.2) sunset over a castle',
    ];
    writeFileSync(
      path.join(dir, 'many.txt'),
      Array.from({ length: 150_000 }, (_, i) => `${words[i % 4]} ${i}`).join('\n'),
    );
    const r = await route(['many.txt', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const { prompts } = r.json();
    assert.equal(prompts.length, 150_000);
    assert.equal(prompts[149_999]!.prompt, `${words[149_999 % 4]} 149999`);
  });

  it('stops reading a prompt file, a model.json or a weights.bin that is a link to /dev/zero', async function () {
    if (!existsSync('/dev/zero')) this.skip();
    const dir = tmp();
    writeFileSync(path.join(dir, 'ok.t2i'), 'a cat\n');
    symlinkSync('/dev/zero', path.join(dir, 'zero.t2i'));
    let r = await route(['zero.t2i'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /zero\.t2i: more than 64 MB, the limit for a prompt file/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);

    for (const [file, message] of [
      ['model.json', /model\.json: more than 16 MB, the limit for a predictor file/],
      ['weights.bin', /model\.json: weights\.bin holds more than \d+ numbers but the architecture needs \d+/],
    ] as const) {
      const model = path.join(dir, `model-${file}`);
      cpSync(defaultModelDir(), model, { recursive: true });
      rmSync(path.join(model, file));
      symlinkSync('/dev/zero', path.join(model, file));
      r = await route(['ok.t2i', '--model', model], dir);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
    }
  });

  it('routes a TSV prompt that starts with a quote whole, and names the line of an unclosed CSV quote', async () => {
    const dir = tmp();
    // PartiPrompts.tsv, line 1562 (github.com/google-research/parti).
    const giggle =
      '"G I G G L E" painted in thick colorful lettering as graffiti on a faded red brick wall with a splotch of exploding white paint.';
    writeFileSync(path.join(dir, 'parti.tsv'), `Prompt\tCategory\n${giggle}\tIllustrations\nbond\tAbstract\n`);
    const r = await route(['parti.tsv', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json().prompts.map((p) => p.prompt),
      [giggle, 'bond'],
    );

    writeFileSync(path.join(dir, 'open.csv'), 'id,prompt\n1,a cat\n2,"a dog\n3,a bird\n');
    const bad = await route(['open.csv'], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /open\.csv:3: a quoted field opens here and is never closed/);
  });

  it('honours "# route:" lines and prefixes ids by file name with several inputs', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'a.t2i'),
      '# route: cloud\na cat sitting on a windowsill, watercolor\n\n# route: edge\na crowded market street at night, many people\n',
    );
    writeFileSync(path.join(dir, 'b.txt'), 'a cat\n');
    const r = await route(['a.t2i', 'b.txt', '--json', '--budget', '0'], dir);
    assert.equal(r.code, 0, r.stderr);
    const { prompts } = r.json();
    assert.deepEqual(
      prompts.map((p) => [p.id, p.route]),
      [
        ['a-p1', 'cloud'],
        ['a-p2', 'edge'],
        ['b-p1', 'edge'],
      ],
    );
    assert.equal(prompts[0]!.reason, '"# route: cloud" in the file');
    const one = await route(['b.txt', '--json'], dir);
    assert.deepEqual(
      one.json().prompts.map((p) => p.id),
      ['p1'],
      'one input keeps plain ids',
    );
  });

  it('never prints a PRS and an α that read the same on either side of a comparison', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'p.txt'),
      Array.from({ length: 40 }, (_, i) => `a portrait of person ${i} in a crowd, oil painting`).join('\n'),
    );
    const r = await route(['p.txt'], dir);
    assert.equal(r.code, 0, r.stderr);
    for (const m of r.stdout.matchAll(/PRS (\d\.\d+) ([<≥]) α (\d\.\d+)/g)) {
      const [prs, op, alpha] = [Number(m[1]), m[2], Number(m[3])];
      assert.ok(op === '<' ? prs < alpha : prs >= alpha, m[0]);
    }
  });
});
