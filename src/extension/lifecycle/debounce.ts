// Rate limits for UI work, keyed (one timer per editor or document): `debounce` waits for a pause, `throttle` runs at
// most once per interval and always runs the last call. Clock and timers are injectable for tests. No `vscode` here.

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Runs `fn(key)` once `delayMs` passed without another `schedule(key)`. */
export class KeyedDebouncer<K> {
  private readonly timers = new Map<K, unknown>();

  constructor(
    private delayMs: number,
    private readonly fn: (key: K) => void,
    private readonly clock: Timers = realTimers,
  ) {}

  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  schedule(key: K, delayMs = this.delayMs): void {
    this.cancel(key);
    if (delayMs <= 0) {
      this.fn(key);
      return;
    }
    this.timers.set(
      key,
      this.clock.set(() => {
        this.timers.delete(key);
        this.fn(key);
      }, delayMs),
    );
  }

  /** Runs now what is waiting for `key`, if anything. */
  flush(key: K): void {
    if (!this.timers.has(key)) return;
    this.cancel(key);
    this.fn(key);
  }

  cancel(key: K): void {
    const handle = this.timers.get(key);
    if (handle === undefined) return;
    this.clock.clear(handle);
    this.timers.delete(key);
  }

  pending(key: K): boolean {
    return this.timers.has(key);
  }

  dispose(): void {
    for (const handle of this.timers.values()) this.clock.clear(handle);
    this.timers.clear();
  }
}

/** Runs `fn(key)` at once, then at most once per `intervalMs`, with the last call of an interval run at its end. */
export class KeyedThrottle<K> {
  private readonly state = new Map<K, { handle: unknown; again: boolean }>();

  constructor(
    private readonly intervalMs: number,
    private readonly fn: (key: K) => void,
    private readonly clock: Timers = realTimers,
  ) {}

  run(key: K): void {
    const s = this.state.get(key);
    if (s) {
      s.again = true;
      return;
    }
    this.fn(key);
    this.arm(key);
  }

  private arm(key: K): void {
    const s = { handle: undefined as unknown, again: false };
    s.handle = this.clock.set(() => {
      this.state.delete(key);
      if (s.again) {
        this.fn(key);
        this.arm(key);
      }
    }, this.intervalMs);
    this.state.set(key, s);
  }

  dispose(): void {
    for (const s of this.state.values()) this.clock.clear(s.handle);
    this.state.clear();
  }
}
