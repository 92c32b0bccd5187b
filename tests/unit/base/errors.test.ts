import { describe, expect, it } from 'vitest';
import { CancelledError, FormatError, LimitError, UnsupportedError, fromErrorInfo, toErrorInfo } from '../../../lib/base/errors';

describe('typed errors', () => {
  it('survive a structured clone round trip (as between a worker and the page)', () => {
    for (const e of [
      new FormatError('truncated', 'model.safetensors: tensor "wte" ends at byte 9.1e8, file has 8.7e8'),
      new UnsupportedError('dtype', 'x.gguf: tensor "a" has type Q3_K, not decoded'),
      new LimitError('rank', 'x.onnx: tensor "w" has rank 99, limit 8'),
      new CancelledError(),
    ]) {
      const info = structuredClone(toErrorInfo(e));
      const back = fromErrorInfo(info);
      expect(back).toBeInstanceOf(e.constructor);
      expect(back.message).toBe(e.message);
      expect((back as FormatError).code).toBe(e.code);
    }
  });

  it('maps AbortError to a cancellation and plain errors to internal', () => {
    const abort = new Error('The operation was aborted');
    abort.name = 'AbortError';
    expect(toErrorInfo(abort).kind).toBe('CancelledError');
    expect(toErrorInfo(new TypeError('boom'))).toEqual({ kind: 'Error', code: 'internal', message: 'boom' });
    expect(toErrorInfo('str').message).toBe('str');
  });
});
