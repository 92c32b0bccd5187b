import { Rng } from '../../../lib/base/rng';

/**
 * k centres on a grid ≥ 10 apart (centre j's base-4 digits × 10, plus a random offset < 1 per
 * coordinate) and `per` points around each (σ = 0.05), in shuffled order; `label` is each point's
 * centre. Seeded: the same arguments give the same data.
 */
export function planted(seed: number, k: number, d: number, per: number): { x: Float32Array; centres: Float32Array; label: Uint32Array } {
  const rng = new Rng(seed);
  const centres = new Float32Array(k * d);
  for (let j = 0; j < k; j++) {
    let v = j;
    for (let t = 0; t < d; t++) {
      centres[j * d + t] = (v % 4) * 10 + rng.next();
      v = Math.floor(v / 4);
    }
  }
  const n = k * per;
  const x = new Float32Array(n * d);
  const label = new Uint32Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  for (let p = 0; p < n; p++) {
    const i = order[p]!;
    const j = p % k;
    label[i] = j;
    for (let t = 0; t < d; t++) x[i * d + t] = centres[j * d + t]! + 0.05 * rng.normal();
  }
  return { x, centres, label };
}
