// The editor through a team's gateway: a real `routet2i serve` process on loopback (in front of loopback images APIs
// for its edge and cloud), the workspace's `routet2i.gateway.url` pointing at it, the gateway key stored with "Set
// Gateway Key…". Generate renders through the gateway and saves the image with its sidecar; the status bar, the
// verdict's α and the panel's Budget tab follow the team's month, which another member's spending moves too.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { clickWord, state, until, WORKSPACES } from './editorHelpers';
import { EXTENSION_ID } from './harness/environment';
import { useSession, type Session } from './harness/session';
import { GATEWAY_KEY, get, post, serveChild, writeGatewayConfig, type ChildGateway } from '../support/gateway';
import { startImagesApi, type ImagesApi } from '../support/imagesApi';

const PROVIDER_KEY = 'sk-provider-secret-123456';

/** The prompts of workspaces/prompts/portraits.t2i, each with a word to click in it. */
const PROMPTS = [
  { word: 'fisherman', text: 'portrait of an old fisherman with a weathered face, oil painting, dramatic lighting' },
  {
    word: 'bouquet',
    text: 'a young woman holding a bouquet of (red roses:1.2) in both hands, soft window light, 85mm',
  },
  { word: 'kneading', text: "close-up of a chef's hands kneading dough, flour in the air, shallow depth of field" },
  { word: 'diner', text: 'a wooden sign that says "OPEN ALL NIGHT" above a diner door, neon glow' },
  { word: 'windowsill', text: 'a cat sitting on a windowsill, watercolor' },
];

/** The panel's frame in its editor tab. */
async function panelFrame(s: Session): Promise<Frame> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const frame of s.workbench.webviewFrames(EXTENSION_ID)) {
      const found = await frame
        .locator('#app[data-host="panel"] [data-testid="routet2i-panel"]')
        .count()
        .catch(() => 0);
      if (found > 0) return frame;
    }
    if (Date.now() > deadline) throw new Error('no RouteT2I panel webview');
    await s.page.waitForTimeout(200);
  }
}

describe('the editor through a gateway', function () {
  let edge: ImagesApi;
  let cloud: ImagesApi;
  let gw: ChildGateway;
  let dir: string;
  before(async function () {
    this.timeout(60_000);
    edge = await startImagesApi({ colour: () => [40, 90, 60] });
    cloud = await startImagesApi({ key: PROVIDER_KEY, colour: () => [200, 120, 40] });
    dir = mkdtempSync(join(tmpdir(), 'routet2i-e2e-gw-'));
    writeGatewayConfig(dir, { edgeUrl: edge.url, cloudUrl: cloud.url, price: 0.04, monthlyCap: 1, budget: 0.3 });
    gw = await serveChild(dir, [], { OPENAI_API_KEY: PROVIDER_KEY });
  });
  after(async () => {
    await gw?.kill('SIGTERM');
    await edge?.close();
    await cloud?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const session = useSession({ label: 'editor-gateway', workspace: join(WORKSPACES, 'prompts'), examples: false });

  it("generates through the gateway and shows the team's month in the status bar and the Budget tab", async function () {
    this.timeout(180_000);
    const s = session();
    // Another member of the team spends first: one cloud image, $0.04 of the team's $1.00.
    const other = await post(`${gw.url}/v1/images/generations`, { prompt: 'a harbour at night', model: 'cloud' });
    assert.equal(other.status, 200, JSON.stringify(other.body));

    await s.workbench.openFile('portraits.t2i');
    await s.probe.waitReady();
    await s.workbench.setSetting('routet2i.gateway.url', gw.url);
    // Without the key the gateway refuses the month: the status bar says so.
    await s.workbench.statusBarItem(/routet2i\.verdict$/, /team's month unreadable/, 30_000);
    await s.workbench.runCommand('RouteT2I: Set Gateway Key…');
    await s.page.locator('.quick-input-widget input[type="password"]').fill(GATEWAY_KEY);
    await s.page.keyboard.press('Enter');
    await s.workbench.waitForNotification(/gateway key is stored/);

    // The team's month and the team's α, from the gateway: on a prompt the cloud is predicted to win, the verdict says
    // α, and it is the gateway's.
    const routed = (await post(`${gw.url}/v1/route`, { prompt: PROMPTS.map((p) => p.text) })).body as {
      prompts: Array<{ prs: number }>;
    };
    const cloudish = PROMPTS.find((_, i) => routed.prompts[i]!.prs < 0.5);
    assert.ok(cloudish, `a prompt with PRS < 0.5 among ${routed.prompts.map((p) => p.prs).join(', ')}`);
    await clickWord(s.page, cloudish.word);
    await s.workbench.statusBarItem(/routet2i\.verdict$/, /team \$0\.04 of \$1\.00 this month/, 30_000);
    const policy = (await get(`${gw.url}/v1/policy`)).body as { alpha: number };
    const tooltip = await until(
      s,
      (st) => st.status?.tooltip.includes('through the gateway') && /α \d/.test(st.status.tooltip) && st.status.tooltip,
      'the tooltip to show the gateway and α',
    );
    assert.match(
      tooltip,
      /The team's month through the gateway http:\/\/127\.0\.0\.1:\d+ \(\d{4}-\d{2}\): \$0\.04 spent; cap \$1\.00, \$0\.96 left; cloud share budget 30%/,
    );
    const alpha = Number(/α (\d\.\d+)/.exec(tooltip)![1]);
    assert.ok(Math.abs(alpha - policy.alpha) < 0.006, `the verdict's α ${alpha} is the gateway's ${policy.alpha}`);
    await s.screenshot('gateway-verdict');

    await clickWord(s.page, 'fisherman');
    // Generate on the cloud: through the gateway, saved with its sidecar, the gateway's route, why and cost shown.
    const edgeBefore = edge.received.length;
    await s.workbench.runCommand('RouteT2I: Generate on Cloud');
    await s.workbench.waitForNotification(
      /RouteT2I: 1 image through the gateway \(0 edge, 1 cloud\), \$0\.04 → generated — cloud: the request asked for model "cloud"/,
      60_000,
    );
    assert.equal(edge.received.length, edgeBefore, 'the edge was not asked');
    assert.equal(
      cloud.received.at(-1)!.prompt,
      'portrait of an old fisherman with a weathered face, oil painting, dramatic lighting',
    );
    const out = join(s.server.workspace, 'generated');
    const name = readdirSync(out).find((f) => /^portraits-p1-\d{8}-\d{6}\.json$/.test(f));
    assert.ok(name, `a sidecar in generated/: ${readdirSync(out).join(', ')}`);
    const sidecar = JSON.parse(readFileSync(join(out, name), 'utf8'));
    assert.equal(sidecar.route, 'cloud');
    assert.equal(sidecar.cost, 0.04);
    assert.equal(sidecar.gateway.url, `${gw.url}/`);
    assert.equal(sidecar.gateway.key, 'team');
    assert.deepEqual(readFileSync(join(out, sidecar.image)), Buffer.from(await cloud.imageFor(sidecar.prompt)));
    // Nothing was booked in the workspace: the gateway's ledger holds the money.
    assert.ok(!readdirSync(s.server.workspace).includes('.routet2i'), 'no local ledger');
    const month = (await get(`${gw.url}/v1/ledger`)).body as { spent: number; entries: unknown[] };
    assert.equal(month.spent, 0.08);
    assert.equal(month.entries.length, 2);
    await s.workbench.statusBarItem(/routet2i\.verdict$/, /team \$0\.08 of \$1\.00 this month/, 30_000);
    await s.workbench.outputChannel(
      'RouteT2I',
      /p1: cloud \(openai, gpt-image-2\.6-flare\) via the gateway in [\d.]+ s, \$0\.04/,
    );

    // The Budget tab shows the team's money and its ledger entries, newest first.
    await s.workbench.runCommand('RouteT2I: Open Panel');
    const frame = await panelFrame(s);
    await frame.locator('vscode-tab-header[data-tab="budget"]').click();
    const deadline = Date.now() + 20_000;
    let money = '';
    while (!/\$0\.08 spent/.test(money) && Date.now() < deadline) {
      money = await frame
        .locator('[data-testid="money"]')
        .innerText()
        .catch(() => '');
      if (!/\$0\.08 spent/.test(money)) await s.page.waitForTimeout(200);
    }
    assert.match(money, /\$0\.08 spent/);
    assert.match(money, /of \$1\.00/);
    assert.equal(await frame.locator('[data-testid="ledger"] tbody tr').count(), 2);
    await s.screenshot('gateway-budget');

    // The whole file in one command: each prompt routed by the team's policy (model auto), each saved with its sidecar.
    await s.workbench.runCommand('View: Focus First Editor Group');
    await s.workbench.runCommand('RouteT2I: Generate All Prompts in File');
    const batch = await s.workbench.waitForNotification(
      /RouteT2I: 5 images through the gateway \((\d) edge, (\d) cloud\), \$\d\.\d\d → generated/,
      90_000,
    );
    const [, edges, clouds] = /\((\d) edge, (\d) cloud\)/.exec(await batch.innerText())!;
    const sidecars = readdirSync(out)
      .filter((f) => /^portraits-p\d-\d{8}-\d{6}\.json$/.test(f) && f !== name)
      .map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as { route: string; gateway: { id: string } });
    assert.equal(sidecars.length, 5);
    assert.equal(sidecars.filter((x) => x.route === 'edge').length, Number(edges));
    assert.equal(sidecars.filter((x) => x.route === 'cloud').length, Number(clouds));
    assert.equal(new Set(sidecars.map((x) => x.gateway.id)).size, 5, 'one gateway request per prompt');

    // An error from the gateway is a clear message: a wrong key is refused with a way to fix it.
    await s.workbench.runCommand('RouteT2I: Set Gateway Key…');
    await s.page.locator('.quick-input-widget input[type="password"]').fill('gw-wrong-key-0123456789abcdef');
    await s.page.keyboard.press('Enter');
    await s.workbench.waitForNotification(/gateway key is stored/);
    await s.workbench.runCommand('View: Focus First Editor Group');
    await clickWord(s.page, 'fisherman');
    await s.workbench.runCommand('RouteT2I: Generate on Cloud');
    await s.workbench.waitForNotification(
      /RouteT2I: the gateway at .* refused the key .*Incorrect or missing API key.*Set Gateway Key/,
      30_000,
    );
    assert.ok(!(await s.workbench.notifications()).some((n) => n.includes('gw-wrong-key')), 'no key in a message');
    assert.equal((await state(s)).extension.restricted, false);
    await s.screenshot('gateway-wrong-key');
  });
});
