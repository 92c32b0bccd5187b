import { UnsupportedError } from '../../base/errors';

/**
 * Scalar round-to-nearest (RTN) quantization: the baseline every VQ method is compared against
 * at equal bits per weight.
 *
 * Convention (stated because RTN variants differ in exactly these details):
 * - Asymmetric follows GPTQ / AutoGPTQ's `Quantizer` (quant.py): the group's range is widened to
 *   include 0 (xmin = min(min w, 0), xmax = max(max w, 0)), scale = (xmax − xmin)/(2^b − 1),
 *   zero = round(−xmin/scale) clamped to [0, 2^b − 1], q = clamp(round(w/scale) + zero, 0, 2^b − 1),
 *   ŵ = scale·(q − zero). Widening to 0 keeps 0 exactly representable and the zero-point in range,
 *   so every ŵ is within scale/2 of w.
 * - Symmetric is absmax ("restricted range", as LLM.int8()/TensorRT int8): scale = max|w|/(2^(b−1) − 1),
 *   q = round(w/scale) in [−(2^(b−1) − 1), 2^(b−1) − 1], stored offset by +(2^(b−1) − 1) so codes are
 *   unsigned; no zero-point is stored.
 * - round() is half-to-even, as torch.round / numpy.round in the reference implementations. w/scale
 *   is evaluated as w·maxq/range in float64 so that exact ties stay exact ties.
 * - An all-zero group gets scale 0 (and zero-point 0) and dequantizes to 0.
 * - Scales are stored as float32 and the dequantized values are computed from the stored scale, so
 *   codes + scales + zeros reproduce `dequantized` exactly.
 * - Bits per weight count every scale and every zero-point as 16 bits (fp16, as GPTQ checkpoints
 *   store scales): bpw = b + (16 + 16)/g for asymmetric, b + 16/g for symmetric (DESIGN.md:
 *   bpw = b + (scale + zero bits)/g). With a partial last group the exact count is used:
 *   16·groups/weights.
 */

export interface RtnOptions {
  /** Bits per weight code, 2…8. */
  bits: number;
  symmetric: boolean;
  /** Group size along a row, or 'channel' for one scale per row (output channel). Default 128. */
  group?: number | 'channel';
}

export interface RtnBitsPerWeight {
  index: number;
  scale: number;
  zero: number;
  total: number;
}

export interface RtnResult {
  dequantized: Float32Array;
  /** Unsigned codes, row-major like the input (symmetric codes are offset by 2^(b−1) − 1). */
  codes: Uint8Array;
  /** One per group, row-major: scales[row·groupsPerRow + group]. */
  scales: Float32Array;
  /** Zero-points (integers stored as float32), laid out as scales; null when symmetric. */
  zeros: Float32Array | null;
  groupsPerRow: number;
  /** Group size actually used (cols for per-channel). */
  groupSize: number;
  bitsPerWeight: RtnBitsPerWeight;
}

export const DEFAULT_RTN_GROUP = 128;
const SCALE_BITS = 16;
const ZERO_BITS = 16;

/** Round half to even (banker's rounding), matching torch.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; a tie to an odd integer goes down instead.
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

export function quantizeRtn(w: Float32Array, rows: number, cols: number, opts: RtnOptions): RtnResult {
  const { bits, symmetric } = opts;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) {
    throw new UnsupportedError('rtn-bits', `RTN: ${bits} bits requested, supported are integers 2–8`);
  }
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows * cols !== w.length) {
    throw new UnsupportedError('rtn-shape', `RTN: shape ${rows}×${cols} does not match ${w.length} weights`);
  }
  const groupOpt = opts.group ?? DEFAULT_RTN_GROUP;
  if (groupOpt !== 'channel' && (!Number.isInteger(groupOpt) || groupOpt < 1)) {
    throw new UnsupportedError('rtn-group', `RTN: group size ${groupOpt} is not a positive integer`);
  }
  const g = groupOpt === 'channel' ? cols : Math.min(groupOpt, cols);
  const groupsPerRow = Math.ceil(cols / g);
  const nGroups = rows * groupsPerRow;

  const dequantized = new Float32Array(w.length);
  const codes = new Uint8Array(w.length);
  const scales = new Float32Array(nGroups);
  const zeros = symmetric ? null : new Float32Array(nGroups);
  const maxq = symmetric ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;

  for (let r = 0; r < rows; r++) {
    for (let gi = 0; gi < groupsPerRow; gi++) {
      const start = r * cols + gi * g;
      const end = r * cols + Math.min((gi + 1) * g, cols);
      let lo = 0;
      let hi = 0;
      for (let i = start; i < end; i++) {
        const v = w[i]!;
        if (!Number.isFinite(v)) {
          throw new UnsupportedError('rtn-non-finite', `RTN: weight at row ${r}, column ${i - r * cols} is ${v}`);
        }
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const gIndex = r * groupsPerRow + gi;
      if (symmetric) {
        const amax = Math.max(-lo, hi);
        const scale = Math.fround(amax / maxq);
        scales[gIndex] = scale;
        for (let i = start; i < end; i++) {
          if (amax === 0) {
            codes[i] = maxq;
            dequantized[i] = 0;
            continue;
          }
          // `+ 0` turns the −0 of a negative tie (round(−0.5) = −0) into 0.
          const q = Math.min(maxq, Math.max(-maxq, roundHalfEven((w[i]! * maxq) / amax))) + 0;
          codes[i] = q + maxq;
          dequantized[i] = scale * q;
        }
      } else {
        const range = hi - lo;
        const scale = Math.fround(range / maxq);
        scales[gIndex] = scale;
        if (range === 0) {
          // lo = hi = 0 (the range includes 0): all zero; codes and zero-point 0.
          zeros![gIndex] = 0;
          for (let i = start; i < end; i++) {
            codes[i] = 0;
            dequantized[i] = 0;
          }
          continue;
        }
        const zero = Math.min(maxq, Math.max(0, roundHalfEven((-lo * maxq) / range)));
        zeros![gIndex] = zero;
        for (let i = start; i < end; i++) {
          const q = Math.min(maxq, Math.max(0, roundHalfEven((w[i]! * maxq) / range) + zero));
          codes[i] = q;
          dequantized[i] = scale * (q - zero);
        }
      }
    }
  }

  const weights = w.length;
  const scaleBpw = (SCALE_BITS * nGroups) / weights;
  const zeroBpw = symmetric ? 0 : (ZERO_BITS * nGroups) / weights;
  return {
    dequantized,
    codes,
    scales,
    zeros,
    groupsPerRow,
    groupSize: g,
    bitsPerWeight: { index: bits, scale: scaleBpw, zero: zeroBpw, total: bits + scaleBpw + zeroBpw },
  };
}
