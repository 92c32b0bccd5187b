import { CancelledError } from '../base/errors';

interface Entry<T> {
  p: Promise<T>;
  ctrl: AbortController;
  /** Jobs waiting for the value. */
  waiting: number;
  settled: boolean;
}

/**
 * A worker's cache of things opened once and shared by every job that needs them (a model's
 * source, an ONNX graph, a session, an evaluation set). Each open runs under its own controller,
 * aborted only when every job waiting on it was cancelled: one cancelled job (a preview superseded
 * by a new setting) cannot fail another that joined the same open (a sweep's layer). A failed or
 * abandoned open is dropped, so the next job starts a fresh one.
 */
export class SharedOpens<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /**
   * `abortable: false` for opens that cannot be stopped half way (an ONNX session being created):
   * they finish even when every waiter left, and the next job reuses the result.
   */
  constructor(private readonly abortable = true) {}

  get(key: string, signal: AbortSignal, make: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (signal.aborted) return Promise.reject(new CancelledError());
    let e = this.entries.get(key);
    if (!e || (e.ctrl.signal.aborted && !e.settled)) {
      const ctrl = new AbortController();
      const entry: Entry<T> = { p: Promise.resolve().then(() => make(ctrl.signal)), ctrl, waiting: 0, settled: false };
      this.entries.set(key, entry);
      entry.p.then(
        () => {
          entry.settled = true;
        },
        () => {
          entry.settled = true;
          if (this.entries.get(key) === entry) this.entries.delete(key);
        },
      );
      e = entry;
    }
    if (e.settled) return e.p;
    const entry = e;
    entry.waiting++;
    return new Promise<T>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return false;
        left = true;
        entry.waiting--;
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = () => {
        if (!leave()) return;
        if (this.abortable && entry.waiting === 0 && !entry.settled) entry.ctrl.abort();
        reject(new CancelledError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.p.then(
        (v) => leave() && resolve(v),
        (err: unknown) => leave() && reject(err),
      );
    });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Every open, settled or not, by key. */
  values(): [string, Promise<T>][] {
    return [...this.entries].map(([k, e]) => [k, e.p]);
  }
}
