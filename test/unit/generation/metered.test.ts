import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { BackendError } from '../../../src/backends/errors';
import type { Backend, GenerationRequest } from '../../../src/backends/types';
import { Ledger } from '../../../src/generation/ledger';
import { MoneyCapError, meteredGenerate } from '../../../src/generation/metered';
import { tempDirs } from '../../support/tmp';

/** The metered call's bookkeeping with in-process backends (the wire-level faults are in test/integration/generation). */

function fakeBackend(
  side: 'edge' | 'cloud',
  price: number,
  behave: () => Promise<void> = async () => undefined,
): Backend & { calls: number } {
  const b = {
    calls: 0,
    name: side === 'edge' ? 'a1111' : 'openai',
    side,
    model: 'm',
    estimateCost: (_r: GenerationRequest) => price,
    health: async () => ({ ok: true, detail: '' }),
    async generate(_request: GenerationRequest) {
      b.calls++;
      await behave();
      return {
        image: new Uint8Array([1]),
        mime: 'image/png',
        backend: b.name,
        model: 'm',
        cost: price / 2,
        timings: { totalMs: 1 },
      };
    },
  };
  return b;
}

const request = { prompt: 'x', width: 64, height: 64 };

describe('the metered call', () => {
  const tmp = tempDirs();

  it('books each call at its real cost and stops at the monthly cap before sending', async () => {
    const { ledger } = await Ledger.open({ file: join(tmp(), 'ledger.json'), monthlyCap: 0.1 });
    const cloud = fakeBackend('cloud', 0.04);
    for (let i = 0; i < 4; i++) assert.ok((await meteredGenerate(cloud, request, { ledger, note: 'calibration' })).ok);
    // 0.08 spent (each settled at half its estimate): reserving 0.04 more would pass the 0.10 cap.
    await assert.rejects(
      meteredGenerate(cloud, request, { ledger }),
      (e: MoneyCapError) => e instanceof MoneyCapError && /money cap would be passed/.test(e.message),
    );
    assert.equal(cloud.calls, 4, 'the refused call never reached the backend');
    const status = await ledger.status();
    assert.deepEqual([status.spent, status.reserved], [0.08, 0]);
  });

  it('releases only what the provider did not take; every other failure stays booked at the estimate', async () => {
    const { ledger } = await Ledger.open({ file: join(tmp(), 'ledger.json'), monthlyCap: null });
    const failWith = (e: Error) => fakeBackend('cloud', 0.04, async () => Promise.reject(e));
    const notTaken = await meteredGenerate(
      failWith(new BackendError('bad-request', 'openai', 'rejected', { status: 400, notTaken: true })),
      request,
      { ledger },
    );
    assert.ok(!notTaken.ok && !notTaken.booked && notTaken.cost === 0);
    assert.equal((await ledger.status()).spent, 0);
    for (const e of [
      new BackendError('bad-request', 'openai', 'a 400 to a poll', { status: 400 }),
      new BackendError('timeout', 'openai', 'no reply'),
      new BackendError('cancelled', 'openai', 'stopped'),
      new Error('crash in the client'),
    ]) {
      const out = await meteredGenerate(failWith(e), request, { ledger });
      assert.ok(!out.ok && out.booked && out.cost === 0.04, e.message);
    }
    assert.equal((await ledger.status()).spent, 0.16);
  });

  it('books nothing for a free edge call and needs no ledger for it; a paid call without a ledger is refused', async () => {
    const edge = fakeBackend('edge', 0);
    assert.ok((await meteredGenerate(edge, request)).ok);
    await assert.rejects(meteredGenerate(fakeBackend('cloud', 0.04), request), /needs the money ledger/);
  });
});
