// The harness's own machinery, without a browser: process groups are reaped whole, and the probe's file protocol
// answers, reports errors and survives requests that arrive before it starts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveFileRpc } from '../e2e/companion/fileRpc';
import { ProbeClient } from '../e2e/harness/probe';
import { aptPlan } from '../e2e/harness/toolchain';
import { adoptGroup, groupMembers, ownProcessGroup, startGroup, stopGroup } from '../e2e/harness/processes';

describe('e2e harness', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'routet2i-harness-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('process groups', () => {
    before(function () {
      // The harness reads /proc; it runs where code-server from npm runs (Linux x64).
      if (process.platform !== 'linux') this.skip();
    });

    it('stops a leader and the children it left behind, including one that ignores SIGTERM', async () => {
      // The leader exits at once; its two children (one deaf to SIGTERM) stay in its group, as code-server's do.
      const script = "trap '' TERM; sleep 300 & sh -c 'trap \"\" TERM; sleep 300' & exit 0";
      const started = startGroup('sh', ['-c', script], { logFile: join(dir, 'log'), label: 'test group' });
      assert.equal(await started.exited, 0);
      await waitFor(() => groupMembers(started.pid).length >= 2);
      await stopGroup(started.pid, 300);
      assert.deepEqual(groupMembers(started.pid), []);
    });

    it('refuses to adopt its own process group', () => {
      assert.throws(() => adoptGroup(ownProcessGroup(), 'self'), /it is ours/);
    });
  });

  describe('system packages', () => {
    it('installs them itself only as root with apt-get, and otherwise says what to run', () => {
      assert.deepEqual(aptPlan(['chromium'], { root: true, aptGet: true }), { install: true });
      const user = aptPlan(['chromium', 'libkrb5-dev'], { root: false, aptGet: true });
      assert.equal(user.install, false);
      assert.match(
        (user as { message: string }).message,
        /chromium, libkrb5-dev are missing\. Run `sudo apt-get update && sudo apt-get install -y chromium libkrb5-dev`/,
      );
      const other = aptPlan(['chromium'], { root: true, aptGet: false });
      assert.match(
        (other as { message: string }).message,
        /chromium is missing\. Install chromium with your distribution's package manager/,
      );
    });
  });

  describe('probe file protocol', () => {
    it('answers typed requests and reports handler errors as errors', async () => {
      const server = serveFileRpc(
        dir,
        async (method, params) => {
          if (method === 'trust') return { isTrusted: false };
          if (method === 'configuration') return { value: (params as { key: string }).key, inspect: null };
          throw new Error(`no method ${method}`);
        },
        (message) => assert.fail(message),
      );
      try {
        const client = new ProbeClient(dir);
        assert.deepEqual(await client.call('trust', {}), { isTrusted: false });
        assert.deepEqual(await client.call('configuration', { key: 'routet2i.metric' }), {
          value: 'routet2i.metric',
          inspect: null,
        });
        await assert.rejects(
          client.call('editor', {}),
          /probe request "editor" failed in the extension host: no method editor/,
        );
      } finally {
        server.dispose();
      }
    });

    it('serves a request written before it started, and times out clearly when nobody serves', async () => {
      const client = new ProbeClient(dir);
      const early = client.call('trust', {}, 5000);
      await new Promise((r) => setTimeout(r, 100));
      const server = serveFileRpc(
        dir,
        async () => ({ isTrusted: true }),
        () => undefined,
      );
      try {
        assert.deepEqual(await early, { isTrusted: true });
      } finally {
        server.dispose();
      }
      await assert.rejects(client.call('trust', {}, 200), /did not answer probe request "trust" within 200 ms/);
    });
  });
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}
