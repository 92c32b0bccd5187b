/**
 * The fitted Marchenko–Pastur bulk on the ESD's own scale. The fit (lib/math/mp-fit) works on
 * eigenvalues rescaled to mean 1, λ' = λ·W_scale², where the density is
 * ρ(λ') = Q/(2πσ²λ')·√((λ+ − λ')(λ' − λ−)), λ± = σ²(1 ± 1/√Q)². On the original scale the density
 * per decade is ρ(x·s²)·s²·x·ln10 with s = W_scale.
 */

export interface MpCurveInput {
  sigma_mp: number;
  W_scale: number;
  Q: number;
}

export function mpDensity(lambda: number, sigma: number, Q: number): number {
  const s2 = sigma * sigma;
  const r = 1 / Math.sqrt(Q);
  const hi = s2 * (1 + r) ** 2;
  const lo = s2 * (1 - r) ** 2;
  if (!(lambda > lo && lambda < hi)) return 0;
  return (Q / (2 * Math.PI * s2 * lambda)) * Math.sqrt((hi - lambda) * (lambda - lo));
}

/** Bulk edges on the original scale. */
export function mpEdges(mp: MpCurveInput): { lo: number; hi: number } {
  const s2 = mp.sigma_mp ** 2;
  const r = 1 / Math.sqrt(mp.Q);
  const k = mp.W_scale ** 2;
  return { lo: (s2 * (1 - r) ** 2) / k, hi: (s2 * (1 + r) ** 2) / k };
}

/** Density per decade at log-spaced points across the bulk (dense near the edges, where it changes fastest). */
export function mpCurve(mp: MpCurveInput, points = 160, floor = 0): { x: number; y: number }[] {
  if (!(mp.sigma_mp > 0) || !(mp.W_scale > 0) || !(mp.Q >= 1)) return [];
  const { lo, hi } = mpEdges(mp);
  const a = Math.max(lo, floor, hi * 1e-6);
  if (!(hi > a)) return [];
  const k = mp.W_scale ** 2;
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < points; i++) {
    // Cosine spacing in log x: more points near both edges.
    const t = (1 - Math.cos((Math.PI * i) / (points - 1))) / 2;
    const x = a * Math.pow(hi / a, t);
    out.push({ x, y: mpDensity(x * k, mp.sigma_mp, mp.Q) * k * x * Math.LN10 });
  }
  return out;
}
