import { CancelledError, UnsupportedError } from '../../base/errors';

/**
 * Pyramid vector quantization (Fischer 1986; the shape quantizer of Opus/CELT). Each sub-vector
 * x of d weights is split into a gain g = ‖x‖₂ (energy-preserving, as CELT) and a direction
 * quantized to the point y of the pyramid P(d, K) = {y ∈ ℤ^d : Σ|y_i| = K} with the smallest
 * angle to x, i.e. the largest (x·y)/‖y‖. Reconstruction: x̂ = ĝ · y/‖y‖. There is no codebook:
 * y is stored as its index in 0..N(d, K)−1 (pvqEncodeIndex), log2 N(d, K) bits, and the gain
 * as a gainBits-bit code.
 *
 * Search. CELT's alg_quant (pre-projection y_i = ⌊K|x_i|/Σ|x|⌋ when K > d/2, then one pulse at a
 * time where it most increases (x·y)²/‖y‖²) misses the best point in ~3% of random cases
 * (d ≤ 6, K ≤ 12). We keep it as the start and then make the search exact: with a = |x|,
 * S = a·y and E = ‖y‖², every point lies below the concave upper hull of {(E, S)}, and the
 * maximiser of S/√E is a vertex of that hull (points under a chord of the concave curve
 * S = c√E lie under the curve). Hull vertices are the maximisers of the separable concave
 * S − μE over Σy = K, which the marginal-gain greedy solves exactly, and adjacent vertices differ
 * by moving one pulse (the swap where the K-th and (K+1)-th marginal gains cross as μ moves).
 * So we go to the vertex for μ = S/(2E) of CELT's point, then walk the hull both ways, one pulse
 * move at a time, stopping when the line through the current edge (which bounds every point
 * beyond it) cannot beat the best S/√E found: max over E in range of (S_v + m(E − E_v))/√E is
 * at an end of the range, since that function of E decreases then increases.
 *
 * Gain quantizer (log-domain uniform with a dedicated zero): code 0 is gain 0 (an all-zero
 * sub-vector); codes 1..L, L = 2^gainBits − 1, are the centres of L equal bins of ln g between
 * gMin and gMax, the layer's smallest and largest nonzero gain: ĝ_c = gMin·(gMax/gMin)^((c − ½)/L).
 * Log bins give every gain the same relative error (weights span decades of magnitude). gMin and
 * gMax are stored as float32 (64 bits per layer, counted in gainBitsPerWeight) and the levels
 * are computed from the stored values, so codes + indices + the two floats reproduce
 * `dequantized` bit for bit (pvqDequantize).
 *
 * Index bits are log2 N(d, K) per sub-vector, fractional as with a range coder (Opus codes the
 * index with a uniform range code); with d ≤ 8 and K ≤ 64, N(d, K) ≤ N(8, 64) ≈ 2^38, so every
 * index is an exact float64 integer.
 */

export const MAX_PVQ_D = 8;
export const MAX_PVQ_PULSES = 64;
export const MAX_PVQ_GAIN_BITS = 16;
/** gMin and gMax stored once per layer as float32. */
const GAIN_RANGE_BITS = 64;
/** Sub-vectors between cancellation checks. */
const CHECK_EVERY = 4096;

export interface PvqResult {
  d: number;
  pulses: number;
  gainBits: number;
  dequantized: Float32Array;
  /** Pyramid index per sub-vector. */
  indices: Float64Array;
  gainCodes: Uint16Array;
  gainMin: number;
  gainMax: number;
  indexBitsPerWeight: number;
  gainBitsPerWeight: number;
}

// N(d, K) for 0 ≤ d ≤ MAX_PVQ_D, 0 ≤ K ≤ MAX_PVQ_PULSES, from N(d, K) = N(d−1, K) + N(d, K−1) +
// N(d−1, K−1), N(0, 0) = 1, N(0, K>0) = 0, N(d, 0) = 1. All values < 2^53 (exact).
const COUNTS: Float64Array[] = (() => {
  const t: Float64Array[] = [];
  for (let d = 0; d <= MAX_PVQ_D; d++) {
    const row = new Float64Array(MAX_PVQ_PULSES + 1);
    for (let k = 0; k <= MAX_PVQ_PULSES; k++) {
      if (d === 0) row[k] = k === 0 ? 1 : 0;
      else if (k === 0) row[k] = 1;
      else row[k] = t[d - 1]![k]! + row[k - 1]! + t[d - 1]![k - 1]!;
    }
    t.push(row);
  }
  return t;
})();

function checkDK(what: string, d: number, pulses: number): void {
  if (!Number.isInteger(d) || d < 1 || d > MAX_PVQ_D) {
    throw new UnsupportedError('pvq-d', `${what}: sub-vector length d = ${d} must be an integer in 1..${MAX_PVQ_D}`);
  }
  if (!Number.isInteger(pulses) || pulses < 1 || pulses > MAX_PVQ_PULSES) {
    throw new UnsupportedError('pvq-pulses', `${what}: pulses K = ${pulses} must be an integer in 1..${MAX_PVQ_PULSES} (keeps N(d, K) < 2^53)`);
  }
}

function checkGainBits(what: string, gainBits: number): void {
  if (!Number.isInteger(gainBits) || gainBits < 1 || gainBits > MAX_PVQ_GAIN_BITS) {
    throw new UnsupportedError('pvq-gain-bits', `${what}: gain bits ${gainBits} must be an integer in 1..${MAX_PVQ_GAIN_BITS}`);
  }
}

/** Number of points of the pyramid P(d, K) (d 0..8, K 0..64). */
export function pvqCount(d: number, pulses: number): number {
  if (!Number.isInteger(d) || d < 0 || d > MAX_PVQ_D || !Number.isInteger(pulses) || pulses < 0 || pulses > MAX_PVQ_PULSES) {
    throw new UnsupportedError('pvq-count', `pvqCount: (d, K) = (${d}, ${pulses}) outside 0..${MAX_PVQ_D} × 0..${MAX_PVQ_PULSES}`);
  }
  return COUNTS[d]![pulses]!;
}

/**
 * Index of y in 0..N(d, K)−1, K = Σ|y_i|. Lexicographic over coordinates; within one coordinate
 * the values are ordered 0, +1, −1, +2, −2, …, and value v leaves N(d−1, K−|v|) completions.
 */
export function pvqEncodeIndex(y: ArrayLike<number>): number {
  const d = y.length;
  let k = 0;
  for (let i = 0; i < d; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v)) throw new UnsupportedError('pvq-vector', `pvqEncodeIndex: y[${i}] = ${v} is not an integer`);
    k += Math.abs(v);
  }
  checkDK('pvqEncodeIndex', d, k);
  let index = 0;
  for (let i = 0; i < d; i++) {
    const v = y[i]!;
    const a = Math.abs(v);
    const rest = COUNTS[d - i - 1]!;
    if (a > 0) {
      index += rest[k]!;
      for (let j = 1; j < a; j++) index += 2 * rest[k - j]!;
      if (v < 0) index += rest[k - a]!;
    }
    k -= a;
  }
  return index;
}

/** Inverse of pvqEncodeIndex. */
export function pvqDecodeIndex(index: number, d: number, pulses: number): Int32Array {
  const y = new Int32Array(d);
  decodeInto(index, d, pulses, y);
  return y;
}

function decodeInto(index: number, d: number, pulses: number, y: Int32Array): void {
  checkDK('pvqDecodeIndex', d, pulses);
  const n = COUNTS[d]![pulses]!;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new UnsupportedError('pvq-index', `pvqDecodeIndex: index ${index} outside 0..${n - 1} for d = ${d}, K = ${pulses}`);
  }
  let k = pulses;
  let r = index;
  for (let i = 0; i < d; i++) {
    const rest = COUNTS[d - i - 1]!;
    if (i === d - 1) {
      // The last coordinate takes every remaining pulse: r is 0 (+k) or 1 (−k).
      y[i] = r === 0 ? k : -k;
      break;
    }
    let v = 0;
    if (r >= rest[k]!) {
      r -= rest[k]!;
      let a = 1;
      while (r >= 2 * rest[k - a]!) {
        r -= 2 * rest[k - a]!;
        a++;
      }
      if (r >= rest[k - a]!) {
        r -= rest[k - a]!;
        v = -a;
      } else v = a;
    }
    y[i] = v;
    k -= Math.abs(v);
  }
}

/**
 * The pyramid point with the largest (x·y)/‖y‖ (exact; see the file comment). Writes signed
 * pulses to y; an all-zero x gets (K, 0, …, 0).
 */
export function pvqSearch(x: ArrayLike<number>, pulses: number, y: Int32Array): void {
  const d = y.length;
  const a = new Float64Array(d);
  let sum = 0;
  for (let i = 0; i < d; i++) {
    a[i] = Math.abs(x[i]!);
    sum += a[i]!;
  }
  y.fill(0);
  if (sum === 0) {
    y[0] = pulses;
    return;
  }
  // 1. CELT: pre-projection, then greedy pulses.
  let S = 0;
  let E = 0;
  let left = pulses;
  if (pulses > d / 2) {
    for (let i = 0; i < d; i++) {
      const p = Math.floor((pulses * a[i]!) / sum);
      y[i] = p;
      left -= p;
      S += a[i]! * p;
      E += p * p;
    }
  }
  for (; left > 0; left--) {
    let best = 0;
    let bn = -1;
    let bd = 1;
    for (let i = 0; i < d; i++) {
      const s = S + a[i]!;
      const num = s * s;
      const den = E + 2 * y[i]! + 1;
      if (num * bd > bn * den) {
        best = i;
        bn = num;
        bd = den;
      }
    }
    S += a[best]!;
    E += 2 * y[best]! + 1;
    y[best]!++;
  }
  // 2. The hull vertex maximising S − μE at CELT's μ = S/(2E): marginal-gain greedy.
  const mu = S / (2 * E);
  y.fill(0);
  S = 0;
  E = 0;
  for (let p = 0; p < pulses; p++) {
    let best = 0;
    let bg = -Infinity;
    for (let i = 0; i < d; i++) {
      const gain = a[i]! - mu * (2 * y[i]! + 1);
      if (gain > bg) {
        best = i;
        bg = gain;
      }
    }
    S += a[best]!;
    E += 2 * y[best]! + 1;
    y[best]!++;
  }
  // 3. Walk the hull towards larger E, then towards smaller E, keeping the best S/√E.
  const start = Int32Array.from(y);
  const best = Int32Array.from(y);
  let bestS = S;
  let bestE = E;
  const eMax = pulses * pulses;
  const q = Math.floor(pulses / d);
  const rem = pulses - q * d;
  const eMin = rem * (q + 1) * (q + 1) + (d - rem) * q * q;
  for (const dir of [1, -1] as const) {
    y.set(start);
    let s = S;
    let e = E;
    for (;;) {
      // Next edge: the single move i → l with ΔE of sign dir and the extreme slope ΔS/ΔE
      // (largest going right, smallest going left).
      let bi = -1;
      let bl = -1;
      let bdS = 0;
      let bdE = 0;
      for (let i = 0; i < d; i++) {
        if (y[i]! === 0) continue;
        for (let l = 0; l < d; l++) {
          if (l === i) continue;
          const dE = 2 * (y[l]! - y[i]! + 1);
          if (dE * dir <= 0) continue;
          const dS = a[l]! - a[i]!;
          if (dir === 1 && dS <= 0) continue;
          // dS/dE > bdS/bdE (right) or < (left); dE·bdE > 0 in both directions.
          if (bi < 0 || dir * (dS * bdE - bdS * dE) > 0) {
            bi = i;
            bl = l;
            bdS = dS;
            bdE = dE;
          }
        }
      }
      if (bi < 0) break;
      // Every point beyond lies under the line S = s + m(E − e); its best S/√E over the
      // remaining E range is at the far end (the near end is the current point).
      const m = bdS / bdE;
      const far = dir === 1 ? eMax : eMin;
      const bound = (s + m * (far - e)) / Math.sqrt(far);
      if (!(bound * bound * bestE > bestS * bestS) || s + m * (far - e) <= 0) break;
      y[bi]!--;
      y[bl]!++;
      s += bdS;
      e += bdE;
      if (s * s * bestE > bestS * bestS * e) {
        best.set(y);
        bestS = s;
        bestE = e;
      }
    }
  }
  for (let i = 0; i < d; i++) y[i] = x[i]! < 0 ? -best[i]! : best[i]!;
}

/** Reconstruction level of a gain code (shared by quantize and dequantize so both agree bit for bit). */
export function pvqGainLevel(code: number, gainBits: number, gainMin: number, gainMax: number): number {
  if (code === 0) return 0;
  const levels = 2 ** gainBits - 1;
  if (gainMax === gainMin) return gainMin;
  return gainMin * Math.pow(gainMax / gainMin, (code - 0.5) / levels);
}

function gainCode(g: number, gainBits: number, gainMin: number, gainMax: number): number {
  if (g === 0) return 0;
  const levels = 2 ** gainBits - 1;
  if (gainMax === gainMin) return 1;
  const t = (Math.log(g) - Math.log(gainMin)) / (Math.log(gainMax) - Math.log(gainMin));
  return 1 + Math.min(levels - 1, Math.max(0, Math.floor(t * levels)));
}

function reconstructInto(out: Float32Array, o: number, y: Int32Array, gHat: number): void {
  let e = 0;
  for (let t = 0; t < y.length; t++) e += y[t]! * y[t]!;
  const norm = Math.sqrt(e);
  for (let t = 0; t < y.length; t++) out[o + t] = (gHat * y[t]!) / norm;
}

export function pvqQuantize(x: Float32Array, n: number, d: number, pulses: number, gainBits: number, signal?: AbortSignal): PvqResult {
  checkDK('pvqQuantize', d, pulses);
  checkGainBits('pvqQuantize', gainBits);
  if (!Number.isInteger(n) || n < 1 || n * d !== x.length) {
    throw new UnsupportedError('pvq-shape', `pvqQuantize: ${n} sub-vectors of ${d} do not match ${x.length} weights`);
  }
  const gains = new Float64Array(n);
  let lo = Infinity;
  let hi = 0;
  for (let s = 0; s < n; s++) {
    let e = 0;
    for (let t = 0; t < d; t++) {
      const v = x[s * d + t]!;
      if (!Number.isFinite(v)) throw new UnsupportedError('pvq-non-finite', `pvqQuantize: weight ${s * d + t} is ${v}`);
      e += v * v;
    }
    const g = Math.sqrt(e);
    gains[s] = g;
    if (g > 0 && g < lo) lo = g;
    if (g > hi) hi = g;
  }
  // Stored as float32; codes and levels use the stored values.
  const gainMin = hi === 0 ? 0 : Math.fround(lo);
  const gainMax = Math.fround(hi);
  const indices = new Float64Array(n);
  const gainCodes = new Uint16Array(n);
  const dequantized = new Float32Array(n * d);
  const y = new Int32Array(d);
  for (let s = 0; s < n; s++) {
    if (signal?.aborted && s % CHECK_EVERY === 0) throw new CancelledError();
    const xs = x.subarray(s * d, s * d + d);
    pvqSearch(xs, pulses, y);
    indices[s] = pvqEncodeIndex(y);
    const c = gainCode(gains[s]!, gainBits, gainMin, gainMax);
    gainCodes[s] = c;
    reconstructInto(dequantized, s * d, y, pvqGainLevel(c, gainBits, gainMin, gainMax));
  }
  return {
    d, pulses, gainBits, dequantized, indices, gainCodes, gainMin, gainMax,
    indexBitsPerWeight: Math.log2(COUNTS[d]![pulses]!) / d,
    gainBitsPerWeight: (gainBits * n + GAIN_RANGE_BITS) / (n * d),
  };
}

/** What a stored PVQ layer holds: enough to rebuild `dequantized`. */
export type PvqCodes = Pick<PvqResult, 'd' | 'pulses' | 'gainBits' | 'indices' | 'gainCodes' | 'gainMin' | 'gainMax'>;

/**
 * Rebuilds the dequantized weights from what an export stores (bit-identical to pvqQuantize's
 * `dequantized` given its indices, gainCodes, gainMin and gainMax). Takes the stored fields as
 * one object or positionally.
 */
export function pvqDequantize(codes: PvqCodes): Float32Array;
export function pvqDequantize(
  indices: Float64Array, gainCodes: Uint16Array, d: number, pulses: number, gainBits: number, gainMin: number, gainMax: number,
): Float32Array;
export function pvqDequantize(
  first: PvqCodes | Float64Array, gainCodesArg?: Uint16Array, dArg?: number, pulsesArg?: number, gainBitsArg?: number, gainMinArg?: number, gainMaxArg?: number,
): Float32Array {
  const c: PvqCodes = first instanceof Float64Array
    ? { indices: first, gainCodes: gainCodesArg!, d: dArg!, pulses: pulsesArg!, gainBits: gainBitsArg!, gainMin: gainMinArg!, gainMax: gainMaxArg! }
    : first;
  const { indices, gainCodes, d, pulses, gainBits, gainMin, gainMax } = c;
  checkDK('pvqDequantize', d, pulses);
  checkGainBits('pvqDequantize', gainBits);
  const n = indices.length;
  if (!(gainCodes instanceof Uint16Array) || gainCodes.length !== n) {
    throw new UnsupportedError('pvq-shape', `pvqDequantize: ${n} indices but ${gainCodes?.length ?? 'no'} gain codes`);
  }
  if (!(gainMin >= 0 && gainMax >= gainMin && Number.isFinite(gainMax))) {
    throw new UnsupportedError('pvq-gain-range', `pvqDequantize: gain range [${gainMin}, ${gainMax}] is not two ordered non-negative finite values`);
  }
  // The range is stored as float32; a float64 copy of it rounds back to the same values.
  const gMin = Math.fround(gainMin);
  const gMax = Math.fround(gainMax);
  const maxCode = 2 ** gainBits - 1;
  const out = new Float32Array(n * d);
  const y = new Int32Array(d);
  for (let s = 0; s < n; s++) {
    const code = gainCodes[s]!;
    if (code > maxCode) throw new UnsupportedError('pvq-gain-code', `pvqDequantize: gain code ${code} of sub-vector ${s} exceeds ${maxCode} (${gainBits} bits)`);
    decodeInto(indices[s]!, d, pulses, y);
    reconstructInto(out, s * d, y, pvqGainLevel(code, gainBits, gMin, gMax));
  }
  return out;
}
