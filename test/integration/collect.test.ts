import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_METRICS } from '../../src/router/metrics';
import { MetricScorer } from '../../src/runtime/scorer';
import { startImagesApi, type ImagesApi } from '../support/imagesApi';
import { runCommand } from '../support/runCommand';
import { tempDirs } from '../support/tmp';
import { writeTinyClip, type TinyClip } from '../support/tinyClip';

const PROMPTS = [
  'a red cat on a sofa',
  'portrait of a dog, oil painting',
  'a blue light in the style of Vermeer',
  'a cat and a dog',
];
const KEY = 'sk-test-123';

/** A colour per prompt and side, so every image (and score) differs. */
function colour(side: 'edge' | 'cloud') {
  return (prompt: string): [number, number, number] => {
    let h = 7;
    for (const c of prompt) h = (h * 31 + c.charCodeAt(0)) % 251;
    return side === 'edge' ? [h, 40, 255 - h] : [255 - h, 200, h];
  };
}

function readPairs(file: string) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(
      (l) =>
        JSON.parse(l) as {
          id: string;
          prompt: string;
          edge: Record<string, number>;
          cloud: Record<string, number>;
          generated: any;
          scoredWith: string;
        },
    );
}

describe('routet2i collect', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  let tiny: TinyClip;
  let edge: ImagesApi;
  let cloud: ImagesApi;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const args = (out: string, ...more: string[]) => [
    'collect',
    '--prompts',
    'prompts.txt',
    '--edge',
    'openai-compatible',
    '--edge-url',
    edge.url,
    '--cloud',
    'openai',
    '--cloud-url',
    cloud.url,
    '--cloud-model',
    'gpt-image-2.6-flare',
    '--out',
    out,
    ...more,
  ];

  before(async () => {
    tiny = writeTinyClip(tmp());
    edge = await startImagesApi({ colour: colour('edge') });
    cloud = await startImagesApi({ key: KEY, refuse: /forbidden/, colour: colour('cloud') });
    env = { ROUTET2I_MODELS_DIR: tiny.dir, OPENAI_API_KEY: KEY };
  });
  beforeEach(() => {
    work = tmp();
    fs.writeFileSync(path.join(work, 'prompts.txt'), PROMPTS.join('\n') + '\n');
    // A flat price keeps the money figures round (the config in the current folder is read, as \`generate\` reads it).
    fs.writeFileSync(path.join(work, 'routet2i.config.yaml'), 'backends:\n  openai: { price: 0.04 }\n');
    edge.received.length = 0;
    cloud.received.length = 0;
    edge.onRequest = cloud.onRequest = undefined;
    edge.delayMs = cloud.delayMs = 0;
  });
  after(async () => {
    await edge?.close();
    await cloud?.close();
  });

  it('renders every prompt on both sides, scores both images and writes one pair per prompt', async () => {
    const r = await runCommand(args('pairs.jsonl', '--images', 'images', '--size', '512x512'), { cwd: work, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /Collecting 4 of 4 prompts: edge openai-compatible \(default\), cloud openai \(gpt-image-2.6-flare\); estimated cost \$0\.16\./,
    );
    assert.match(r.stderr, /\[4\/4\] p4 done — 0 s and \$0\.00 left \(\$0\.16 spent\)/);
    assert.match(r.stderr, /wrote 4 pairs to pairs\.jsonl in \d+ s; spent \$0\.16\./);
    const pairs = readPairs(path.join(work, 'pairs.jsonl'));
    assert.deepEqual(
      pairs.map((p) => [p.id, p.prompt]),
      PROMPTS.map((p, i) => [`p${i + 1}`, p]),
    );
    // both sides got the same prompt, seed and size
    assert.deepEqual(
      edge.received.map((b) => b.prompt),
      PROMPTS,
    );
    assert.deepEqual(
      edge.received.map((b) => b.seed),
      pairs.map((p) => p.generated.edge.seed),
    );
    assert.equal(edge.received[0]!.size, '512x512');
    assert.equal(new Set(edge.received.map((b) => b.seed)).size, 4);
    // the scores are the scorer's own on the served images
    const scorer = await MetricScorer.create({ modelsDir: tiny.dir });
    try {
      for (const p of pairs) {
        assert.deepEqual(p.edge, await scorer.score(await edge.imageFor(p.prompt), p.prompt));
        assert.deepEqual(p.cloud, await scorer.score(await cloud.imageFor(p.prompt), p.prompt));
        assert.deepEqual(
          Object.keys(p.edge),
          DEFAULT_METRICS.map((m) => m.id),
        );
      }
    } finally {
      await scorer.dispose();
    }
    assert.equal(pairs[0]!.generated.cloud.cost, 0.04);
    assert.equal(pairs[0]!.generated.edge.backend, 'openai-compatible');
    assert.equal(pairs[0]!.scoredWith, 'Xenova/clip-vit-base-patch32');
    assert.deepEqual(fs.readdirSync(path.join(work, 'images')).sort(), [
      'p1.cloud.png',
      'p1.edge.png',
      'p2.cloud.png',
      'p2.edge.png',
      'p3.cloud.png',
      'p3.edge.png',
      'p4.cloud.png',
      'p4.edge.png',
    ]);
  });

  it('resumes after Ctrl-C without duplicating or losing a pair', async () => {
    const controller = new AbortController();
    // Ctrl-C while the third prompt is being rendered
    cloud.delayMs = 50;
    cloud.onRequest = (b) => {
      if (b.prompt === PROMPTS[2]) setTimeout(() => controller.abort(), 10);
    };
    const first = await runCommand(args('pairs.jsonl'), { cwd: work, env, signal: controller.signal });
    assert.equal(first.code, 130, first.stderr);
    assert.match(first.stderr, /cancelled/);
    assert.deepEqual(
      readPairs(path.join(work, 'pairs.jsonl')).map((p) => p.id),
      ['p1', 'p2'],
    );
    cloud.onRequest = undefined;
    edge.received.length = 0;
    const second = await runCommand(args('pairs.jsonl'), { cwd: work, env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /Collecting 2 of 4 prompts \(2 already in pairs\.jsonl\)/);
    assert.deepEqual(
      edge.received.map((b) => b.prompt),
      PROMPTS.slice(2),
    );
    assert.deepEqual(
      readPairs(path.join(work, 'pairs.jsonl')).map((p) => p.id),
      ['p1', 'p2', 'p3', 'p4'],
    );
    // a third run has nothing to do
    const third = await runCommand(args('pairs.jsonl', '--json'), { cwd: work, env });
    assert.equal(third.code, 0);
    assert.deepEqual(JSON.parse(third.stdout), {
      out: 'pairs.jsonl',
      total: 4,
      already: 4,
      written: 0,
      failed: [],
      spent: 0,
      seconds: JSON.parse(third.stdout).seconds,
    });
  });

  it('cuts a torn last line left by a crash and carries on', async () => {
    const first = await runCommand(args('pairs.jsonl'), { cwd: work, env });
    assert.equal(first.code, 0);
    const file = path.join(work, 'pairs.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    // as if the process died while writing the fourth line
    fs.writeFileSync(file, lines.slice(0, 3).join('\n') + '\n' + lines[3]!.slice(0, 40));
    const again = await runCommand(args('pairs.jsonl'), { cwd: work, env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /cut off a torn last line \(40 bytes\)/);
    assert.match(again.stderr, /Collecting 1 of 4 prompts/);
    assert.deepEqual(
      readPairs(file).map((p) => p.id),
      ['p1', 'p2', 'p3', 'p4'],
    );
  });

  it('skips a refused prompt, reports it, and retries only it on the next run', async () => {
    fs.writeFileSync(
      path.join(work, 'prompts.jsonl'),
      ['a cat', 'a forbidden thing', 'a dog'].map((p, i) => JSON.stringify({ id: `x${i}`, prompt: p })).join('\n'),
    );
    const a = [...args('pairs.jsonl')];
    a[2] = 'prompts.jsonl';
    const r = await runCommand(a, { cwd: work, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[2\/3\] x1 failed: openai: the prompt was refused by the provider's safety system/);
    assert.match(r.stderr, /wrote 2 pairs .*1 failed \(run again to retry them\)/);
    assert.deepEqual(
      readPairs(path.join(work, 'pairs.jsonl')).map((p) => p.id),
      ['x0', 'x2'],
    );
    edge.received.length = 0;
    const again = await runCommand(a, { cwd: work, env });
    assert.equal(again.code, 1);
    assert.deepEqual(
      edge.received.map((b) => b.prompt),
      ['a forbidden thing'],
    );
  });

  it('stops at once on a wrong key, and before passing --max-cost', async () => {
    const denied = await runCommand(args('pairs.jsonl'), { cwd: work, env: { ...env, OPENAI_API_KEY: 'sk-wrong' } });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /routet2i collect: openai: .*(401|key)/i);
    assert.doesNotMatch(denied.stderr, /sk-wrong/);
    assert.equal(cloud.received.length, 0);
    const capped = await runCommand(args('capped.jsonl', '--max-cost', '0.1'), { cwd: work, env });
    assert.equal(capped.code, 1);
    assert.match(
      capped.stderr,
      /stopped: the next prompt would take spending past --max-cost \$0\.10 \(\$0\.08 spent\)/,
    );
    assert.equal(readPairs(path.join(work, 'capped.jsonl')).length, 2);
  });

  it('refuses a pairs file of other metrics or another prompt under the same id', async () => {
    fs.writeFileSync(
      path.join(work, 'old.jsonl'),
      JSON.stringify({ id: 'p1', prompt: 'something else', edge: { definition: 0.5 }, cloud: { definition: 0.6 } }) +
        '\n',
    );
    const metrics = await runCommand(args('old.jsonl'), { cwd: work, env });
    assert.equal(metrics.code, 1);
    assert.match(metrics.stderr, /old\.jsonl holds pairs scored on metrics definition, not definition, detail/);
    fs.writeFileSync(
      path.join(work, 'one.yaml'),
      '- {id: definition, label: Definition, positive: High definition photo., negative: Low definition photo.}\n',
    );
    const prompt = await runCommand(args('old.jsonl', '--metrics', 'one.yaml'), { cwd: work, env });
    assert.equal(prompt.code, 1);
    assert.match(prompt.stderr, /old\.jsonl has id "p1" for another prompt \("something else"\)/);
    assert.equal(edge.received.length, 0);
  });

  it('takes backends, their settings and the image size from the generation config file', async () => {
    fs.writeFileSync(
      path.join(work, 'routet2i.yaml'),
      [
        'edge: openai-compatible',
        'cloud: openai',
        'defaults: { width: 768, height: 512, negative: blurry }',
        'backends:',
        `  openai-compatible: { url: "${edge.url}" }`,
        `  openai: { url: "${cloud.url}", model: gpt-image-2.6-flare, price: 0.04 }`,
      ].join('\n'),
    );
    const r = await runCommand(
      ['collect', '--prompts', 'prompts.txt', '--config', 'routet2i.yaml', '--out', 'pairs.jsonl'],
      { cwd: work, env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readPairs(path.join(work, 'pairs.jsonl')).length, 4);
    assert.equal(edge.received[0]!.size, '768x512');
    assert.equal(edge.received[0]!.negative_prompt, 'blurry');
    const bad = await runCommand(
      ['collect', '--prompts', 'prompts.txt', '--config', 'prompts.txt', '--out', 'x.jsonl'],
      { cwd: work, env },
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /prompts\.txt: the config must be an object of settings/);
  });

  it('--select K renders only the K prompts that teach most: one of each kind first, the same K on every run', async () => {
    // Four kinds of prompt, three near-copies of each: the K = 4 that teach most cover the four kinds.
    const kinds = [
      ['a red cat on a sofa', 'a red cat on a couch', 'a red cat on a chair'],
      [
        'a wooden sign that says "OPEN ALL NIGHT", neon',
        'a wooden sign that says "CLOSED FOR LUNCH", neon',
        'a wooden sign that says "FRESH BREAD DAILY", neon',
      ],
      [
        'three apples and five oranges in two bowls',
        'four apples and six oranges in two bowls',
        'seven apples and two oranges in three bowls',
      ],
      [
        'portrait of an old fisherman with a weathered face, oil painting',
        'portrait of an old farmer with a weathered face, oil painting',
        'portrait of an old sailor with a weathered face, oil painting',
      ],
    ];
    const prompts = kinds.flat();
    fs.writeFileSync(path.join(work, 'prompts.txt'), prompts.join('\n') + '\n');
    const kindOf = (prompt: string) => kinds.findIndex((k) => k.includes(prompt));
    const r = await runCommand(args('pairs.jsonl', '--select', '4', '--json', '--size', '512x512'), { cwd: work, env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { selected: string[]; written: number };
    assert.equal(out.selected.length, 4);
    assert.equal(out.written, 4);
    const chosen = out.selected.map((id) => prompts[Number(id.slice(1)) - 1]!);
    assert.deepEqual(new Set(chosen.map(kindOf)), new Set([0, 1, 2, 3]), `one of each kind: ${chosen.join(' | ')}`);
    // Only those were rendered (both sides) and labelled, most informative first.
    assert.deepEqual(
      edge.received.map((b) => b.prompt),
      chosen,
    );
    assert.deepEqual(
      cloud.received.map((b) => b.prompt),
      chosen,
    );
    assert.deepEqual(
      readPairs(path.join(work, 'pairs.jsonl')).map((p) => p.id),
      out.selected,
    );

    // Deterministic: a second run picks the same four, finds them collected and renders nothing.
    const again = await runCommand(args('pairs.jsonl', '--select', '4'), { cwd: work, env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`Selected 4 of 12 prompts that teach most .*: ${out.selected.join(', ')}`));
    assert.match(again.stderr, /4 were there already/);
    assert.equal(edge.received.length, 4);
    // More than the file holds: every prompt, each once.
    const all = await runCommand(args('all.jsonl', '--select', '50', '--json'), { cwd: work, env });
    assert.equal(all.code, 0, all.stderr);
    assert.equal(new Set((JSON.parse(all.stdout) as { selected: string[] }).selected).size, 12);
    // --model guides --select only; a bad K is a usage error.
    for (const bad of [
      ['--model', 'default'],
      ['--select', '0'],
      ['--select', 'many'],
    ]) {
      const u = await runCommand(args('x.jsonl', ...bad), { cwd: work, env });
      assert.equal(u.code, 2, `${bad.join(' ')}: ${u.stderr}`);
      assert.doesNotMatch(u.stderr, /internal error|\n\s+at /);
    }
  });

  it('answers bad usage with exit 2 and bad settings with a one-line error', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['collect', '--prompts', 'prompts.txt', '--edge', 'comfyui', '--out', 'x.jsonl'], 2, /--cloud is required/],
      [args('x.jsonl', '--size', 'big'), 2, /--size must be WIDTHxHEIGHT/],
      [
        ['collect', '--prompts', 'prompts.txt', '--edge', 'nonesuch', '--cloud', 'openai', '--out', 'x.jsonl'],
        1,
        /nonesuch: unknown backend/,
      ],
      [
        [
          'collect',
          '--prompts',
          'missing.txt',
          '--edge',
          'openai-compatible',
          '--edge-url',
          'http://127.0.0.1:9',
          '--cloud',
          'openai',
          '--out',
          'x.jsonl',
        ],
        1,
        /missing\.txt: no such file/,
      ],
    ];
    for (const [argv, code, message] of cases) {
      const r = await runCommand(argv, { cwd: work, env });
      assert.equal(r.code, code, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    assert.ok(!fs.existsSync(path.join(work, 'x.jsonl')));
  });
});
