import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import { DET, ROOT, runCli as cli, TIMEOUT_MS } from './run-cli';
import { hadamardEntry as had } from '../gpu/test-matrices';

/**
 * `weightlens analyze`, run as a user runs it (the real CLI in a child process, worker threads
 * and all), on (a) a checkpoint written here whose matrices have spectra known in closed form and
 * (b) the PaddleOCR detection model, against WeightWatcher 0.7.5.5's numbers for it.
 */

type Row = Record<string, number | string | null>;
interface AnalyzeJson {
  file: string;
  format: string;
  fit: string;
  threads: number;
  columns: string[];
  layers: Row[];
  skipped: { name: string; reason: string }[];
}

/**
 * W = H_N[:, :M] · diag(s) · H_M (N × M, integer entries, exact in float32). HᵀH = n·I for a
 * Hadamard matrix, so WᵀW = N·H_Mᵀ·diag(s²)·H_M, whose eigenvalues are exactly N·M·s_j².
 */
function knownMatrix(N: number, M: number, s: readonly number[]): number[][] {
  const w: number[][] = [];
  for (let r = 0; r < N; r++) {
    const row: number[] = [];
    for (let c = 0; c < M; c++) {
      let v = 0;
      for (let j = 0; j < M; j++) v += had(r, j) * s[j]! * had(j, c);
      row.push(v);
    }
    w.push(row);
  }
  return w;
}

const S_A = Array.from({ length: 16 }, (_, j) => j + 1);
// Distinct values at the top: a tail of equal eigenvalues has no power-law fit (α = ∞).
const S_B = [3, 1, 4, 1.5, 5, 9, 2, 6, 5.5, 3.5, 4.5, 8, 9.5, 7, 10, 2.5];
const S_CONV = [0, 1, 2, 3].map((k) => Array.from({ length: 16 }, (_, j) => 1 + 0.25 * ((j * 5 + k * 3) % 16) + 4 * k));

/** Expected ESDs, ascending: λ = N·M·s² (conv slices pooled and halved, WeightWatcher's conv2d_norm). */
const EXPECTED: Record<string, number[]> = {
  'known.a': S_A.map((s) => 64 * 16 * s * s),
  'known.b': S_B.map((s) => 32 * 16 * s * s),
  'block.conv': S_CONV.flat().map((s) => 0.5 * 32 * 16 * s * s),
};
for (const k of Object.keys(EXPECTED)) EXPECTED[k]!.sort((a, b) => a - b);

let dir: string;
let known: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weightlens-analyze-'));
  const a = knownMatrix(64, 16, S_A); // stored [64, 16]
  const b = knownMatrix(32, 16, S_B); // stored transposed, [16, 32]
  const bT = new Float32Array(16 * 32);
  for (let r = 0; r < 32; r++) for (let c = 0; c < 16; c++) bT[c * 32 + r] = b[r]![c]!;
  // Conv kernel [out 32, in 16, 2, 2]: slice (i, j) is the known matrix for S_CONV[2i + j].
  const conv = new Float32Array(32 * 16 * 4);
  S_CONV.forEach((s, k) => {
    const m = knownMatrix(32, 16, s);
    const [i, j] = [k >> 1, k & 1];
    for (let o = 0; o < 32; o++) for (let c = 0; c < 16; c++) conv[((o * 16 + c) * 2 + i) * 2 + j] = m[o]![c]!;
  });
  const withNaN = new Float32Array(32 * 16).map((_, i) => Math.sin(i));
  withNaN[77] = NaN;
  known = join(dir, 'known.safetensors');
  writeFileSync(
    known,
    writeSafetensors([
      { name: 'known.a.weight', shape: [64, 16], dtype: 'F32', data: Float32Array.from(a.flat()) },
      { name: 'known.b.weight', shape: [16, 32], dtype: 'F32', data: bT },
      { name: 'block.conv.weight', shape: [32, 16, 2, 2], dtype: 'F32', data: conv },
      { name: 'zeros.weight', shape: [32, 16], dtype: 'F32', data: new Float32Array(32 * 16) },
      { name: 'broken.weight', shape: [32, 16], dtype: 'F32', data: withNaN },
      { name: 'tiny.weight', shape: [8, 4], dtype: 'F32', data: new Float32Array(32).fill(1) },
    ]),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function relClose(actual: unknown, expected: number, tol: number) {
  expect(typeof actual).toBe('number');
  expect(Math.abs((actual as number) - expected) / Math.abs(expected)).toBeLessThanOrEqual(tol);
}

describe('weightlens analyze on matrices with known spectra', () => {
  it(
    'gives lambda_max, log_norm, stable_rank, entropy and num_evals of the known eigenvalues, rows in layer order',
    async () => {
      const r = await cli(['analyze', known, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as AnalyzeJson;
      expect(j.format).toBe('safetensors');
      expect(j.fit).toBe('ww');
      expect(j.layers.map((l) => l.name)).toEqual(['known.a', 'known.b', 'block.conv', 'zeros', 'broken']);
      expect(j.layers.map((l) => l.layer_id)).toEqual([...j.layers.map((l) => l.layer_id)].sort((x, y) => Number(x) - Number(y)));
      expect(j.skipped).toEqual([{ name: 'tiny', reason: expect.stringContaining('min_evals') }]);
      const geometry: Record<string, [number, number, number, number]> = {
        'known.a': [64, 16, 1, 16],
        'known.b': [32, 16, 1, 16],
        'block.conv': [32, 16, 4, 64],
      };
      for (const [name, ev] of Object.entries(EXPECTED)) {
        const row = j.layers.find((l) => l.name === name)!;
        expect(row.error).toBe('');
        const [N, M, rf, numEvals] = geometry[name]!;
        expect([row.N, row.M, row.rf, row.num_evals, row.Q]).toEqual([N, M, rf, numEvals, N / M]);
        const sum = ev.reduce((p, v) => p + v, 0);
        const max = ev[ev.length - 1]!;
        relClose(row.lambda_max, max, 1e-9);
        relClose(row.spectral_norm, max, 1e-9);
        relClose(row.log_spectral_norm, Math.log10(max), 1e-9);
        relClose(row.log_norm, Math.log10(sum), 1e-9);
        relClose(row.stable_rank, sum / max, 1e-9);
        const h = -ev.reduce((p, v) => p + (v / sum) * Math.log(v / sum), 0);
        relClose(row.entropy, h / Math.log(ev.length), 1e-9);
        // The fit columns exist and are consistent with each other.
        expect(row.alpha, `${name} alpha`).toBeGreaterThan(1);
        relClose(row.alpha_weighted, (row.alpha as number) * Math.log10(max), 1e-9);
        expect(row.xmax).toBe(row.lambda_max);
        // xmin is one of the eigenvalues (up to the solver's roundoff), and the spikes are those from it up.
        const xmin = row.xmin as number;
        expect(ev.some((v) => Math.abs(v - xmin) <= 1e-9 * max)).toBe(true);
        expect(ev.filter((v) => v >= xmin - 1e-9 * max).length).toBe(row.num_pl_spikes);
        // Full rank, and W-PCA: the fewest top eigenvalues holding 99% of Σλ.
        expect(row.matrix_rank).toBe(numEvals);
        const desc = [...ev].reverse();
        let acc = 0;
        let count = 0;
        while (acc < 0.99 * sum) acc += desc[count++]!;
        expect(row.wpca, `${name} wpca`).toBe(count);
      }
    },
    TIMEOUT_MS,
  );

  it(
    'reports a broken layer as a row with an error, not a crash',
    async () => {
      const r = await cli(['analyze', known, '--json']);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as AnalyzeJson;
      const zeros = j.layers.find((l) => l.name === 'zeros')!;
      const broken = j.layers.find((l) => l.name === 'broken')!;
      expect(zeros.error).toMatch(/^zeros: .*zero/);
      expect(broken.error).toMatch(/^broken: .*NaN/);
      expect([zeros.alpha, broken.alpha, broken.lambda_max]).toEqual([null, null, null]);
      expect([broken.N, broken.M, broken.num_evals]).toEqual([32, 16, 16]);
      // The text table marks it too, and still exits 0.
      const t = await cli(['analyze', known]);
      expect(t.code).toBe(0);
      expect(t.stdout).toMatch(/broken .*error: broken: .*NaN/);
      expect(t.stdout).toContain('2 layers failed');
      // --farms-only gives the same error rows, and FARMS columns for the others.
      const f = JSON.parse((await cli(['analyze', known, '--json', '--farms-only'])).stdout) as AnalyzeJson;
      expect(f.layers.map((l) => [l.name, l.error === '' ? 'ok' : String(l.error).split(':')[0]])).toEqual([
        ['known.a', 'ok'], ['known.b', 'ok'], ['block.conv', 'ok'], ['zeros', 'zeros'], ['broken', 'broken'],
      ]);
      expect(f.layers[0]!.farms_alpha).toBeGreaterThan(1);
      expect(f.layers[3]!.farms_alpha).toBeNull();
    },
    TIMEOUT_MS,
  );

  it(
    'gives the same rows with one thread (in-process) and with a pool of worker threads',
    async () => {
      const [one, two, four] = await Promise.all([
        cli(['analyze', known, '--json', '--mp-fit', '--farms', '--threads', '1']),
        cli(['analyze', known, '--json', '--mp-fit', '--farms', '--threads', '2']),
        cli(['analyze', known, '--json', '--mp-fit', '--farms', '--threads', '4']),
      ]);
      const a = JSON.parse(one.stdout) as AnalyzeJson;
      const b = JSON.parse(two.stdout) as AnalyzeJson;
      const c = JSON.parse(four.stdout) as AnalyzeJson;
      expect([a.threads, b.threads, c.threads]).toEqual([1, 2, 4]);
      expect(b.layers).toEqual(a.layers);
      expect(c.layers).toEqual(a.layers);
    },
    TIMEOUT_MS,
  );

  it(
    '--kernel ts (the TypeScript reference) and --kernel wasm give the same numbers and say which ran',
    async () => {
      const [ts, wasm] = await Promise.all([
        cli(['analyze', known, '--json', '--mp-fit', '--farms', '--kernel', 'ts']),
        cli(['analyze', known, '--json', '--mp-fit', '--farms', '--kernel', 'wasm']),
      ]);
      expect([ts.code, wasm.code]).toEqual([0, 0]);
      const a = JSON.parse(ts.stdout) as AnalyzeJson & { kernel: string };
      const b = JSON.parse(wasm.stdout) as AnalyzeJson & { kernel: string };
      expect([a.kernel, b.kernel]).toEqual(['ts', 'wasm']);
      expect(b.layers.map((l) => l.name)).toEqual(a.layers.map((l) => l.name));
      a.layers.forEach((ra, i) => {
        const rb = b.layers[i]!;
        for (const c of a.columns) {
          // block.conv viewed as FARMS's [out, in·kh·kw] = 32 × 64 matrix has rank 16: half its
          // window eigenvalues are roundoff (~1e-11), and which of them come out exactly 0 decides
          // xmin_mid, so FARMS α there depends on the kernel's rounding. Not a spectrum to compare.
          if (ra.name === 'block.conv' && c.startsWith('farms_')) continue;
          const x = ra[c];
          const y = rb[c];
          if (typeof x === 'number' && typeof y === 'number') expect(Math.abs(x - y), `${ra.name} ${c}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(x)));
          else expect(y, `${ra.name} ${c}`).toEqual(x);
        }
      });
    },
    TIMEOUT_MS,
  );

  it(
    '--layers keeps the layers whose layer or tensor name matches',
    async () => {
      const byName = JSON.parse((await cli(['analyze', known, '--json', '--layers', '^known\\.'])).stdout) as AnalyzeJson;
      expect(byName.layers.map((l) => l.name)).toEqual(['known.a', 'known.b']);
      const byTensor = JSON.parse((await cli(['analyze', known, '--json', '--layers=conv\\.weight$'])).stdout) as AnalyzeJson;
      expect(byTensor.layers.map((l) => l.name)).toEqual(['block.conv']);
      const none = await cli(['analyze', known, '--layers', 'nothing-matches']);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/no analyzable layer matches --layers \/nothing-matches\//);
    },
    TIMEOUT_MS,
  );

  it(
    '--no-limits also analyses the matrices WeightWatcher skips',
    async () => {
      const j = JSON.parse((await cli(['analyze', known, '--json', '--no-limits', '--layers', 'tiny'])).stdout) as AnalyzeJson;
      expect(j.layers).toHaveLength(1);
      // An all-ones 8 × 4 matrix has one nonzero eigenvalue, 8·4 = 32.
      relClose(j.layers[0]!.lambda_max, 32, 1e-12);
      expect(j.layers[0]!.num_evals).toBe(4);
    },
    TIMEOUT_MS,
  );
});

describe('weightlens analyze --csv', () => {
  it(
    "has WeightWatcher's column names in the header, then mp and farms_ columns when asked",
    async () => {
      const plain = await cli(['analyze', known, '--csv']);
      expect(plain.code).toBe(0);
      const lines = plain.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(
        'layer_id,name,alpha,alpha_weighted,D,xmin,xmax,sigma,num_pl_spikes,log_norm,log_spectral_norm,spectral_norm,' +
          'log_alpha_norm,stable_rank,entropy,lambda_max,num_evals,N,M,rf,Q,warning,matrix_rank,wpca,error',
      );
      expect(lines).toHaveLength(1 + 5);
      // Full-precision numbers: the CSV lambda_max of known.a is exactly 1024 · 16².
      const header = lines[0]!.split(',');
      const a = lines[1]!.split(',');
      expect(a[header.indexOf('name')]).toBe('known.a');
      relClose(Number(a[header.indexOf('lambda_max')]), 1024 * 256, 1e-12);
      // Messages with commas are quoted, so every row has as many cells as the header.
      const broken = lines.find((l) => l.includes(',broken,'))!;
      expect(broken).toMatch(/"broken: .*"$|broken: [^,]*$/);

      const extra = await cli(['analyze', known, '--csv', '--mp-fit', '--farms', '--fit', 'clip_xmax']);
      const h = extra.stdout.split('\n')[0]!.split(',');
      expect(h.slice(h.indexOf('warning') + 1)).toEqual([
        'matrix_rank', 'wpca',
        'num_fingers', 'raw_alpha',
        'sigma_mp', 'num_spikes', 'mp_softrank', 'bulk_min', 'bulk_max',
        'farms_alpha', 'farms_alpha_weighted', 'farms_D', 'farms_xmin', 'farms_spectral_norm', 'farms_nr', 'farms_nc', 'farms_windows',
        'error',
      ]);
      const farmsOnly = await cli(['analyze', known, '--csv', '--farms-only']);
      expect(farmsOnly.stdout.split('\n')[0]).toBe(
        'layer_id,name,num_evals,N,M,rf,Q,farms_alpha,farms_alpha_weighted,farms_D,farms_xmin,farms_spectral_norm,farms_nr,farms_nc,farms_windows,error',
      );
    },
    TIMEOUT_MS,
  );
});

interface RefLayer {
  name: string;
  N: number;
  M: number;
  rf: number;
  num_evals: number;
  alpha: number;
  D: number;
  xmin: number;
  lambda_max: number;
  log_norm: number;
  stable_rank: number;
  entropy: number;
  warning: string;
  sigma_mp: number;
  num_spikes: number;
  mp_softrank: number;
}

/** The shared reference when this checkout sits beside it, else its committed copy (tests/fixtures/README.md). */
function loadReference(): { layers: RefLayer[] } {
  const shared = resolve(ROOT, '../shared/reference/weightwatcher-ppocrv4-det.json');
  const path = existsSync(shared) ? shared : join(ROOT, 'tests/fixtures/spectra/weightwatcher-ppocrv4-det.json');
  return JSON.parse(readFileSync(path, 'utf8')) as { layers: RefLayer[] };
}

describe('weightlens analyze on the PaddleOCR detection model vs WeightWatcher 0.7.5.5', () => {
  it(
    'gives the same layers and metrics (alpha within 0.01, others within 1e-3, mp_fit within 5%)',
    async () => {
      const ref = loadReference();
      const r = await cli(['analyze', DET, '--json', '--mp-fit']);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as AnalyzeJson;
      const rows = new Map(j.layers.map((l) => [l.name as string, l]));
      // The reference offered WeightWatcher only tensors with ≥ 1024 elements; every layer we
      // analyse beyond its list is one of those smaller ones.
      const refNames = new Set(ref.layers.map((l) => l.name));
      const extra = j.layers.filter((l) => !refNames.has(l.name as string));
      expect(extra.map((l) => l.name)).toEqual(['conv2d_0.w_0', 'conv2d_131.w_0', 'conv2d_395.w_0']);
      for (const l of extra) expect((l.N as number) * (l.M as number) * (l.rf as number)).toBeLessThan(1024);
      expect(ref.layers).toHaveLength(46);
      for (const w of ref.layers) {
        const o = rows.get(w.name);
        expect(o, w.name).toBeDefined();
        expect([o!.N, o!.M, o!.rf, o!.num_evals, o!.error], w.name).toEqual([w.N, w.M, w.rf, w.num_evals, '']);
        expect(Math.abs((o!.alpha as number) - w.alpha), `${w.name} alpha`).toBeLessThanOrEqual(0.01);
        for (const k of ['D', 'xmin', 'lambda_max', 'log_norm', 'stable_rank', 'entropy'] as const) {
          const got = o![k] as number;
          expect(Math.abs(got - w[k]) / Math.abs(w[k]), `${w.name} ${k}: ${got} vs ${w[k]}`).toBeLessThanOrEqual(1e-3);
        }
        expect(o!.warning, w.name).toBe(w.warning);
        for (const k of ['sigma_mp', 'mp_softrank'] as const) {
          const got = o![k] as number;
          expect(Math.abs(got - w[k]) / Math.abs(w[k]), `${w.name} ${k}: ${got} vs ${w[k]}`).toBeLessThanOrEqual(0.05);
        }
        expect(Math.abs((o!.num_spikes as number) - w.num_spikes), `${w.name} num_spikes`).toBeLessThanOrEqual(Math.max(1, 0.05 * w.num_spikes));
      }
    },
    TIMEOUT_MS,
  );
});

describe('weightlens analyze errors', () => {
  it(
    'exits 1 with the file named on a corrupt file, 2 on a bad --layers regex or option',
    async () => {
      const bad = join(dir, 'corrupt.safetensors');
      // A header length far past the end of the file.
      const bytes = new Uint8Array(64);
      new DataView(bytes.buffer).setBigUint64(0, 1_000_000n, true);
      writeFileSync(bad, bytes);
      const corrupt = await cli(['analyze', bad]);
      expect(corrupt.code).toBe(1);
      expect(corrupt.stdout).toBe('');
      expect(corrupt.stderr).toMatch(/^weightlens: .*corrupt\.safetensors: /);

      const missing = await cli(['analyze', join(dir, 'nope.safetensors')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('nope.safetensors');

      const regex = await cli(['analyze', known, '--layers', '([a-z']);
      expect(regex.code).toBe(2);
      expect(regex.stderr).toMatch(/--layers: invalid regular expression/);
      expect(regex.stdout).toBe('');

      for (const args of [['--fit', 'best'], ['--threads', '0'], ['--json', '--csv'], ['--bogus'], ['--kernel', 'gpu']]) {
        const r = await cli(['analyze', known, ...args]);
        expect(r.code, args.join(' ')).toBe(2);
      }
    },
    TIMEOUT_MS,
  );
});
