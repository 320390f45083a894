import { strict as assert } from 'node:assert';
import { KeyedDebouncer, KeyedThrottle, type Timers } from '../../../src/extension/lifecycle/debounce';

/** A manual clock: timers run when the test advances time. */
function fakeTimers(): Timers & { advance(ms: number): void; now: number } {
  const pending: Array<{ at: number; fn: () => void; id: number }> = [];
  let id = 0;
  const t = {
    now: 0,
    set(fn: () => void, ms: number) {
      pending.push({ at: t.now + ms, fn, id: ++id });
      return id;
    },
    clear(handle: unknown) {
      const i = pending.findIndex((p) => p.id === handle);
      if (i >= 0) pending.splice(i, 1);
    },
    advance(ms: number) {
      const until = t.now + ms;
      for (;;) {
        pending.sort((a, b) => a.at - b.at);
        const next = pending[0];
        if (!next || next.at > until) break;
        pending.shift();
        t.now = next.at;
        next.fn();
      }
      t.now = until;
    },
  };
  return t;
}

describe('debounce and throttle', () => {
  it('debounce runs once after a pause, per key', () => {
    const clock = fakeTimers();
    const runs: string[] = [];
    const d = new KeyedDebouncer<string>(100, (k) => runs.push(`${k}@${clock.now}`), clock);
    d.schedule('a');
    clock.advance(60);
    d.schedule('a');
    d.schedule('b');
    clock.advance(60);
    assert.deepEqual(runs, []);
    clock.advance(40);
    assert.deepEqual(runs, ['a@160', 'b@160']);
    assert.equal(d.pending('a'), false);
  });

  it('debounce can flush, cancel, run at once with a zero delay, and change its delay', () => {
    const clock = fakeTimers();
    const runs: string[] = [];
    const d = new KeyedDebouncer<string>(100, (k) => runs.push(k), clock);
    d.schedule('a');
    d.flush('a');
    assert.deepEqual(runs, ['a']);
    d.schedule('b');
    d.cancel('b');
    clock.advance(500);
    assert.deepEqual(runs, ['a']);
    d.schedule('c', 0);
    assert.deepEqual(runs, ['a', 'c']);
    d.setDelay(10);
    d.schedule('d');
    clock.advance(10);
    assert.deepEqual(runs, ['a', 'c', 'd']);
    d.schedule('e');
    d.dispose();
    clock.advance(100);
    assert.deepEqual(runs, ['a', 'c', 'd']);
  });

  it('throttle runs at once, then at most once per interval, and never loses the last call', () => {
    const clock = fakeTimers();
    const runs: number[] = [];
    const t = new KeyedThrottle<string>(50, () => runs.push(clock.now), clock);
    t.run('x');
    t.run('x');
    t.run('x');
    assert.deepEqual(runs, [0]);
    clock.advance(50);
    assert.deepEqual(runs, [0, 50]);
    clock.advance(50);
    assert.deepEqual(runs, [0, 50], 'nothing more was asked');
    t.run('x');
    assert.deepEqual(runs, [0, 50, 100]);
  });
});
