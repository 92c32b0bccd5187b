import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import { DEFAULT_QUANT_SETTINGS, quantizeLayer, type QuantSettings } from '../../../lib/analysis/quant/quantize-layer';
import { quantizeRtn } from '../../../lib/analysis/quant/rtn';
import { toStoredPrecision } from '../../../lib/analysis/quant/export-quantized';
import { quantError } from '../../../lib/analysis/quant/quant-metrics';
import { Rng } from '../../../lib/base/rng';
import { codewordColors } from '../../../lib/charts/quant/codeword-colors';
import { errorScale, mapRgba } from '../../../lib/charts/quant/map-image';
import { projectCodebook } from '../../../lib/analysis/quant/projection';
import { quantMaps } from '../../../lib/charts/quant/quant-maps';
import { rdChart } from '../../../lib/charts/quant/rd-chart';
import { sweepChart } from '../../../lib/charts/quant/sweep-chart';
import { usageChart } from '../../../lib/charts/quant/usage-chart';
import { openModel } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { memorySource, singleFileModel } from '../../../lib/io/byte-source';
import { createJobRunner } from '../../../lib/jobs/job-runner';
import type { ModelRef, QuantLayerResult, QuantRdResult, WorkerOut } from '../../../lib/jobs/job-types';
import { rtnBitsNear } from '../../../lib/jobs/quantize-job';
import { symEigSmall } from '../../../lib/math/sym-eig-small';
import { buildLayers } from '../../../lib/model/build-layers';
import type { Layer } from '../../../lib/model/layer';
import { parseQuantParams, quantSettingsKey, writeQuantParams } from '../../../lib/state/quant-settings';

/** The Quantize view's worker job (through the real job runner) and the chart models it feeds, on the real MNIST MLP. */

const FILE = 'public/models/mnist/mlp-seed1.safetensors';
const bytes = readFileSync(FILE);
const ref: ModelRef = { modelId: 'mlp', spec: { kind: 'files', primary: 'mlp.safetensors', files: [{ path: 'mlp.safetensors', file: new File([bytes], 'mlp.safetensors') }] } };
let src: TensorSource;
let fc1: Layer;
let fc2: Layer;

beforeAll(async () => {
  src = await openModel(singleFileModel(memorySource(new Uint8Array(bytes), 'mlp.safetensors')));
  const layers = buildLayers(src.tensors, src.format);
  fc1 = layers.find((l) => l.tensor.name === 'fc1.weight')!;
  fc2 = layers.find((l) => l.tensor.name === 'fc2.weight')!;
});

/** float16 rounding (round to nearest even) via a Float32 → half → Float32 trip, independent of the export code. */
function f16round(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = u >>> 31 ? -1 : 1;
  const a = Math.abs(x);
  if (a === 0) return 0 * sign;
  const e = Math.floor(Math.log2(a));
  const q = 2 ** (Math.max(e, -14) - 10);
  const n = a / q;
  let r = Math.round(n);
  if (Math.abs(n - Math.trunc(n) - 0.5) < 1e-12 && r % 2 === 1) r -= 1;
  return sign * r * q;
}

/** Runs one job in the real job runner, collecting what a worker would post. */
async function runJob(job: Parameters<ReturnType<typeof createJobRunner>['handle']>[0]): Promise<{ out: WorkerOut[]; result: WorkerOut }> {
  const out: WorkerOut[] = [];
  let done!: (m: WorkerOut) => void;
  const finished = new Promise<WorkerOut>((r) => (done = r));
  const runner = createJobRunner((msg) => {
    const copy = structuredClone(msg);
    out.push(copy);
    if (copy.type === 'result' || copy.type === 'error') done(copy);
  });
  void runner.handle(job);
  return { out, result: await finished };
}

describe('symEigSmall', () => {
  it('diagonalises a random symmetric matrix: A v = λ v, orthonormal vectors, descending values', () => {
    const n = 7;
    const rng = new Rng(3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const { values, vectors } = symEigSmall(a, n);
    for (let j = 0; j < n; j++) {
      if (j > 0) expect(values[j]!).toBeLessThanOrEqual(values[j - 1]!);
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let t = 0; t < n; t++) av += a[i * n + t]! * vectors[j * n + t]!;
        expect(av).toBeCloseTo(values[j]! * vectors[j * n + i]!, 10);
      }
      for (let q = 0; q < n; q++) {
        let dot = 0;
        for (let t = 0; t < n; t++) dot += vectors[j * n + t]! * vectors[q * n + t]!;
        expect(dot).toBeCloseTo(j === q ? 1 : 0, 10);
      }
    }
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i]!;
    expect(values.reduce((p, v) => p + v, 0)).toBeCloseTo(trace, 10);
  });
});

describe('projectCodebook', () => {
  it('finds the planted principal axis of anisotropic 4-D data', () => {
    const n = 5000;
    const d = 4;
    const rng = new Rng(9);
    const dir = [0.5, 0.5, 0.5, 0.5];
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const big = 10 * rng.normal();
      for (let t = 0; t < d; t++) x[i * d + t] = big * dir[t]! + 0.1 * rng.normal();
    }
    const cb = Float32Array.from([1, 1, 1, 1, -1, -1, -1, -1]);
    const p = projectCodebook(x, n, d, cb, 2, new Uint32Array(n), 0, 3000);
    expect(p.mode).toBe('pca');
    expect(p.explained[0]).toBeGreaterThan(0.99);
    // The codewords lie on the axis: their PC1 coordinates are ±2 (|(1,1,1,1)·dir| = 2) up to the mean's offset.
    expect(Math.abs(p.codewords[0]! - p.codewords[2]!)).toBeCloseTo(4, 1);
    expect(p.points.length).toBe(6000);
  });

  it('uses the raw plane for d = 2 (exact Voronoi cells) and a value axis for d = 1', () => {
    const x = Float32Array.from([0, 1, 2, 3, 4, 5]);
    const p2 = projectCodebook(x, 3, 2, Float32Array.from([0, 1, 4, 5]), 2, Uint32Array.from([0, 0, 1]));
    expect(p2.mode).toBe('raw');
    expect([...p2.codewords]).toEqual([0, 1, 4, 5]);
    const got = new Set<string>();
    for (let i = 0; i < 3; i++) got.add(`${p2.points[2 * i]},${p2.points[2 * i + 1]}`);
    expect(got).toEqual(new Set(['0,1', '2,3', '4,5']));
    const p1 = projectCodebook(x, 6, 1, Float32Array.from([1, 4]), 2, new Uint32Array(6));
    expect(p1.mode).toBe('value');
    expect([p1.codewords[0], p1.codewords[2]]).toEqual([1, 4]);
  });
});

describe('quantMaps', () => {
  it('keeps exact cells for small layers and block means when downsampling', () => {
    const rows = 30;
    const per = 20;
    const err = Float32Array.from({ length: rows * per }, (_, i) => i);
    const assign = Uint32Array.from({ length: rows * per }, (_, i) => i % 7);
    const exact = quantMaps(rows, per, err, assign, null);
    expect(exact).toMatchObject({ exact: true, width: 20, height: 30, fy: 1, fx: 1 });
    expect([...exact.assign!]).toEqual([...assign]);
    const ds = quantMaps(rows, per, err, assign, err, 100, 100);
    expect(ds.exact).toBe(false);
    expect(ds.width * ds.height).toBeLessThanOrEqual(200);
    // Cell (0, 0) is the mean of rows 0..fy−1, sub-vectors 0..fx−1.
    let s = 0;
    for (let r = 0; r < ds.fy; r++) for (let q = 0; q < ds.fx; q++) s += r * per + q;
    expect(ds.error[0]).toBeCloseTo(s / (ds.fy * ds.fx), 4);
    expect(ds.ratio![0]).toBeCloseTo(s / (ds.fy * ds.fx), 4);
    expect(ds.assign![0]).toBe(0);
    const rgba = mapRgba(ds, 'error', null, errorScale(ds));
    expect(rgba.length).toBe(ds.width * ds.height * 4);
  });
});

describe('chart models', () => {
  it('usage chart marks the first dead codeword and covers every used rank', () => {
    const counts = Uint32Array.from([50, 30, 10, 5, 0, 0]);
    const m = usageChart(counts, 400, 200, false);
    expect(m.bars.length).toBe(4);
    expect(m.deadX).not.toBeNull();
    expect(m.bars[0]!.height).toBeGreaterThan(m.bars[1]!.height);
    const big = usageChart(new Uint32Array(65536).fill(1), 400, 200, true);
    expect(big.bars.length).toBeLessThanOrEqual(400);
    expect(big.deadX).toBeNull();
  });

  it('rd chart: one series per family, sorted by bpw, SQNR up', () => {
    const m = rdChart(
      [
        { family: 'RTN', label: 'a', bpw: 4.25, sqnrDb: 20 },
        { family: 'RTN', label: 'b', bpw: 2.25, sqnrDb: 8 },
        { family: 'VQ', label: 'c', bpw: 2.1, sqnrDb: 12 },
      ],
      { bpw: 2.1, sqnrDb: 12 },
      500,
      300,
    );
    expect(m.series.map((s) => s.family)).toEqual(['RTN', 'VQ']);
    const rtn = m.series[0]!.points;
    expect(rtn[0]!.x).toBeLessThan(rtn[1]!.x);
    expect(rtn[0]!.y).toBeGreaterThan(rtn[1]!.y);
    expect(m.current!.x).toBeCloseTo(m.series[1]!.points[0]!.x);
  });

  it('sweep chart orders layers by model order', () => {
    const m = sweepChart(
      [
        { name: 'b', order: 2, sqnrDb: 10, rtnSqnrDb: 8, relFrobenius: 0.3 },
        { name: 'a', order: 1, sqnrDb: 20, rtnSqnrDb: null, relFrobenius: 0.1 },
      ],
      15,
      400,
      200,
    );
    expect(m.bars.map((b) => b.name)).toEqual(['a', 'b']);
    expect(m.bars[0]!.height).toBeGreaterThan(m.bars[1]!.height);
    expect(m.bars[1]!.rtnY).not.toBeNull();
  });

  it('codeword colours: one RGB triple per codeword, different for opposite codewords', () => {
    const c = codewordColors(Float32Array.from([1, 0, -1, 0, 0, 1, 0, -1]), 4, 'pca');
    expect(c.length).toBe(12);
    expect([...c.subarray(0, 3)]).not.toEqual([...c.subarray(3, 6)]);
  });
});

describe('quant settings URL', () => {
  it('round-trips every setting and writes nothing for defaults', () => {
    const q = writeQuantParams(new URLSearchParams(), { model: 'mnist-mlp-seed1', layer: 'fc1', forceGpu: false, zoom: { row: 3, col: 9 }, settings: DEFAULT_QUANT_SETTINGS });
    expect([...q.keys()].sort()).toEqual(['layer', 'model', 'zoom']);
    const s: QuantSettings = { ...DEFAULT_QUANT_SETTINGS, method: 'rvq', k: 64, k2: 16, d: 2, iters: 7, seed: 5, rowGroup: 32, codebookBits: 32, candidates: 3, sample: 4096, bits: 3, symmetric: true, group: 'channel', pulses: 9, gainBits: 6 };
    const back = parseQuantParams(writeQuantParams(new URLSearchParams(), { model: 'm', layer: 'l', forceGpu: true, zoom: null, settings: s }));
    expect(back.settings).toEqual(s);
    expect(back.forceGpu).toBe(true);
    expect(parseQuantParams(new URLSearchParams('k=3.7e9&d=99&method=evil')).settings).toMatchObject({ k: 256, d: 4, method: 'vq' });
  });

  it('keys only the settings a method uses', () => {
    const a = quantSettingsKey({ ...DEFAULT_QUANT_SETTINGS, method: 'rtn', k: 16 });
    const b = quantSettingsKey({ ...DEFAULT_QUANT_SETTINGS, method: 'rtn', k: 4096 });
    expect(a).toBe(b);
    expect(quantSettingsKey({ ...DEFAULT_QUANT_SETTINGS, k: 16 })).not.toBe(quantSettingsKey({ ...DEFAULT_QUANT_SETTINGS, k: 32 }));
  });
});

describe('quantize-layer job (real job runner, MNIST fc2)', () => {
  it('returns the engine numbers, full-resolution maps and a projection', async () => {
    const settings: QuantSettings = { ...DEFAULT_QUANT_SETTINGS, k: 16, d: 2, iters: 8 };
    const { out, result } = await runJob({ type: 'run', id: 1, job: { kind: 'quantize-layer', model: ref, tensor: 'fc2.weight', settings, forceCpu: true } });
    expect(result.type).toBe('result');
    const r = (result as Extract<WorkerOut, { type: 'result' }>).data as QuantLayerResult;
    const m = quantMatrix(fc2, await src.read('fc2.weight'));
    const direct = toStoredPrecision(m.data, await quantizeLayer(m, settings), settings, 'fc2');
    expect(r.error.sqnrDb).toBeCloseTo(direct.error.sqnrDb, 10);
    expect(r.bits).toEqual(direct.bits);
    expect(r.maps).toMatchObject({ exact: true, width: 64, height: 128 });
    expect([...r.maps!.assign!]).toEqual([...direct.vq!.assign]);
    expect(r.projection!.mode).toBe('raw');
    expect(r.sortedCounts!.length).toBe(16);
    expect(r.usage!.dead).toBe(direct.vq!.usage.dead);
    // RTN at equal bits: VQ k=16 d=2 is 2 + 16·2·16/16384 bpw ⇒ 2-bit RTN; its SQNR recomputed here.
    const bits = rtnBitsNear(r.bits.total);
    expect(r.rtnAtEqualBits!.bits).toBe(bits);
    // Its SQNR recomputed from the codes and the fp16-rounded scales the export stores.
    const rtn = quantizeRtn(m.data, m.rows, m.cols, { bits, symmetric: false, group: 128 });
    const deq = new Float32Array(m.data.length);
    for (let i = 0; i < deq.length; i++) {
      const g = Math.floor(i / m.cols) * rtn.groupsPerRow + Math.floor((i % m.cols) / rtn.groupSize);
      deq[i] = Math.fround(f16round(rtn.scales[g]!) * (rtn.codes[i]! - rtn.zeros![g]!));
    }
    expect(r.rtnAtEqualBits!.error.sqnrDb).toBeCloseTo(quantError(m.data, deq).sqnrDb, 8);
    expect(out.some((o) => o.type === 'progress')).toBe(true);
  });

  it('summaryOnly carries no maps; a wrong setting is an error naming the problem', async () => {
    const { result } = await runJob({ type: 'run', id: 2, job: { kind: 'quantize-layer', model: ref, tensor: 'fc1.weight', settings: { ...DEFAULT_QUANT_SETTINGS, method: 'rtn', bits: 3 }, forceCpu: true, summaryOnly: true } });
    const r = (result as Extract<WorkerOut, { type: 'result' }>).data as QuantLayerResult;
    expect(r.maps).toBeNull();
    expect(r.rows * r.cols).toBe(fc1.tensor.shape[0]! * fc1.tensor.shape[1]!);
    const bad = await runJob({ type: 'run', id: 3, job: { kind: 'quantize-layer', model: ref, tensor: 'fc1.weight', settings: { ...DEFAULT_QUANT_SETTINGS, d: 3 }, forceCpu: true } });
    expect(bad.result.type).toBe('error');
    expect((bad.result as Extract<WorkerOut, { type: 'error' }>).error.message).toMatch(/d = 3 does not divide the 784/);
  });

  it('the rate–distortion job streams RTN 2–8 bits and the VQ grid points that fit', async () => {
    const { out, result } = await runJob({ type: 'run', id: 4, job: { kind: 'quantize-rd', model: ref, tensor: 'fc3.weight', settings: DEFAULT_QUANT_SETTINGS, forceCpu: true } });
    const r = (result as Extract<WorkerOut, { type: 'result' }>).data as QuantRdResult;
    const rtn = r.points.filter((p) => p.method === 'rtn');
    expect(rtn.map((p) => p.label)).toEqual([2, 3, 4, 5, 6, 7, 8].map((b) => `RTN ${b}b g128`));
    // More bits, less error.
    for (let i = 1; i < rtn.length; i++) expect(rtn[i]!.sqnrDb).toBeGreaterThan(rtn[i - 1]!.sqnrDb);
    // fc3 is 10 × 128: 640 sub-vectors of 2, so k = 4096 does not fit and is left out.
    expect(r.points.some((p) => p.label === 'VQ k=4096 d=4')).toBe(false);
    expect(r.points.some((p) => p.label === 'VQ k=256 d=2')).toBe(true);
    expect(out.filter((o) => o.type === 'partial').length).toBe(r.points.length);
  });
});
