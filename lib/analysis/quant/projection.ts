import { Rng } from '../../base/rng';
import { symEigSmall } from '../../math/sym-eig-small';

/**
 * The 2-D picture of a codebook: a seeded sample of sub-vectors and the codewords, projected on
 * the two leading principal axes of the sub-vectors (centred). For d = 2 the axes are the raw
 * coordinates (no rotation), so the Voronoi cells the chart draws are the codebook's exact
 * nearest-codeword regions; for d = 1 the second axis is a jitter the chart labels as such.
 */

export interface Projection {
  d: number;
  /** 'pca' (d ≥ 3), 'raw' (d = 2, exact cells), 'value' (d = 1: x = value, y = jitter). */
  mode: 'pca' | 'raw' | 'value';
  /** Fraction of the sub-vectors' variance on each axis (1, 1 for raw/value). */
  explained: [number, number];
  /** 2 × m interleaved (x0, y0, x1, y1, …). */
  points: Float32Array;
  /** Codeword each sampled point is assigned to. */
  pointAssign: Uint16Array;
  /** 2 × k interleaved codeword coordinates. */
  codewords: Float32Array;
}

export const PROJECTION_SAMPLE = 3000;

export function projectCodebook(
  x: Float32Array, n: number, d: number, codebook: Float32Array, k: number, assign: ArrayLike<number>, seed = 0, sample = PROJECTION_SAMPLE,
): Projection {
  const m = Math.min(n, sample);
  const rng = new Rng(seed ^ 0x9e37);
  // m distinct indices by a partial Fisher–Yates over a sparse map (n can be ~10^7).
  const picked = new Map<number, number>();
  const idx = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const vj = picked.get(j) ?? j;
    picked.set(j, picked.get(i) ?? i);
    idx[i] = vj;
  }
  const points = new Float32Array(2 * m);
  const pointAssign = new Uint16Array(m);
  const codewords = new Float32Array(2 * k);
  for (let i = 0; i < m; i++) pointAssign[i] = assign[idx[i]!]!;
  if (d === 1) {
    for (let i = 0; i < m; i++) {
      points[2 * i] = x[idx[i]!]!;
      points[2 * i + 1] = rng.next() * 2 - 1;
    }
    for (let j = 0; j < k; j++) codewords[2 * j] = codebook[j]!;
    return { d, mode: 'value', explained: [1, 1], points, pointAssign, codewords };
  }
  if (d === 2) {
    for (let i = 0; i < m; i++) {
      points[2 * i] = x[idx[i]! * 2]!;
      points[2 * i + 1] = x[idx[i]! * 2 + 1]!;
    }
    codewords.set(codebook.subarray(0, 2 * k));
    return { d, mode: 'raw', explained: [1, 1], points, pointAssign, codewords };
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < m; i++) for (let t = 0; t < d; t++) mean[t] = mean[t]! + x[idx[i]! * d + t]! / m;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < m; i++) {
    const o = idx[i]! * d;
    for (let a = 0; a < d; a++) {
      const va = x[o + a]! - mean[a]!;
      for (let b = a; b < d; b++) cov[a * d + b] = cov[a * d + b]! + va * (x[o + b]! - mean[b]!);
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a]!;
  const { values, vectors } = symEigSmall(cov, d);
  const total = values.reduce((p, v) => p + Math.max(0, v), 0) || 1;
  const proj = (src: Float32Array, o: number, axis: number): number => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (src[o + t]! - mean[t]!) * vectors[axis * d + t]!;
    return s;
  };
  for (let i = 0; i < m; i++) {
    points[2 * i] = proj(x, idx[i]! * d, 0);
    points[2 * i + 1] = proj(x, idx[i]! * d, 1);
  }
  for (let j = 0; j < k; j++) {
    codewords[2 * j] = proj(codebook, j * d, 0);
    codewords[2 * j + 1] = proj(codebook, j * d, 1);
  }
  return { d, mode: 'pca', explained: [Math.max(0, values[0]!) / total, Math.max(0, values[1]!) / total], points, pointAssign, codewords };
}
