import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import { DET, runCli as cli, TIMEOUT_MS } from './run-cli';
import { hadamardEntry as had } from '../gpu/test-matrices';

/** `weightlens esd`: the eigenvalues themselves, checked against spectra known in closed form. */

interface EsdJson {
  file: string;
  layer: { id: number; name: string; tensor: string; kind: string; N: number; M: number; rf: number; Q: number; num_evals: number };
  fit: string;
  alpha: number | null;
  lambda_max: number;
  num_evals: number;
  evals: number[];
  farms?: { alpha: number | null; nr: number; nc: number; windows: number; num_evals: number; evals: number[] } | null;
}

/** W = H_N[:, :M]·diag(s)·H_M: integer entries, eigenvalues of WᵀW exactly N·M·s². Row-major N × M. */
function knownMatrix(N: number, M: number, s: readonly number[]): Float32Array {
  const w = new Float32Array(N * M);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < M; c++) {
      let v = 0;
      for (let j = 0; j < M; j++) v += had(r, j) * s[j]! * had(j, c);
      w[r * M + c] = v;
    }
  }
  return w;
}

const S_DENSE = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5, 9, 0.5, 3, 6];
const S_CONV = [0, 1, 2].map((k) => Array.from({ length: 16 }, (_, j) => ((j * 5 + k) % 13) + 1));

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weightlens-esd-'));
  // Conv1d-style kernel [out 32, in 16, 3, 1] stored as 4-D: three slices with known spectra.
  const conv = new Float32Array(32 * 16 * 3);
  S_CONV.forEach((s, k) => {
    const m = knownMatrix(32, 16, s);
    for (let o = 0; o < 32; o++) for (let c = 0; c < 16; c++) conv[(o * 16 + c) * 3 + k] = m[o * 16 + c]!;
  });
  file = join(dir, 'esd.safetensors');
  writeFileSync(
    file,
    writeSafetensors([
      { name: 'enc.proj.weight', shape: [64, 16], dtype: 'F32', data: knownMatrix(64, 16, S_DENSE) },
      { name: 'enc.conv.weight', shape: [32, 16, 3, 1], dtype: 'F32', data: conv },
      { name: 'enc.small.weight', shape: [4, 4], dtype: 'F32', data: new Float32Array(16).fill(0.5) },
    ]),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectClose(actual: readonly number[], expected: readonly number[], rel: number) {
  expect(actual).toHaveLength(expected.length);
  const scale = Math.max(...expected);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `eigenvalue ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(rel * scale));
}

describe('weightlens esd', () => {
  it(
    'prints the known eigenvalues N·M·s², ascending, and lambda_max = the largest of them',
    async () => {
      const r = await cli(['esd', file, '--layer', 'enc.proj', '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as EsdJson;
      const expected = S_DENSE.map((s) => 64 * 16 * s * s).sort((a, b) => a - b);
      expect(j.layer).toMatchObject({ name: 'enc.proj', tensor: 'enc.proj.weight', N: 64, M: 16, rf: 1, num_evals: 16 });
      expect(j.num_evals).toBe(16);
      expectClose(j.evals, expected, 1e-12);
      expect(j.lambda_max).toBe(j.evals[j.evals.length - 1]);
      expect(j.fit).toBe('ww');
      expect(j.farms).toBeUndefined();
    },
    TIMEOUT_MS,
  );

  it(
    'pools conv slices and halves them (conv2d_norm); the tensor name works as well as the layer name',
    async () => {
      const j = JSON.parse((await cli(['esd', file, '--layer', 'enc.conv.weight', '--json'])).stdout) as EsdJson;
      expect(j.layer).toMatchObject({ name: 'enc.conv', kind: 'conv2d', N: 32, M: 16, rf: 3, num_evals: 48 });
      const expected = S_CONV.flat().map((s) => 0.5 * 32 * 16 * s * s).sort((a, b) => a - b);
      expectClose(j.evals, expected, 1e-12);
    },
    TIMEOUT_MS,
  );

  it(
    'matches analyze: num_evals values whose largest is analyze’s lambda_max',
    async () => {
      const [e, a] = await Promise.all([
        cli(['esd', DET, '--layer', 'conv2d_107.w_0', '--json']),
        cli(['analyze', DET, '--json', '--layers', '^conv2d_107\\.']),
      ]);
      expect(e.code).toBe(0);
      const j = JSON.parse(e.stdout) as EsdJson;
      const row = (JSON.parse(a.stdout) as { layers: Record<string, number>[] }).layers[0]!;
      expect(j.evals).toHaveLength(row.num_evals!);
      expect(j.num_evals).toBe(96);
      expect(j.evals[j.evals.length - 1]).toBe(row.lambda_max);
      expect(j.alpha).toBe(row.alpha);
      for (let i = 1; i < j.evals.length; i++) expect(j.evals[i]!).toBeGreaterThanOrEqual(j.evals[i - 1]!);
      // WeightWatcher 0.7.5.5's lambda_max for this layer (tests/fixtures/spectra/weightwatcher-ppocrv4-det.json).
      expect(Math.abs(row.lambda_max! - 31.299672653296525) / 31.299672653296525).toBeLessThan(1e-6);
    },
    TIMEOUT_MS,
  );

  it(
    '--farms adds the pooled window eigenvalues; a window covering the whole matrix gives its own ESD',
    async () => {
      // 64 × 16 is smaller than one 100 × 200 window, so the clamped window is the matrix itself.
      const j = JSON.parse((await cli(['esd', file, '--layer', 'enc.proj', '--json', '--farms'])).stdout) as EsdJson;
      expect(j.farms).toMatchObject({ windows: 1, num_evals: 16 });
      expectClose(j.farms!.evals, j.evals, 1e-12);
      // Smaller windows: 8 × 16 on a 3 × 3 grid of a 64 × 16 matrix ([out, in] = [64, 16] rows × cols).
      const w = JSON.parse((await cli(['esd', file, '--layer', 'enc.proj', '--json', '--farms', '--farms-nr', '8', '--farms-ops', '3'])).stdout) as EsdJson;
      expect(w.farms).toMatchObject({ nr: 8, nc: 16, windows: 3 });
      expect(w.farms!.evals).toHaveLength(3 * 8);
    },
    TIMEOUT_MS,
  );

  it(
    'prints one eigenvalue per line after a # header without --json, and analyses a layer the limits skip',
    async () => {
      const r = await cli(['esd', file, '--layer', 'enc.small']);
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^# .*enc\.small .*num_evals=4 /);
      const values = lines.slice(1).map(Number);
      // A 4 × 4 matrix of 0.5: one eigenvalue 4 · 4 · 0.25 = 4, the rest 0.
      expect(values).toHaveLength(4);
      expect(values[3]).toBeCloseTo(4, 12);
      for (const v of values.slice(0, 3)) expect(Math.abs(v)).toBeLessThan(1e-12);
    },
    TIMEOUT_MS,
  );

  it(
    'exits 1 for an unknown layer (suggesting names) and 2 without --layer',
    async () => {
      const unknown = await cli(['esd', file, '--layer', 'proj']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no layer named "proj".*did you mean "enc\.proj"/);
      const noLayer = await cli(['esd', file, '--json']);
      expect(noLayer.code).toBe(2);
      expect(noLayer.stderr).toContain('--layer');
      const corrupt = join(dir, 'corrupt.safetensors');
      writeFileSync(corrupt, new Uint8Array([1, 2, 3]));
      const bad = await cli(['esd', corrupt, '--layer', 'x']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('corrupt.safetensors');
    },
    TIMEOUT_MS,
  );
});
