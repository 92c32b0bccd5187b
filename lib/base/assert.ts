export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Human-readable byte offsets in error messages, e.g. 9.1e8 or 1234. */
export function fmtBytes(n: number): string {
  return n < 1e6 ? String(n) : n.toExponential(1).replace('e+', 'e');
}
