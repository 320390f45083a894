import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOpenAI } from '../../fixtures/servers/openai';
import {
  get,
  post,
  serveChild,
  serveInProcess,
  until,
  writeGatewayConfig,
  type ChildGateway,
  type InProcessGateway,
} from '../../support/gateway';
import { usePostgres } from '../../support/postgres';
import type { TestServer } from '../../support/server';

/**
 * Gateway replicas sharing one budget on PostgreSQL, in front of loopback providers that speak OpenAI's Images API
 * and charge $0.04 for every image they answer (test/fixtures/servers/openai.ts). The rule checked throughout: the
 * provider never charges past the cap, and the ledger always holds at least what was charged, each call once.
 */
describe('gateway replicas on PostgreSQL', function () {
  this.timeout(120_000);
  const cluster = usePostgres();
  let edge: { server: TestServer };
  let cloud: { server: TestServer };
  let n = 0;
  const running: (InProcessGateway | ChildGateway)[] = [];
  const charged = () =>
    cloud.server.to('POST', '/v1/images/generations').filter((r) => r.json?.prompt !== undefined).length;

  before(async () => {
    edge = await startOpenAI();
    cloud = await startOpenAI({ key: 'sk-provider-secret-123456' });
  });
  afterEach(async () => {
    for (const g of running.splice(0)) {
      if ('kill' in g) await g.kill('SIGTERM');
      else await g.stop();
    }
  });
  after(async () => {
    await edge?.server.close();
    await cloud?.server.close();
  });

  async function replicas(
    count: number,
    cap: number,
    extra: string[] = [],
  ): Promise<{ url: string; gateways: InProcessGateway[] }> {
    const url = await cluster().database(`gw_${++n}`);
    const gateways: InProcessGateway[] = [];
    for (let i = 0; i < count; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'routet2i-gw-'));
      writeGatewayConfig(dir, {
        edgeUrl: edge.server.url,
        cloudUrl: cloud.server.url,
        monthlyCap: cap,
        fallback: 'none',
      });
      const g = await serveInProcess(dir, ['--ledger', url, ...extra]);
      running.push(g);
      gateways.push(g);
    }
    return { url, gateways };
  }

  it('two replicas, 40 concurrent cloud requests under a $0.40 cap: 10 images, 30 refusals, no overspend, each booked once', async () => {
    const { gateways } = await replicas(2, 0.4);
    const before = charged();
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(`${gateways[i % 2]!.url}/v1/images/generations`, { prompt: `lighthouse ${i}`, model: 'cloud' }),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(
      [statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 402).length],
      [10, 30],
      JSON.stringify(replies.filter((r) => r.status !== 200 && r.status !== 402).map((r) => r.body)),
    );
    assert.equal(charged() - before, 10, 'the provider was called only for what the cap allows');
    for (const g of gateways) {
      const l = (await get(`${g.url}/v1/ledger`)).body;
      assert.equal(l.spent, 0.4);
      assert.equal(l.reserved, 0);
      assert.equal(l.entries.length, 10);
      assert.equal(new Set(l.entries.map((e: { note: string }) => e.note)).size, 10, 'no call booked twice');
    }
  });

  it('a replica killed mid-call: the other settles its reservation at the estimate once its lease lapses', async () => {
    const url = await cluster().database(`gw_${++n}`);
    const dirA = mkdtempSync(join(tmpdir(), 'routet2i-gw-'));
    const dirB = mkdtempSync(join(tmpdir(), 'routet2i-gw-'));
    writeGatewayConfig(dirA, { edgeUrl: edge.server.url, cloudUrl: cloud.server.url, monthlyCap: 1 });
    writeGatewayConfig(dirB, { edgeUrl: edge.server.url, cloudUrl: cloud.server.url, monthlyCap: 1 });
    const a = await serveChild(dirA, ['--ledger', url, '--lease', '1']);
    running.push(a);
    const b = await serveInProcess(dirB, ['--ledger', url, '--lease', '1']);
    running.push(b);
    cloud.server.fault('POST', '/v1/images/generations', 'hang');
    const before = charged();
    const pending = post(`${a.url}/v1/images/generations`, {
      prompt: 'a call that never comes back',
      model: 'cloud',
    }).catch((e: Error) => e);
    await until(() => charged() > before, 'the provider to receive the call');
    const reserved = (await get(`${b.url}/v1/ledger`)).body;
    assert.equal(reserved.reserved, 0.04, 'the call is reserved while it runs');
    await a.kill('SIGKILL');
    assert.ok((await pending) instanceof Error, 'the client lost its connection');
    const settled = await until(async () => {
      const l = (await get(`${b.url}/v1/ledger`)).body;
      return l.entries.length === 1 ? l : undefined;
    }, "the survivor to settle the dead replica's reservation");
    assert.equal(settled.reserved, 0);
    assert.equal(settled.spent, 0.04);
    assert.equal(settled.entries[0].reconciled, true);
    assert.match(b.log(), /lease lapsed counted as spent/);
  });

  it('the database restarted mid-run: every request answered, every charge booked once, nothing left reserved', async () => {
    const { gateways } = await replicas(2, 10);
    const before = charged();
    let restarted = false;
    const client = async (k: number) => {
      const out: number[] = [];
      for (let i = 0; i < 6; i++) {
        if (k === 0 && i === 2) {
          await cluster().restart('immediate');
          restarted = true;
        }
        out.push(
          (await post(`${gateways[k % 2]!.url}/v1/images/generations`, { prompt: `p${k}-${i}`, model: 'cloud' }))
            .status,
        );
      }
      return out;
    };
    const statuses = (await Promise.all(Array.from({ length: 6 }, (_, k) => client(k)))).flat();
    assert.ok(restarted);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'every request waited for the database and succeeded',
    );
    const calls = charged() - before;
    assert.equal(calls, 36);
    const l = (await get(`${gateways[1]!.url}/v1/ledger`)).body;
    assert.equal(l.reserved, 0);
    assert.equal(l.entries.length, calls);
    assert.equal(l.spent, Math.round(calls * 0.04 * 1e9) / 1e9);
    assert.equal((await get(`${gateways[0]!.url}/healthz`, null)).status, 200);
  });
});
