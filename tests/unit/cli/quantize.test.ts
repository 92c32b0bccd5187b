import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePacked, QUANT_META_PREFIX, type QuantTensorMeta } from '../../../lib/analysis/quant/export-quantized';
import { openModel } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { memorySource, singleFileModel, type ModelInput } from '../../../lib/io/byte-source';
import { ROOT, runCli as cli, TIMEOUT_MS } from './run-cli';

/**
 * `weightlens quantize` as a user runs it (the real CLI in a child process) on the MNIST MLP. The
 * printed metrics are checked against a recomputation from the files the command wrote: the
 * packed file decoded by decodePacked and the dequantized file read back, each compared with the
 * original weights.
 */

const MLP = join(ROOT, 'public/models/mnist/mlp-seed1.safetensors');

interface Row {
  name: string;
  tensor: string;
  shape: number[];
  rows: number;
  cols: number;
  sqnr_db: number | null;
  rel_frob: number | null;
  mse: number;
  bpw: number;
  bpw_index: number;
  bpw_codebook: number;
  bpw_scale: number;
  bpw_zero: number;
  k: number | null;
  entropy: number | null;
  perplexity: number | null;
  dead_codewords: number | null;
  k2?: number;
}
interface QuantizeJson {
  file: string;
  format: string;
  method: string;
  settings: Record<string, unknown>;
  layers: Row[];
  skipped: { name: string; tensor: string; reason: string }[];
  total: Omit<Row, 'name' | 'tensor' | 'shape' | 'rows' | 'cols' | 'k' | 'entropy' | 'perplexity' | 'dead_codewords'> & {
    layers: number; quantized: number; skipped: number; weights: number;
  };
  outputs: { packed?: { file: string; bytes: number }; dequantized?: { file: string; bytes: number } };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-quantize-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileModel(path: string): ModelInput {
  return singleFileModel(memorySource(new Uint8Array(readFileSync(path)), path.split('/').pop()!));
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** mse, rel_frob and sqnr_db of `approx` against `orig`, and the sums to pool them. */
function errorOf(orig: Float32Array, approx: Float32Array) {
  let err = 0;
  let sig = 0;
  for (let i = 0; i < orig.length; i++) {
    err += (orig[i]! - approx[i]!) ** 2;
    sig += orig[i]! ** 2;
  }
  return { err, sig, n: orig.length, mse: err / orig.length, rel: Math.sqrt(err / sig), sqnr: -10 * Math.log10(err / sig) };
}

describe('weightlens quantize', () => {
  it(
    'vq --json: the printed metrics are those of the weights in the written files',
    async () => {
      const packed = join(dir, 'vq.packed.safetensors');
      const dequant = join(dir, 'vq.dequant.safetensors');
      const r = await cli(['quantize', MLP, '--method', 'vq', '--k', '16', '--d', '4', '--iters', '4', '--row-group', '64', '--out', packed, '--dequantized', dequant, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as QuantizeJson;
      expect(j.method).toBe('vq');
      expect(j.settings).toMatchObject({ method: 'vq', k: 16, d: 4, iters: 4, rowGroup: 64, codebookBits: 16 });
      expect(j.layers.map((l) => [l.name, l.rows, l.cols])).toEqual([['fc1', 128, 784], ['fc2', 128, 128], ['fc3', 10, 128]]);
      expect(j.skipped).toEqual([]);
      expect(j.outputs.packed!.bytes).toBe(readFileSync(packed).byteLength);
      expect(j.outputs.dequantized!.bytes).toBe(readFileSync(dequant).byteLength);

      const orig = await openModel(fileModel(MLP));
      const decoded = await decodePacked(fileModel(packed));
      const dq: TensorSource = await openModel(fileModel(dequant));
      const pk: TensorSource = await openModel(fileModel(packed));
      let err = 0;
      let sig = 0;
      let n = 0;
      let bits = 0;
      for (const row of j.layers) {
        const w = await orig.read(row.tensor);
        const fromPacked = decoded.get(row.tensor)!;
        const fromDequant = await dq.read(row.tensor);
        expect(Array.from(fromDequant)).toEqual(Array.from(fromPacked));
        const e = errorOf(w, fromPacked);
        expect(rel(row.mse, e.mse), `${row.name} mse`).toBeLessThan(1e-12);
        expect(rel(row.rel_frob!, e.rel), `${row.name} rel_frob`).toBeLessThan(1e-12);
        expect(rel(row.sqnr_db!, e.sqnr), `${row.name} sqnr_db`).toBeLessThan(1e-12);
        // Bits from what the packed file holds: log2(k)/d per weight + the stored codebooks.
        const cb = pk.tensors.find((t) => t.name === `${row.tensor}.codebook`)!;
        expect(cb.dtype).toBe('F16');
        const meta = JSON.parse(pk.metadata[`${QUANT_META_PREFIX}${row.tensor}`] as string) as QuantTensorMeta;
        expect(meta.parts.indices).toBe(`${row.tensor}.indices`);
        const expectBits = Math.log2(16) / 4 + (cb.byteLength * 8) / e.n;
        expect(row.bpw_index).toBe(1);
        expect(rel(row.bpw, expectBits)).toBeLessThan(1e-12);
        expect(row.bpw).toBeCloseTo(row.bpw_index + row.bpw_codebook + row.bpw_scale + row.bpw_zero, 12);
        expect(row.k).toBe(16);
        expect(row.entropy!).toBeGreaterThan(0);
        expect(row.entropy!).toBeLessThanOrEqual(4);
        expect(row.perplexity!).toBeCloseTo(2 ** row.entropy!, 9);
        err += e.err;
        sig += e.sig;
        n += e.n;
        bits += expectBits * e.n;
      }
      // Whole model: pooled sums over all quantized weights.
      expect(j.total).toMatchObject({ layers: 3, quantized: 3, skipped: 0, weights: n });
      expect(rel(j.total.mse, err / n)).toBeLessThan(1e-12);
      expect(rel(j.total.rel_frob!, Math.sqrt(err / sig))).toBeLessThan(1e-12);
      expect(rel(j.total.sqnr_db!, -10 * Math.log10(err / sig))).toBeLessThan(1e-12);
      expect(rel(j.total.bpw, bits / n)).toBeLessThan(1e-12);
      // Biases are carried over unchanged.
      for (const b of ['fc1.bias', 'fc2.bias', 'fc3.bias']) expect(Array.from(await dq.read(b))).toEqual(Array.from(await orig.read(b)));
    },
    TIMEOUT_MS,
  );

  it(
    'rtn prints a table by default; --layers filters; bits split into index, scale and zero',
    async () => {
      const r = await cli(['quantize', MLP, '--method', 'rtn', '--bits', '3', '--group', '32', '--layers', '^fc2$']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toContain('rtn 3-bit asymmetric, groups of 32; 1 of 1 layers quantized');
      expect(lines[1]).toMatch(/name\s+rows\s+cols\s+sqnr_db\s+rel_frob\s+mse\s+bpw\s+bpw_index/);
      expect(lines[2]).toMatch(/^\s+fc2\s+128\s+128\s/);
      expect(lines[3]).toMatch(/^\s+total\s/);

      const j = JSON.parse((await cli(['quantize', MLP, '--method', 'rtn', '--bits', '3', '--group', '32', '--layers', '^fc2$', '--json'])).stdout) as QuantizeJson;
      expect(j.layers.map((l) => l.name)).toEqual(['fc2']);
      const row = j.layers[0]!;
      expect([row.bpw_index, row.bpw_codebook, row.bpw_scale, row.bpw_zero, row.bpw]).toEqual([3, 0, 0.5, 0.5, 4]);
      expect(row.k).toBe(8);

      const sym = JSON.parse((await cli(['quantize', MLP, '--method', 'rtn', '--bits', '4', '--symmetric', '--group', 'channel', '--layers', 'fc3', '--json'])).stdout) as QuantizeJson;
      expect(sym.layers.map((l) => l.name)).toEqual(['fc3']);
      expect(sym.layers[0]!.bpw_zero).toBe(0);
      expect(sym.layers[0]!.bpw_scale).toBe(16 / 128);
      // The bias matched the filter too and is said to stay as stored.
      expect(sym.skipped).toEqual([{ name: 'fc3.bias', tensor: 'fc3.bias', reason: expect.stringContaining('kept as stored') }]);
    },
    TIMEOUT_MS,
  );

  it(
    'rvq and pvq run and report their own columns; a layer whose rows d does not divide is listed as skipped',
    async () => {
      const rvq = JSON.parse((await cli(['quantize', MLP, '--method', 'rvq', '--k', '8', '--k2', '4', '--d', '2', '--iters', '3', '--layers', 'fc3', '--json'])).stdout) as QuantizeJson;
      expect(rvq.layers[0]).toMatchObject({ name: 'fc3', k: 8, k2: 4, bpw_index: (3 + 2) / 2 });
      const pvq = JSON.parse((await cli(['quantize', MLP, '--method', 'pvq', '--d', '7', '--pulses', '5', '--json'])).stdout) as QuantizeJson;
      expect(pvq.layers.map((l) => l.name)).toEqual(['fc1']);
      expect(pvq.layers[0]!.entropy).toBeNull();
      expect(pvq.skipped.map((s) => [s.name, s.reason])).toEqual([
        ['fc2', 'd = 7 does not divide the 128 input weights per row'],
        ['fc3', 'd = 7 does not divide the 128 input weights per row'],
      ]);
      expect(pvq.total).toMatchObject({ layers: 3, quantized: 1, skipped: 2, weights: 128 * 784 });
    },
    TIMEOUT_MS,
  );

  it(
    'bad options exit 2 with a message naming the option; nothing is written',
    async () => {
      const cases: [string[], string][] = [
        [[], 'quantize needs --method rtn|vq|rvq|pvq'],
        [['--method', 'kmeans'], '--method must be one of rtn, vq, rvq, pvq; got "kmeans"'],
        [['--method', 'rtn', '--bits', '9'], '--bits must be an integer in [2, 8]; got "9"'],
        [['--method', 'rtn', '--group', 'row'], '--group must be an integer'],
        [['--method', 'rtn', '--k', '16'], '--k does not apply to --method rtn (it is for vq, rvq)'],
        [['--method', 'vq', '--k2', '16'], '--k2 does not apply to --method vq (it is for rvq)'],
        [['--method', 'vq', '--k', '1'], '--k must be an integer in [2, 65536]; got "1"'],
        [['--method', 'vq', '--d', '2.5'], '--d must be an integer in [1, 8]; got "2.5"'],
        [['--method', 'vq', '--codebook-bits', '24'], '--codebook-bits must be 16 or 32; got "24"'],
        [['--method', 'pvq', '--pulses', '100'], '--pulses must be an integer in [1, 64]; got "100"'],
        [['--method', 'vq', '--frobnicate'], 'unknown option "--frobnicate" for quantize'],
        [['--method', 'vq', '--layers', '(fc'], '--layers: invalid regular expression "(fc"'],
        [['--method', 'vq', '--out', 'a.safetensors', '--dequantized', 'a.safetensors'], '--out and --dequantized name the same file'],
        [['--method', 'vq', '--k'], '--k needs a value'],
      ];
      for (const [args, msg] of cases) {
        const r = await cli(['quantize', MLP, ...args]);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.split('\n')[0], args.join(' ')).toContain(msg);
      }
    },
    TIMEOUT_MS,
  );

  it(
    'exits 1 naming the file on a corrupt input, a filter that matches nothing, settings no layer fits, or --out over the input',
    async () => {
      const bad = join(dir, 'broken.safetensors');
      const bytes = new Uint8Array(64);
      new DataView(bytes.buffer).setBigUint64(0, 1_000_000n, true);
      writeFileSync(bad, bytes);
      const corrupt = await cli(['quantize', bad, '--method', 'rtn']);
      expect(corrupt.code).toBe(1);
      expect(corrupt.stdout).toBe('');
      expect(corrupt.stderr).toMatch(/^weightlens: .*broken\.safetensors: header declares/);
      expect(corrupt.stderr.trim().split('\n')).toHaveLength(1);

      const none = await cli(['quantize', MLP, '--method', 'rtn', '--layers', 'attention']);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('no weight matrix matches --layers /attention/');

      const nofit = await cli(['quantize', MLP, '--method', 'vq', '--d', '3']);
      expect(nofit.code).toBe(1);
      expect(nofit.stderr).toContain('no layer could be quantized with these settings (fc1: d = 3 does not divide the 784 input weights per row');

      const copy = join(dir, 'copy.safetensors');
      writeFileSync(copy, readFileSync(MLP));
      const over = await cli(['quantize', copy, '--method', 'rtn', '--out', copy]);
      expect(over.code).toBe(1);
      expect(over.stderr).toContain('would overwrite the model being quantized');
      expect(readFileSync(copy).equals(readFileSync(MLP))).toBe(true);
    },
    TIMEOUT_MS,
  );
});
