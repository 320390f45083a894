import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../../src/backends/registry';
import type { Backend } from '../../../src/backends/types';
import { collectPairs, type CollectOptions } from '../../../src/generation/collect';
import { Ledger } from '../../../src/generation/ledger';
import type { PromptEntry } from '../../../src/router/types';
import { RouteT2IError } from '../../../src/router/errors';
import { startA1111 } from '../../fixtures/servers/a1111';
import { startOpenAI } from '../../fixtures/servers/openai';
import { trainFromPairs } from '../../../src/extension/calibrate/calibrationTrain';
import { calibrationFor, modelId } from '../../../src/router/learning/modelPair';
import { loadModel } from '../../../src/router/model/format';
import { fast, testDeps } from '../../support/deps';
import type { TestServer } from '../../support/server';

/** collectPairs under the money rule: the ledger's cap, --max-cost on booked money, one run per pairs file, unique names. */

const KEY = 'sk-collect-money-0001';
const SUBMIT = '/v1/images/generations';

function entries(ids: string[]): PromptEntry[] {
  return ids.map((id, i) => ({
    id,
    prompt: `prompt number ${i + 1}, a quiet harbour`,
    source: { file: 'prompts.jsonl', start: 0, end: 0, line: i },
    settings: {},
  }));
}

describe('collect under the money rule (loopback)', function () {
  this.timeout(30_000);
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  async function sides(): Promise<{ edge: Backend; cloud: Backend; edgeServer: TestServer; cloudServer: TestServer }> {
    const e = await startOpenAI();
    const c = await startOpenAI({ key: KEY });
    open.push(e.server, c.server);
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    return {
      edge: createBackend('openai-compatible', fast(e.server.url, { side: 'edge' }), deps.secrets, deps),
      cloud: createBackend(
        'openai',
        fast(c.server.url, { model: 'gpt-image-2.6-flare', price: 0.04, retries: 0 }),
        deps.secrets,
        deps,
      ),
      edgeServer: e.server,
      cloudServer: c.server,
    };
  }

  async function options(
    over: Partial<CollectOptions> & Pick<CollectOptions, 'edge' | 'cloud' | 'entries'>,
  ): Promise<CollectOptions> {
    const dir = mkdtempSync(join(tmpdir(), 'collect-money-'));
    return {
      score: async () => ({ definition: 0.5 }),
      metrics: ['definition'],
      scorerModel: 'test',
      out: join(dir, 'pairs.jsonl'),
      width: 512,
      height: 512,
      ledger: (await Ledger.open({ file: join(dir, '.routet2i', 'ledger.json'), monthlyCap: null })).ledger,
      ...over,
    };
  }

  it("respects the ledger's monthly cap: the provider is never asked past it", async () => {
    const s = await sides();
    const dir = mkdtempSync(join(tmpdir(), 'collect-cap-'));
    const { ledger } = await Ledger.open({ file: join(dir, 'ledger.json'), monthlyCap: 0.1 });
    const o = await options({ ...s, entries: entries(['a', 'b', 'c', 'd', 'e']), ledger });
    const summary = await collectPairs(o);
    assert.equal(s.cloudServer.to('POST', SUBMIT).length, 2);
    assert.equal(summary.written, 2);
    assert.match(summary.stopped ?? '', /monthly money cap/);
    assert.equal(
      s.edgeServer.to('POST', SUBMIT).length,
      2,
      'a prompt the cap refuses is not rendered on the edge either',
    );
    assert.equal((await ledger.status()).spent, 0.08);
  });

  it('--max-cost counts booked calls, failed ones included', async () => {
    const s = await sides();
    for (let i = 0; i < 5; i++) s.cloudServer.fault('POST', SUBMIT, { status: 200, body: { created: 1 } });
    const o = await options({ ...s, entries: entries(['a', 'b', 'c', 'd', 'e']), maxCost: 0.1 });
    const summary = await collectPairs(o);
    assert.equal(summary.written, 0);
    assert.equal(summary.spent, 0.08, 'two failed calls the provider may have charged');
    assert.match(summary.stopped ?? '', /--max-cost \$0\.10 \(\$0\.08 spent\)/);
    assert.equal(s.cloudServer.to('POST', SUBMIT).length, 2);
    assert.equal((await o.ledger!.status()).spent, 0.08);
  });

  it('refuses a paid side without a ledger', async () => {
    const s = await sides();
    const o = await options({ ...s, entries: entries(['a']) });
    delete o.ledger;
    await assert.rejects(collectPairs(o), (e: RouteT2IError) => e.code === 'no-ledger');
    assert.equal(s.cloudServer.requests.length, 0);
  });

  it('two runs on one pairs file: the second refuses while the first writes, and no prompt is paid twice', async () => {
    const s = await sides();
    s.edgeServer.fault('POST', SUBMIT, 'hang');
    const o = await options({ ...s, entries: entries(['a', 'b']) });
    const stop = new AbortController();
    const first = collectPairs({ ...o, signal: stop.signal }).catch((e: Error) => e);
    // The first run holds the file once it has sent its first prompt.
    while (s.edgeServer.to('POST', SUBMIT).length === 0) await new Promise((r) => setImmediate(r));
    await assert.rejects(
      collectPairs(o),
      (e: RouteT2IError) => e.code === 'pairs-busy' && /pairs\.jsonl is being written by process \d+/.test(e.message),
    );
    assert.equal(s.cloudServer.to('POST', SUBMIT).length, 1, 'the second run sent nothing');
    stop.abort();
    await first;
    assert.equal(existsSync(`${o.out}.lock`), false, 'the lock goes with the run');
    const again = await collectPairs(o);
    assert.equal(again.written, 2);
  });

  it('ids that clean to the same file name keep their own images, and the summary says which is whose', async () => {
    const s = await sides();
    const ids = ['cat/1', 'cat_1', 'ﬁsh', 'fish'];
    const o = await options({ ...s, entries: entries(ids) });
    const dir = join(o.out, '..', 'images');
    const summary = await collectPairs({ ...o, imagesDir: dir });
    assert.equal(readdirSync(dir).length, 8);
    const names = ids.flatMap((id) => [summary.images![id]!.edge, summary.images![id]!.cloud]);
    assert.equal(new Set(names).size, 8);
    assert.equal(summary.images!['cat_1']!.edge, 'cat_1.edge.png');
    const pairs = readFileSync(o.out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; generated: { images: { edge: string } } });
    assert.deepEqual(
      pairs.map((p) => [p.id, p.generated.images.edge]),
      ids.map((id) => [id, summary.images![id]!.edge]),
    );
  });

  it('records the pair as configured, so a predictor calibrated on it is "calibrated" though the server names its model otherwise', async () => {
    // AUTOMATIC1111 with no checkpoint set renders with whatever is loaded and reports its file name.
    const a1111 = await startA1111();
    open.push(a1111.server);
    const s = await sides();
    const { deps } = testDeps({ OPENAI_API_KEY: KEY });
    const edge = createBackend('a1111', fast(a1111.server.url, { side: 'edge' }), deps.secrets, deps);
    const o = await options({ edge, cloud: s.cloud, entries: entries(['a', 'b', 'c', 'd']) });
    let n = 0;
    // Scores that differ by prompt, so there is something to train on.
    await collectPairs({ ...o, score: async () => ({ definition: 0.2 + 0.1 * (n++ % 5) }) });
    const pairs = readFileSync(o.out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { models: unknown; generated: { edge: { model: string } } });
    const configured = { edge: modelId(edge.name, edge.model), cloud: modelId(s.cloud.name, s.cloud.model) };
    assert.equal(configured.edge, 'a1111:current checkpoint');
    assert.equal(pairs[0]!.generated.edge.model, 'v1-5-pruned-emaonly', 'what the server reported is kept');
    for (const p of pairs) assert.deepEqual(p.models, configured);
    // Calibration trains on exactly this file; the editor compares the predictor's pair with the configured one.
    const outDir = join(o.out, '..', 'model');
    await trainFromPairs({ pairsFile: o.out, outDir, name: 'calibrated', folds: 0 });
    const { file } = await loadModel(outDir);
    assert.deepEqual(calibrationFor(file, configured), { calibrated: true, pair: configured });
    assert.equal(calibrationFor(file, { ...configured, edge: 'a1111:sd_xl_base_1.0' }).calibrated, false);
  });
});
