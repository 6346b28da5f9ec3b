/** Run `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** The error a cancelled long loop throws (`name === 'AbortError'`, like DOM aborts). */
export function abortError(): Error {
  const e = new Error('Training was cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * Keeps long synchronous loops cooperative: after each step call `pace()` (or let `drive` do it);
 * once `sliceMs` have passed since the last yield it yields to the event loop (setImmediate), so
 * IPC messages, signals and timers run, and throws an AbortError when `signal` fired. Between
 * yields a step costs one clock read.
 */
export class Pacer {
  private last = Date.now();
  constructor(readonly signal?: AbortSignal, readonly sliceMs = 30) {}
  due(): boolean { return Date.now() - this.last >= this.sliceMs; }
  check(): void { if (this.signal?.aborted) throw abortError(); }
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = Date.now();
    this.check();
  }
  async pace(): Promise<void> {
    if (this.due()) await this.yield();
    else this.check();
  }
}

/** Runs a step generator (each `yield` marks a point where it may pause) cooperatively. */
export async function drive<T>(steps: Generator<void, T>, pacer: Pacer): Promise<T> {
  pacer.check();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (pacer.due()) await pacer.yield();
  }
}

/** Runs a step generator to its end without pausing. */
export function runSync<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
