import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../../lib/base/errors';
import { SharedOpens } from '../../../lib/jobs/shared-open';

/** A deferred open whose signal the test can inspect. */
function slowOpen() {
  let release!: (v: string) => void;
  let seen: AbortSignal | null = null;
  let calls = 0;
  const make = (s: AbortSignal) => {
    calls++;
    seen = s;
    return new Promise<string>((res) => (release = res));
  };
  return { make, release: (v: string) => release(v), signal: () => seen, calls: () => calls };
}

describe('SharedOpens', () => {
  it('keeps the open alive while one waiter remains, and shares the value', async () => {
    const cache = new SharedOpens<string>();
    const o = slowOpen();
    const a = new AbortController();
    const p1 = cache.get('m', a.signal, o.make);
    const p2 = cache.get('m', new AbortController().signal, o.make);
    await Promise.resolve();
    a.abort();
    await expect(p1).rejects.toBeInstanceOf(CancelledError);
    expect(o.signal()!.aborted).toBe(false);
    o.release('src');
    await expect(p2).resolves.toBe('src');
    await expect(cache.get('m', new AbortController().signal, o.make)).resolves.toBe('src');
    expect(o.calls()).toBe(1);
  });

  it('aborts an abandoned open, and the next caller opens afresh', async () => {
    const cache = new SharedOpens<string>();
    const o = slowOpen();
    const a = new AbortController();
    const p1 = cache.get('m', a.signal, o.make);
    await Promise.resolve();
    a.abort();
    await expect(p1).rejects.toBeInstanceOf(CancelledError);
    expect(o.signal()!.aborted).toBe(true);
    const p2 = cache.get('m', new AbortController().signal, o.make);
    await Promise.resolve();
    expect(o.calls()).toBe(2);
    o.release('again');
    await expect(p2).resolves.toBe('again');
  });

  it('a non-abortable open (a session being created) finishes for the next caller', async () => {
    const cache = new SharedOpens<string>(false);
    const o = slowOpen();
    const a = new AbortController();
    const p1 = cache.get('s', a.signal, o.make);
    await Promise.resolve();
    a.abort();
    await expect(p1).rejects.toBeInstanceOf(CancelledError);
    expect(o.signal()!.aborted).toBe(false);
    const p2 = cache.get('s', new AbortController().signal, o.make);
    o.release('session');
    await expect(p2).resolves.toBe('session');
    expect(o.calls()).toBe(1);
  });

  it('drops a failed open so the next caller retries', async () => {
    const cache = new SharedOpens<string>();
    await expect(cache.get('x', new AbortController().signal, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(cache.keys()).toEqual([]);
    await expect(cache.get('x', new AbortController().signal, () => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
