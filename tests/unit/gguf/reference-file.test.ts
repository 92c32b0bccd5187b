import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNodeFile } from '@/lib/io/node/node-file-source';
import { singleFileModel } from '@/lib/io/byte-source';
import { openModel } from '@/lib/formats/registry';
import type { TensorSource } from '@/lib/formats/types';

/**
 * tests/fixtures/gguf/reference.gguf is written by llama.cpp's gguf-py (see make-reference.py
 * beside it): an independent writer, with each quantized tensor paired with gguf-py's own
 * dequantization of it ("<type>.expected").
 */
const FIXTURE = path.resolve(__dirname, '../../fixtures/gguf/reference.gguf');

let file: Awaited<ReturnType<typeof openNodeFile>>;
let model: TensorSource;

beforeAll(async () => {
  file = await openNodeFile(FIXTURE);
  model = await openModel(singleFileModel(file));
});
afterAll(async () => {
  await file.close();
});

describe('reference.gguf (written by gguf-py)', () => {
  it('lists every tensor with row-major shapes and gguf-py\'s sizes', () => {
    const byName = new Map(model.tensors.map((t) => [t.name, t]));
    expect(model.format).toBe('gguf');
    expect(model.tensors.length).toBe(30);
    expect(byName.get('Q4_K')).toMatchObject({ shape: [2, 512], dtype: 'Q4_K', byteLength: 576, decodable: true });
    expect(byName.get('Q3_K')).toMatchObject({ shape: [2, 512], dtype: 'Q3_K', byteLength: 440, decodable: true });
    expect(byName.get('TQ2_0')).toMatchObject({ shape: [2, 512], dtype: 'TQ2_0', byteLength: 264, decodable: false, note: 'not decoded (TQ2_0)' });
    expect(byName.get('F32')).toMatchObject({ shape: [2, 3, 4], dtype: 'F32', byteLength: 96 });
    expect(byName.get('I8')).toMatchObject({ shape: [3, 5], dtype: 'I8', byteLength: 15 });
  });

  for (const type of ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'BF16', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K']) {
    it(`${type} dequantizes like gguf-py`, async () => {
      const got = await model.read(type);
      const want = await model.read(`${type}.expected`);
      expect(got.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1e-3, Math.abs(want[i]!)));
      expect(worst).toBeLessThan(1e-5);
    });
  }

  it('refuses the types it does not decode, naming file, tensor and type', async () => {
    await expect(model.read('TQ2_0')).rejects.toMatchObject({ kind: 'UnsupportedError', message: expect.stringMatching(/reference\.gguf: tensor "TQ2_0" has type TQ2_0/) });
  });

  it('reads the metadata gguf-py wrote, with the custom alignment', () => {
    const m = model.metadata;
    expect(m['general.alignment']).toBe(64);
    expect(m['general.architecture']).toBe('weightlens-test');
    expect([m['test.u8'], m['test.i8'], m['test.u16'], m['test.i16'], m['test.u32'], m['test.i32']]).toEqual([200, -100, 60000, -30000, 4000000000, -2000000000]);
    expect([m['test.f32'], m['test.f64'], m['test.bool']]).toEqual([0.25, -1e300, true]);
    expect(m['test.u64']).toBe('1152921504606846977');
    expect(m['test.i64']).toBe(-(2 ** 40));
    expect(m['test.string']).toBe('héllo wörld');
    expect(m['test.ints']).toEqual([1, 2, 3]);
    expect(m['test.nested']).toEqual([[1, 2], [3]]);
    expect(m['test.vocab']).toEqual({ itemType: 'string', length: 1000, head: Array.from({ length: 16 }, (_, i) => `tok${i}`) });
  });
});
