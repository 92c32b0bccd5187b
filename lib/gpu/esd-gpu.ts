import { eigvalsh } from '../math/eigvalsh';
import { gramErrorFloor } from './gram-error-floor';
import { gramGpu, type GramGpuOptions, type GramPrecision } from './gram-gpu';
import { compensatedGramHolds } from './gram-precision-probe';

/**
 * Eigenvalues λ = σ² of W (rows × cols, row-major) with the Gram matrix built on the GPU and
 * diagonalised on the CPU in float64 (lib/math/eigvalsh): the Gram is the O(n·k²) part, the
 * eigensolver O(k³) on a k × k matrix that is small next to W for the layers WeightWatcher keeps.
 *
 * Agrees with the CPU path (gram + eigvalsh) within 1e-4 relative for every λ ≥ 1e-5·λmax, in
 * practice ~1e-8 (tests/unit/gpu/esd-gpu.test.ts); `floor` says where it stops agreeing.
 */

export interface EsdGpuResult {
  /** All k = min(rows, cols) eigenvalues, ascending, unclamped (roundoff can leave −tiny for a zero λ). */
  evals: Float64Array;
  /**
   * Relative level below which eigenvalues are Gram rounding noise: |λ_gpu − λ| ≲ floor·λmax
   * (see gram-error-floor.ts). Draw it at floor·λmax on a plot.
   */
  floor: number;
  lambdaMax: number;
  /** The accumulation the device actually delivered: 'f32' when asked for, or when the df32 probe failed. */
  precision: GramPrecision;
  k: number;
  /** Reduction length: the long side of W. */
  n: number;
}

export async function esdGpu(
  device: GPUDevice,
  W: Float32Array,
  rows: number,
  cols: number,
  opts: GramGpuOptions = {},
): Promise<EsdGpuResult> {
  const asked = opts.precision ?? 'df32';
  const precision: GramPrecision = asked === 'df32' && (await compensatedGramHolds(device)) ? 'df32' : 'f32';
  const g = await gramGpu(device, W, rows, cols, { ...opts, precision: asked });
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  // eigvalsh overwrites its input; the floor needs the diagonal first.
  let maxDiag = 0;
  for (let i = 0; i < k; i++) maxDiag = Math.max(maxDiag, g[i * k + i]!);
  const evals = eigvalsh(g, k);
  const lambdaMax = k > 0 ? Math.max(0, evals[k - 1]!) : 0;
  return { evals, floor: gramErrorFloor(maxDiag, n, precision, lambdaMax), lambdaMax, precision, k, n };
}
