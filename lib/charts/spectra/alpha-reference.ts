/** WeightWatcher's α verdict thresholds, drawn as reference lines (same values as lib/analysis/spectra/metrics.ts). */
export const ALPHA_OVER_TRAINED = 2;
export const ALPHA_UNDER_TRAINED = 6;

/** A y range for α plots: the data, always including the 2 and 6 lines, clipped to [0, 20] so one failed fit cannot flatten the rest. */
export function alphaDomain(values: readonly number[]): [number, number] {
  const ok = values.filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.max(0, Math.min(ALPHA_OVER_TRAINED - 0.5, ...ok));
  const hi = Math.min(20, Math.max(ALPHA_UNDER_TRAINED + 0.5, ...ok));
  return [Math.floor(lo * 2) / 2, Math.ceil(hi * 2) / 2];
}
