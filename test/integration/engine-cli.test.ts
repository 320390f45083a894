import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../support/runCommand';
import { syntheticPairs, toJsonl } from '../support/pairs';
import { tempDirs } from '../support/tmp';

const ROOT = path.resolve(__dirname, '../..');

interface RouteJson {
  model: string;
  budget: number;
  alpha: number;
  cloudShare: number;
  promptsPerSecond: number;
  prompts: Array<{
    id: string;
    prompt: string;
    negative?: string;
    source: { file: string; start: number; end: number; line: number };
    edge: Record<string, number>;
    cloud: Record<string, number>;
    prs: number;
    pareto: string;
    route: 'edge' | 'cloud';
    reason: string;
    tokens: Array<{
      text: string;
      start: number;
      end: number;
      impact: Record<string, number>;
      cloudGain: Record<string, number>;
    }>;
  }>;
}

describe('routet2i route / train / eval', function () {
  this.timeout(120_000);
  const tmp = tempDirs();

  it('routes the example files with the documented JSON shape and exact ranges', async () => {
    const files = ['examples/portraits.t2i'];
    const r = await runCommand(['route', ...files, '--json', '--budget', '0.4'], { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as RouteJson;
    assert.equal(out.model, 'default');
    assert.equal(out.budget, 0.4);
    assert.ok(out.alpha > 0 && out.alpha <= 0.5);
    assert.ok(out.prompts.length >= 5);
    const cloud = out.prompts.filter((p) => p.route === 'cloud');
    assert.equal(out.cloudShare, cloud.length / out.prompts.length);
    assert.ok(
      cloud.every((p) => p.prs < out.alpha),
      'the cloud gets only prompts below α',
    );
    assert.ok(out.prompts.filter((p) => p.route === 'edge').every((p) => p.prs >= out.alpha));
    const text = readFileSync(path.join(ROOT, files[0]!), 'utf8');
    for (const p of out.prompts) {
      assert.equal(text.slice(p.source.start, p.source.end), p.prompt);
      assert.ok(p.prs >= 0 && p.prs <= 1);
      assert.ok(['cloud-dominates', 'edge-dominates', 'incomparable', 'equal'].includes(p.pareto));
      for (const m of ['quality', 'alignment']) assert.ok(p.edge[m]! > 0 && p.cloud[m]! < 1);
      for (const t of p.tokens) {
        assert.equal(p.prompt.slice(t.start, t.end), t.text);
        assert.deepEqual(Object.keys(t.impact).sort(), ['alignment', 'quality']);
      }
    }
    assert.equal(out.prompts[0]!.negative, 'blurry, extra fingers');
  });

  it('prints per prompt the estimates, PRS, Pareto relation, route and weak tokens', async () => {
    const r = await runCommand(['route', 'examples/portraits.t2i'], { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /examples\/portraits\.t2i:\d+ {2}"portrait of an old fisherman/);
    assert.match(r.stdout, /\n {2}edge {3}quality \d\.\d\d {2}alignment \d\.\d\d\n {2}cloud {2}quality/);
    assert.match(r.stdout, /PRS \d\.\d\d · .* · → (edge|cloud): /);
    assert.match(r.stdout, /weak tokens: /);
    assert.match(
      r.stdout,
      /\d+ prompts · budget 30% cloud \(target\) · α \d\.\d\d · cloud share \d+% \(\d+\) · [\d,]+ prompts\/s · model default/,
    );
  });

  it('reads CRLF text, odd Unicode, standard input, tsv, csv and jsonl', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'crlf.t2i'),
      '# c\r\n\r\nа кот 🐈 (e\u0301te\u0301:1.2)\r\nnegative: x\r\n\r\nמגדלור בלילה\r\n',
    );
    writeFileSync(path.join(dir, 'p.csv'), 'id,prompt\n1,"a red cat, sitting"\n');
    writeFileSync(path.join(dir, 'p.jsonl'), '{"prompt":"a dog"}\n');
    const r = await runCommand(['route', 'crlf.t2i', 'p.csv', 'p.jsonl', '-', '--json'], {
      cwd: dir,
      stdin: 'from stdin\n\nanother\n',
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as RouteJson;
    assert.deepEqual(
      out.prompts.map((p) => p.prompt),
      ['а кот 🐈 (e\u0301te\u0301:1.2)', 'מגדלור בלילה', 'a red cat, sitting', 'a dog', 'from stdin', 'another'],
    );
    const text = readFileSync(path.join(dir, 'crlf.t2i'), 'utf8');
    assert.equal(text.slice(out.prompts[1]!.source.start, out.prompts[1]!.source.end), 'מגדלור בלילה');
    assert.deepEqual(
      out.prompts[0]!.tokens.map((t) => t.text),
      ['а', 'кот', '🐈', 'e\u0301te\u0301'],
    );
  });

  it('keeps a large batch within its cloud budget', async () => {
    const dir = tmp();
    const subjects = [
      'a cat',
      'two women dancing',
      'a sign that says "hello"',
      'a red car',
      'an old man reading',
      'a bowl of fruit',
      'a castle at dusk',
      'a child with a kite',
    ];
    const styles = ['oil painting', 'photo', 'watercolor', '3d render', 'close-up', 'at night', 'in the rain', 'anime'];
    const lines = subjects.flatMap((s) =>
      styles.flatMap((t) => [`${s}, ${t}`, `${s} in a field, ${t}, highly detailed`]),
    );
    writeFileSync(path.join(dir, 'many.txt'), lines.join('\n'));
    const r = await runCommand(['route', 'many.txt', '--json', '--budget', '0.25'], { cwd: dir });
    const out = JSON.parse(r.stdout) as RouteJson;
    assert.equal(out.prompts.length, 128);
    // α comes from the 101-point reference sample plus these 128 prompts: at most ⌊0.25·229⌋ values lie below it.
    assert.ok(out.cloudShare <= Math.floor(0.25 * 229) / 128, `cloud share ${out.cloudShare}`);
    assert.ok(out.cloudShare > 0);
  });

  it('routes a 1 MB prompt file', async () => {
    const dir = tmp();
    const line = 'a lighthouse on a cliff at dusk, (dramatic sky:1.2), oil painting\n';
    writeFileSync(path.join(dir, 'big.txt'), line.repeat(Math.ceil(1_048_576 / line.length)));
    const r = await runCommand(['route', 'big.txt', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as RouteJson).prompts.length, Math.ceil(1_048_576 / line.length));
  });

  it('gives one-line errors and the documented exit codes for bad input', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'empty.t2i'), '\n\n# only a comment\n');
    writeFileSync(
      path.join(dir, 'image.txt'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    );
    writeFileSync(path.join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    mkdirSync(path.join(dir, 'folder.t2i'));
    const cases: Array<[string[], number, RegExp]> = [
      [['route', 'empty.t2i'], 1, /empty\.t2i: no prompts found \(a \.t2i file holds prompts/],
      [['route', 'image.txt'], 1, /image\.txt: this looks like a binary file/],
      [['route', 'latin1.txt'], 1, /latin1\.txt: the file is not valid UTF-8/],
      [['route', 'missing.t2i'], 1, /missing\.t2i: no such file/],
      [['route', 'folder.t2i'], 1, /folder\.t2i: is a folder/],
      [['route', 'notes.docx'], 1, /unknown prompt file type "\.docx"/],
      [['route', 'empty.t2i', '--budget', '2'], 2, /--budget must be a number from 0 to 1/],
      [['route'], 2, /name at least one prompt file/],
      [['route', 'x.t2i', '--frobnicate'], 2, /Unknown option '--frobnicate'/],
      [['route', 'x.t2i', '--model', 'nowhere'], 1, /nowhere: no predictor here/],
      [['fly'], 2, /unknown command "fly"/],
      [['eval'], 2, /--data PAIRS is required/],
      [['train', '--data', 'p.jsonl'], 2, /--out DIR is required/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await runCommand(argv, { cwd: dir });
      assert.equal(r.code, code, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, argv.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      if (code === 1) assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  });

  it('has --help for every command', async () => {
    for (const c of ['route', 'train', 'eval', 'score', 'collect', 'generate']) {
      const r = await runCommand([c, '--help'], { cwd: ROOT });
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: routet2i ${c}`));
    }
    const main = await runCommand(['--help'], { cwd: ROOT });
    assert.match(main.stdout, /route .*\n.*train/s);
  });

  it('trains on a pairs file, then routes and evaluates with the result', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'pairs.jsonl'), toJsonl(syntheticPairs(120, 5)));
    const t = await runCommand(
      [
        'train',
        '--data',
        'pairs.jsonl',
        '--out',
        'mine',
        '--head',
        'network',
        '--epochs',
        '100',
        '--folds',
        '3',
        '--json',
      ],
      { cwd: dir },
    );
    assert.equal(t.code, 0, t.stderr);
    const report = JSON.parse(t.stdout);
    assert.equal(report.pairs, 120);
    assert.ok(report.evaluation.routers.routet2i.apgr > 0.6, JSON.stringify(report.evaluation.routers));
    const card = readFileSync(path.join(dir, 'mine', 'README.md'), 'utf8');
    assert.match(card, /# Model card: mine/);
    // 120 pairs: the epochs come from 3 folds, then a final fit on every pair; the card says so, as model.json records.
    assert.match(
      card,
      /epochs chosen on the mean validation curve of 3 folds \(\d+ epochs, best (\d+)\), then the final model trained on all 120 pairs for \1 epochs/,
    );
    assert.equal(
      JSON.parse(readFileSync(path.join(dir, 'mine', 'model.json'), 'utf8')).training.stopping,
      'cross-validated',
    );
    const again = await runCommand(['train', '--data', 'pairs.jsonl', '--out', 'mine'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a predictor \(pass --force/);

    // A budget just above the share of person prompts in the training data (40%): they go first.
    const r = await runCommand(['route', '-', '--model', 'mine', '--json', '--budget', '0.45'], {
      cwd: dir,
      stdin: 'a man with a small boat, photo\na small boat, photo\n',
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as RouteJson;
    assert.equal(out.model, 'mine');
    assert.deepEqual(
      out.prompts.map((p) => p.route),
      ['cloud', 'edge'],
    );

    const e = await runCommand(['eval', '--data', 'pairs.jsonl', '--model', 'mine', '--json'], { cwd: dir });
    assert.equal(e.code, 0, e.stderr);
    const ev = JSON.parse(e.stdout);
    assert.deepEqual(Object.keys(ev.routers).sort(), ['length', 'oracle', 'random', 'routet2i']);
    assert.equal(ev.n, 120);
  });

  it('cross-validates any pairs file with --folds and prints a table', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'pairs.jsonl'), toJsonl(syntheticPairs(60, 9)));
    const j = await runCommand(['eval', '--data', 'pairs.jsonl', '--folds', '3', '--seed', '4', '--json'], {
      cwd: dir,
    });
    assert.equal(j.code, 0, j.stderr);
    const ev = JSON.parse(j.stdout);
    assert.equal(ev.folds.k, 3);
    assert.ok(ev.routers.routet2i.apgr > ev.routers.random.apgr);
    for (const r of Object.values(ev.routers) as Array<Record<string, number>>)
      for (const k of ['apgr', 'cpt50', 'pgr50']) assert.ok(Number.isFinite(r[k]));
    const h = await runCommand(['eval', '--data', 'pairs.jsonl', '--folds', '3'], { cwd: dir });
    assert.match(
      h.stdout,
      /60 pairs · quality = mean of quality, alignment · 3-fold cross-validation \(seed 1\)\nrouter +APGR +CPT\(50%\) +PGR\(50%\) +APGR per fold\nroutet2i/,
    );
  });

  it('refuses malformed pairs files with the line at fault', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'bad.jsonl'), '{"id":"a","prompt":"x","edge":{"q":0.5},"cloud":{"q":1.5}}\n');
    const r = await runCommand(['eval', '--data', 'bad.jsonl'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.jsonl:1: cloud\.q must be a score from 0 to 1 \(got 1\.5\)/);
    writeFileSync(path.join(dir, 'torn.jsonl'), toJsonl(syntheticPairs(3)) + '{"id":"x","prompt":"a ca');
    const t = await runCommand(['train', '--data', 'torn.jsonl', '--out', 'm'], { cwd: dir });
    assert.equal(t.code, 1);
    assert.match(t.stderr, /torn\.jsonl:4: not valid JSON \(the file may have been cut off/);
  });
});
