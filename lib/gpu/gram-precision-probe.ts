import { gramGpu, type GramPrecision } from './gram-gpu';

/**
 * Checks on the actual device that the double-float Gram keeps what plain f32 drops. A shader
 * compiler allowed to reassociate floating point (fast-math) can cancel TwoSum's correction terms;
 * the kernel guards against that, and this probe catches a device where the guard is not enough,
 * so the result can report the f32 floor instead of a precision it did not get.
 */

/**
 * 48 values, every third 1 + t·2⁻¹¹ and the rest 2⁻¹³·(1 + t/64): all have ≤ 12 significant bits,
 * so every product is exact and only the summation is tested. Each small square is below half an
 * ulp of the running sum, so plain f32 drops all of them (relative error ~3e-8) while a working
 * double-float keeps the exact sum (43 significant bits).
 */
const PROBE_LENGTH = 48;

/** Probe error relative to the exact sum: df32 gives 0 on SwiftShader, plain f32 ~3e-8. */
const PROBE_TOLERANCE = 1e-10;

function probeValues(): Float32Array {
  return Float32Array.from({ length: PROBE_LENGTH }, (_, t) => (t % 3 === 0 ? 1 + t * 2 ** -11 : 2 ** -13 * (1 + t / 64)));
}

/** Relative error of the probe's 1 × 1 Gram under `precision` (chunked, so the cross-chunk add is covered too). */
export async function gramProbeError(device: GPUDevice, precision: GramPrecision): Promise<number> {
  const w = probeValues();
  let exact = 0;
  for (const v of w) exact += v * v; // exact in float64 (43 significant bits)
  const g = await gramGpu(device, w, 1, PROBE_LENGTH, { precision, chunkLength: 16, label: 'gram precision probe' });
  return Math.abs(g[0]! - exact) / exact;
}

const verdicts = new WeakMap<GPUDevice, Promise<boolean>>();

/** Whether this device's df32 Gram really is compensated (run once per device, then cached). */
export function compensatedGramHolds(device: GPUDevice): Promise<boolean> {
  let v = verdicts.get(device);
  if (!v) {
    v = gramProbeError(device, 'df32').then((e) => e <= PROBE_TOLERANCE);
    // A failed probe (lost device) is not a verdict: let the next call try again.
    v.catch(() => verdicts.delete(device));
    verdicts.set(device, v);
  }
  return v;
}
