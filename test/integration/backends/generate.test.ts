import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePromptInput } from '../../../src/router/inputs';
import { calibrateAlpha } from '../../../src/router/policy';
import { defaultModelDir, Predictor } from '../../../src/router/predictor';
import { scorerLoaders } from '../../../src/cli/scorers';
import { startA1111 } from '../../fixtures/servers/a1111';
import { startComfy } from '../../fixtures/servers/comfyui';
import { startOpenAI } from '../../fixtures/servers/openai';
import { cli } from '../../support/cli';

/** `routet2i generate` end to end against loopback ComfyUI (edge) and OpenAI Images (cloud) servers. */

const KEY = 'sk-generate-test-0001';
const PROMPTS = `---
size: 512x512
steps: 4
seed: 42
---
portrait of an old fisherman with a weathered face, oil painting, dramatic lighting
negative: blurry, extra fingers

a young woman holding a bouquet of (red roses:1.2) in both hands, soft window light, 85mm

close-up of a chef's hands kneading dough, flour in the air, shallow depth of field

a wooden sign that says "OPEN ALL NIGHT" above a diner door, neon glow

a cat sitting on a windowsill, watercolor

a crowded night market in the rain, dozens of people with umbrellas, reflections on wet stones
`;

interface JsonOut {
  mode: string;
  alpha: number;
  prompts: {
    id: string;
    prompt: string;
    action: string;
    route: string | null;
    why: string;
    prs: number;
    cost: number;
    image: string | null;
    sidecar: string | null;
    backend: string | null;
    measured: Record<string, number> | null;
  }[];
  summary: {
    images: { edge: number; cloud: number };
    failed: number;
    spent: number;
    month: { spent: number; cap: number | null; left: number | null };
  };
}

describe('routet2i generate (loopback servers)', function () {
  this.timeout(60_000);
  let comfy: Awaited<ReturnType<typeof startComfy>>;
  let openai: Awaited<ReturnType<typeof startOpenAI>>;
  let cwd: string;
  let prs: number[];
  let reference: number[];
  /** A budget that gives a mixed batch with the shipped model (found from its predictions, not assumed). */
  let mixed: number;

  before(async () => {
    const predictor = await Predictor.load(defaultModelDir());
    const entries = parsePromptInput(PROMPTS, 'prompts.t2i').entries;
    prs = (await predictor.predict(entries.map((e) => e.prompt))).map((p) => p.prs);
    reference = predictor.prsReference;
    mixed = [0.3, 0.5, 0.7, 0.9, 0.2, 0.1].find((b) => {
      const a = calibrateAlpha([...reference, ...prs], b);
      const n = prs.filter((p) => p < a).length;
      return n > 0 && n < prs.length;
    })!;
    assert.ok(mixed !== undefined, 'the shipped model splits this batch at some budget');
  });
  beforeEach(async () => {
    comfy = await startComfy({ checkpoints: ['v1-5-pruned-emaonly.safetensors'] });
    openai = await startOpenAI({ key: KEY });
    cwd = mkdtempSync(join(tmpdir(), 'generate-'));
    writeFileSync(join(cwd, 'prompts.t2i'), PROMPTS);
  });
  afterEach(async () => {
    delete scorerLoaders.fixture;
    await comfy.server.close();
    await openai.server.close();
  });

  const base = () => [
    'generate',
    'prompts.t2i',
    '--edge',
    'comfyui',
    '--edge-url',
    comfy.server.url,
    '--cloud',
    'openai',
    '--cloud-url',
    openai.server.url,
  ];
  const env = { OPENAI_API_KEY: KEY };

  it('predict: routes by PRS and α, saves every image with its sidecar, and records the money', async () => {
    const r = await cli([...base(), '--budget', String(mixed), '--json'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    const alpha = calibrateAlpha([...reference, ...prs], mixed);
    assert.equal(out.alpha, alpha);
    assert.deepEqual(
      out.prompts.map((p) => p.route),
      prs.map((p) => (p < alpha ? 'cloud' : 'edge')),
    );
    const cloud = out.prompts.filter((p) => p.route === 'cloud').length;
    assert.ok(cloud > 0 && cloud < prs.length, `a mixed batch (cloud ${cloud} of ${prs.length})`);
    assert.equal(openai.server.to('POST', '/v1/images/generations').length, cloud);
    assert.equal(comfy.server.to('POST', '/prompt').length, prs.length - cloud);
    // The cloud got the words without the emphasis syntax; the edge kept it.
    const sent = openai.server.to('POST', '/v1/images/generations').map((q) => q.json.prompt as string);
    assert.ok(sent.every((t) => !/[()]|:1\.2/.test(t)));
    for (const p of out.prompts) {
      assert.ok(p.image && existsSync(p.image), `image for ${p.id}`);
      const side = JSON.parse(readFileSync(p.sidecar!, 'utf8'));
      assert.equal(side.prompt, p.prompt);
      assert.equal(side.route, p.route);
      assert.equal(side.why, p.why);
      assert.equal(side.mode, 'predict');
      assert.deepEqual(Object.keys(side.predicted).sort(), ['cloud', 'edge', 'pareto', 'prs']);
      assert.equal(side.seed, p.route === 'edge' ? 42 : null);
      assert.equal(side.size.width, 512);
      assert.equal(side.backend, p.route === 'edge' ? 'comfyui' : 'openai');
      assert.equal(typeof side.timings.totalMs, 'number');
      assert.equal(side.cost, p.route === 'cloud' ? 0.03193 : 0);
    }
    assert.ok(!readdirSync(join(cwd, 'generated')).some((f) => f.endsWith('.tmp')));
    const ledger = JSON.parse(readFileSync(join(cwd, '.routet2i', 'ledger.json'), 'utf8'));
    const month = Object.values(ledger.months)[0] as { entries: { cost: number }[]; reservations: object };
    assert.equal(month.entries.length, cloud);
    assert.deepEqual(month.reservations, {});
    assert.equal(out.summary.spent, Math.round(cloud * 0.03193 * 1e9) / 1e9);
    assert.deepEqual(out.summary.images, { edge: prs.length - cloud, cloud });
    assert.match(r.stderr, /\[1\/6\] p1: /);
  });

  it('a monthly cap in the config stops cloud calls; the rest render on the edge', async () => {
    writeFileSync(join(cwd, 'routet2i.config.yaml'), 'monthlyCap: 0.05\nfallback: edge\n');
    const r = await cli([...base(), '--budget', '1', '--json'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    assert.equal(out.summary.images.cloud, 1);
    assert.ok(out.prompts.some((p) => /money cap/.test(p.why)));
    assert.ok(out.summary.month.spent <= 0.05);
    assert.equal(openai.server.to('POST', '/v1/images/generations').length, 1);
  });

  it('--dry-run prints the plan and its cost; no request reaches any server and nothing is written', async () => {
    const r = await cli([...base(), '--budget', '1', '--dry-run'], { cwd, env: {} });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^plan \(predict, budget 100%, α \d\.\d\d\): 6 prompts → \d edge, \d cloud/);
    assert.match(r.stdout, /estimated cost \$0\.\d+; this month \$0\.00 spent \(no cap\)/);
    assert.match(r.stdout, /dry run: no request was sent/);
    assert.equal(comfy.server.requests.length, 0);
    assert.equal(comfy.clients.size, 0, 'no WebSocket either');
    assert.equal(openai.server.requests.length, 0);
    assert.deepEqual(readdirSync(cwd), ['prompts.t2i']);
  });

  it("renders a file's prompts on the backend its front matter names, in place of the run's one on that side", async () => {
    const a1111 = await startA1111();
    try {
      writeFileSync(
        join(cwd, 'other.t2i'),
        '---\nbackend: a1111\nsize: 512x512\n---\na lighthouse on a cliff at dawn, oil painting\n',
      );
      writeFileSync(join(cwd, 'routet2i.config.yaml'), `backends:\n  a1111: { url: "${a1111.server.url}" }\n`);
      const r = await cli([...base(), 'other.t2i', '--budget', '0', '--json'], { cwd, env });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as JsonOut;
      const other = out.prompts.find((p) => p.prompt.startsWith('a lighthouse'))!;
      // Several inputs: ids (and image names) carry the file's name.
      assert.equal(other.id, 'other-p1');
      assert.ok(out.prompts.filter((p) => p !== other).every((p) => /^prompts-p\d$/.test(p.id)));
      assert.ok(existsSync(join(cwd, 'generated', 'other-p1.png')));
      assert.equal(other.backend, 'a1111');
      assert.equal(other.route, 'edge');
      assert.ok(
        out.prompts.filter((p) => p !== other).every((p) => p.backend === 'comfyui'),
        "the other file keeps the run's edge",
      );
      assert.equal(a1111.server.to('POST', '/sdapi/v1/txt2img').length, 1);
      assert.equal(comfy.server.to('POST', '/prompt').length, prs.length);
      assert.equal(JSON.parse(readFileSync(other.sidecar!, 'utf8')).backend, 'a1111');
      // A name RouteT2I does not know is refused before anything runs, naming the file.
      writeFileSync(join(cwd, 'other.t2i'), '---\nbackend: dalle\n---\na fox\n');
      const bad = await cli([...base(), 'other.t2i', '--dry-run'], { cwd, env: {} });
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /other\.t2i: front matter "backend: dalle" is not a backend RouteT2I knows \(comfyui, a1111, /,
      );
    } finally {
      await a1111.server.close();
    }
  });

  it('cascade: measures edge images with the scorer and escalates those that fall short, within the share', async () => {
    const edgeBytes = comfy.png;
    scorerLoaders.fixture = async () => ({
      model: 'fixture-scorer',
      dispose: async () => undefined,
      // Edge images score low, cloud images high.
      scorer: async (image) => {
        const q = Buffer.from(image).equals(edgeBytes) ? 0.2 : 0.9;
        return Object.fromEntries(
          [
            'definition',
            'detail',
            'clarity',
            'sharpness',
            'harmony',
            'realism',
            'color',
            'consistency',
            'layout',
            'integrity',
            'alignment',
          ].map((m) => [m, q]),
        );
      },
    });
    writeFileSync(join(cwd, 'routet2i.config.json'), JSON.stringify({ cascade: { threshold: 0.5 } }));
    const r = await cli([...base(), '--mode', 'cascade', '--budget', '0.5', '--scorer', 'fixture', '--json'], {
      cwd,
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    assert.equal(comfy.server.to('POST', '/prompt').length, 6, 'every prompt renders on the edge first');
    assert.equal(out.summary.images.cloud, 3, 'ρ·n = 3 escalations');
    assert.ok(out.prompts.every((p) => p.action === 'cascade'));
    const escalated = out.prompts.find((p) => p.route === 'cloud')!;
    assert.match(escalated.why, /measured edge quality 0\.20 below the threshold 0\.50: escalated/);
    assert.ok(existsSync(join(cwd, 'generated', `${escalated.id}.edge.png`)), 'the replaced edge image is kept');
    const side = JSON.parse(readFileSync(escalated.sidecar!, 'utf8'));
    assert.equal(side.measured.definition, 0.9);
    assert.deepEqual(
      side.attempts.map((a: { side: string; role: string }) => `${a.side}:${a.role}`),
      ['edge:planned', 'cloud:escalation'],
    );
    assert.equal(side.attempts[0].measured.definition, 0.2);
    const kept = out.prompts.filter((p) => p.route === 'edge');
    assert.ok(kept.every((p) => /share budget/.test(p.why)));
  });

  it('honours "# route:" lines over the policy, and still books the cloud call in the ledger', async () => {
    const lines = PROMPTS.split('\n');
    const at = lines.findIndex((l) => l.startsWith('a cat sitting'));
    lines.splice(at, 0, '# route: cloud');
    writeFileSync(join(cwd, 'prompts.t2i'), lines.join('\n'));
    const r = await cli([...base(), '--budget', '0', '--json'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    const forced = out.prompts.find((p) => p.prompt.startsWith('a cat sitting'))!;
    assert.equal(forced.route, 'cloud');
    assert.match(forced.why, /"# route: cloud" in the file/);
    assert.deepEqual(out.summary.images, { edge: prs.length - 1, cloud: 1 });
    assert.ok(out.summary.spent > 0);
  });

  it('cascade without a scorer says so and keeps the edge images', async () => {
    const r = await cli([...base(), '--mode', 'cascade', '--scorer', 'none', '--json'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: no metric scorer is available, so cascade cannot measure edge images/);
    const out = JSON.parse(r.stdout) as JsonOut;
    assert.deepEqual(out.summary.images, { edge: 6, cloud: 0 });
    assert.equal(openai.server.requests.length, 0);
  });

  it('hybrid: cascades the uncertain prompts only', async () => {
    writeFileSync(join(cwd, 'routet2i.config.yaml'), 'hybrid:\n  band: 0.5\n');
    const r = await cli([...base(), '--mode', 'hybrid', '--budget', '0.5', '--scorer', 'none', '--json'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    // A band of 0.5 around α ≤ 0.5 covers every PRS in [0, 1]: all uncertain.
    assert.ok(out.prompts.every((p) => p.action === 'cascade'));
    writeFileSync(join(cwd, 'routet2i.config.yaml'), 'hybrid:\n  band: 0\n');
    const r2 = await cli([...base(), '--mode', 'hybrid', '--budget', '0.5', '--scorer', 'none', '--json'], {
      cwd,
      env,
    });
    const out2 = JSON.parse(r2.stdout) as JsonOut;
    assert.ok(out2.prompts.every((p) => p.action !== 'cascade' || Math.abs(p.prs - out2.alpha) === 0));
    assert.ok(out2.prompts.some((p) => p.action === 'edge'));
  });

  it('falls back to the edge when the cloud fails, as the policy says; the failed paid call stays booked', async () => {
    // A 5xx to a paid submit may hide a job that runs and is charged: one attempt per prompt, never repeated.
    for (let i = 0; i < 6; i++)
      openai.server.fault('POST', '/v1/images/generations', { status: 500, body: { error: { message: 'boom' } } });
    writeFileSync(join(cwd, 'routet2i.config.yaml'), 'backends:\n  openai: { retryDelayMs: 1 }\n');
    const r = await cli([...base(), '--budget', '1', '--json'], { cwd, env: { ...env } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    assert.equal(out.summary.images.cloud, 0);
    const failedOver = out.prompts.filter((p) =>
      /the cloud failed \(openai: POST \/v1\/images\/generations: HTTP 500 \(server error\): boom\), so the edge rendered it/.test(
        p.why,
      ),
    );
    assert.ok(failedOver.length > 0);
    assert.equal(
      openai.server.to('POST', '/v1/images/generations').length,
      failedOver.length,
      'no paid submit sent twice',
    );
    assert.match(r.stderr, /may have charged for the failed call .* stays booked at \$/);
    assert.match(r.stderr, /the cloud failed .* trying the edge/);
    assert.ok(failedOver.every((p) => p.cost > 0));
    assert.equal(out.summary.spent, Math.round(failedOver.reduce((a, p) => a + p.cost, 0) * 1e9) / 1e9);
  });

  it('a missing key is a one-line error before anything is sent', async () => {
    const r = await cli([...base(), '--budget', '1'], { cwd, env: {} });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'routet2i generate: openai: no API key: set OPENAI_API_KEY in the environment [no-key]',
    );
    assert.equal(comfy.server.requests.length + openai.server.requests.length, 0);
  });

  it('usage errors name the flag', async () => {
    const r = await cli(['generate', 'prompts.t2i', '--edge', 'midjourney'], { cwd });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--edge must be one of comfyui, a1111, openai-compatible, openai, stability, replicate, fal, bfl \(got "midjourney"\)/,
    );
    const r2 = await cli(['generate', 'prompts.t2i'], { cwd });
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /name an edge and\/or a cloud backend/);
    writeFileSync(join(cwd, 'bad.yaml'), 'budgett: 0.3\n');
    const r3 = await cli([...base(), '--config', 'bad.yaml'], { cwd, env });
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /bad\.yaml: unknown setting "budgett"/);
  });

  it('Ctrl-C cancels: the running prompt is interrupted on the server, exit 130, no half-written files', async () => {
    await comfy.server.close();
    comfy = await startComfy({ behaviour: 'hang' });
    const ctl = new AbortController();
    const watcher = setInterval(() => {
      if (comfy.server.to('POST', '/prompt').length) {
        clearInterval(watcher);
        setTimeout(() => ctl.abort(), 20);
      }
    }, 5);
    const r = await cli([...base(), '--budget', '0'], { cwd, env, signal: ctl.signal });
    clearInterval(watcher);
    assert.equal(r.code, 130, r.stderr);
    assert.equal(comfy.server.to('POST', '/interrupt').length, 1);
    const out = join(cwd, 'generated');
    assert.ok(!existsSync(out) || readdirSync(out).every((f) => !f.includes('.tmp')));
  });
});
