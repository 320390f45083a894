import assert from 'node:assert/strict';
import {
  answerRequest,
  isHostMessage,
  isRequestMessage,
  notification,
  RequestFailedError,
  RequestTimeoutError,
  RpcClient,
  type RequestHandlers,
  type RequestMessage,
  type Timers,
} from '../../../src/shared/panel/protocol';

/** A clock the test advances by hand. */
function fakeTimers(): Timers & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    setTimeout(callback, ms) {
      const id = next++;
      timers.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at <= now) {
          timers.delete(id);
          t.callback();
        }
      }
    },
    pending: () => timers.size,
  };
}

function client(timeoutMs = 1000) {
  const sent: RequestMessage[] = [];
  const timers = fakeTimers();
  const rpc = new RpcClient({ post: (m) => sent.push(m), timeoutMs, timers, timeouts: { gallery: 5000 } });
  return { rpc, sent, timers };
}

describe('panel protocol: the webview client', () => {
  it('matches replies to requests by id, whatever their order', async () => {
    const { rpc, sent } = client();
    const budget = rpc.request('budget', {});
    const metric = rpc.request('setMetric', { metric: 'quality' });
    assert.deepEqual(
      sent.map((m) => [m.kind, m.method]),
      [
        ['request', 'budget'],
        ['request', 'setMetric'],
      ],
    );
    assert.notEqual(sent[0]!.id, sent[1]!.id);
    assert.equal(rpc.receive({ kind: 'response', id: sent[1]!.id, ok: true, result: null }), true);
    assert.equal(rpc.receive({ kind: 'response', id: sent[0]!.id, ok: true, result: { month: '2026-11' } }), true);
    assert.equal(await metric, null);
    assert.deepEqual(await budget, { month: '2026-11' });
    assert.equal(rpc.inFlight, 0);
  });

  it('rejects a request the host does not answer in time, and ignores the late reply', async () => {
    const { rpc, sent, timers } = client(1000);
    const pending = rpc.request('calibration', {});
    timers.advance(999);
    assert.equal(rpc.inFlight, 1);
    timers.advance(1);
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof RequestTimeoutError && e.method === 'calibration' && /within 1 s/.test(e.message),
    );
    assert.equal(rpc.receive({ kind: 'response', id: sent[0]!.id, ok: true, result: {} }), false);
    assert.equal(rpc.inFlight, 0);
  });

  it('gives slow methods their own timeout', async () => {
    const { rpc, timers } = client(1000);
    const gallery = rpc.request('gallery', { limit: 4 });
    timers.advance(4999);
    assert.equal(rpc.inFlight, 1);
    timers.advance(1);
    await assert.rejects(gallery, RequestTimeoutError);
  });

  it('clears the timer once answered', async () => {
    const { rpc, sent, timers } = client();
    const p = rpc.request('snapshot', {});
    rpc.receive({ kind: 'response', id: sent[0]!.id, ok: true, result: { metric: 'verdict' } });
    await p;
    assert.equal(timers.pending(), 0);
  });

  it("turns an error reply into a RequestFailedError with the host's words", async () => {
    const { rpc, sent } = client();
    const p = rpc.request('openImage', { id: 'x' });
    rpc.receive({ kind: 'response', id: sent[0]!.id, ok: false, error: 'That image is no longer in the gallery.' });
    await assert.rejects(
      p,
      (e: unknown) =>
        e instanceof RequestFailedError &&
        e.method === 'openImage' &&
        e.message === 'That image is no longer in the gallery.',
    );
  });

  it('fails a request at once when posting throws', async () => {
    const rpc = new RpcClient({
      post: () => {
        throw new Error('webview disposed');
      },
      timers: fakeTimers(),
    });
    await assert.rejects(rpc.request('budget', {}), /webview disposed/);
    assert.equal(rpc.inFlight, 0);
  });

  it('delivers notifications to their handlers until unsubscribed', () => {
    const { rpc } = client();
    const seen: string[] = [];
    const off = rpc.on('metric', ({ metric }) => seen.push(metric));
    assert.equal(rpc.receive(notification('metric', { metric: 'quality' })), true);
    off();
    assert.equal(rpc.receive(notification('metric', { metric: 'alignment' })), false);
    assert.deepEqual(seen, ['quality']);
  });

  it('drops what is not a host message', () => {
    const { rpc } = client();
    for (const junk of [
      null,
      'text',
      { kind: 'response' },
      { kind: 'response', id: 1.5, ok: true },
      { kind: 'notification', method: 'nope', params: {} },
      { kind: 'response', id: 1, ok: false },
    ]) {
      assert.equal(isHostMessage(junk), false, JSON.stringify(junk));
      assert.equal(rpc.receive(junk), false);
    }
  });

  it('rejects everything still waiting when disposed', async () => {
    const { rpc } = client();
    const a = rpc.request('budget', {});
    const b = rpc.request('gallery', { limit: 3 });
    rpc.dispose();
    await assert.rejects(a, /panel closed/);
    await assert.rejects(b, /panel closed/);
  });
});

describe('panel protocol: the host side', () => {
  const handlers: RequestHandlers = {
    snapshot: () => ({ protocol: 1, at: 1, host: 'view', prompt: null, metric: 'verdict' }),
    budget: async () => {
      throw new Error('ledger.json is damaged: month "2026-13" is malformed\n    at Ledger.read (ledger.ts:1:1)');
    },
    gallery: async () => [],
    calibration: async () => {
      throw new Error('');
    },
    setMetric: () => null,
    openImage: async () => null,
    useCascadeMode: async () => null,
    startCalibration: () => null,
  };

  it('accepts only well-formed requests for known methods', () => {
    assert.equal(isRequestMessage({ kind: 'request', id: 3, method: 'budget', params: {} }), true);
    assert.equal(isRequestMessage({ kind: 'request', id: 3, method: 'eval', params: {} }), false);
    assert.equal(isRequestMessage({ kind: 'request', id: '3', method: 'budget', params: {} }), false);
    assert.equal(isRequestMessage({ kind: 'request', id: 3, method: 'budget' }), false);
    assert.equal(isRequestMessage({ kind: 'notification', method: 'budget', params: {} }), false);
  });

  it("answers with the handler's result under the request's id", async () => {
    const response = await answerRequest(handlers, { kind: 'request', id: 7, method: 'snapshot', params: {} });
    assert.deepEqual(response, {
      kind: 'response',
      id: 7,
      ok: true,
      result: { protocol: 1, at: 1, host: 'view', prompt: null, metric: 'verdict' },
    });
    assert.deepEqual(
      await answerRequest(handlers, { kind: 'request', id: 8, method: 'setMetric', params: { metric: 'q' } }),
      { kind: 'response', id: 8, ok: true, result: null },
    );
  });

  it('answers a failure with one line, never a stack', async () => {
    const response = await answerRequest(handlers, { kind: 'request', id: 9, method: 'budget', params: {} });
    assert.deepEqual(response, {
      kind: 'response',
      id: 9,
      ok: false,
      error: 'ledger.json is damaged: month "2026-13" is malformed',
    });
    const empty = await answerRequest(handlers, { kind: 'request', id: 10, method: 'calibration', params: {} });
    assert.deepEqual(empty, { kind: 'response', id: 10, ok: false, error: 'failed' });
  });

  it('round-trips through JSON, as VS Code carries messages', async () => {
    const { rpc, sent } = client();
    const p = rpc.request('snapshot', {});
    const request = JSON.parse(JSON.stringify(sent[0]));
    assert.ok(isRequestMessage(request));
    const response = JSON.parse(JSON.stringify(await answerRequest(handlers, request)));
    assert.equal(rpc.receive(response), true);
    assert.equal((await p).metric, 'verdict');
  });
});
