import type { ScaleLogarithmic } from 'd3';

export interface Tick {
  pos: number;
  label: string;
}

/** Decade ticks (1e-3, 0.01, 0.1, 1, 10, …) of a log scale; with under two decades, d3's own ticks. */
export function logTicks(scale: ScaleLogarithmic<number, number>, maxTicks = 7): Tick[] {
  const [a, b] = scale.domain() as [number, number];
  const lo = Math.ceil(Math.log10(Math.min(a, b)) - 1e-9);
  const hi = Math.floor(Math.log10(Math.max(a, b)) + 1e-9);
  if (hi - lo + 1 >= 2) {
    const step = Math.max(1, Math.ceil((hi - lo + 1) / maxTicks));
    const out: Tick[] = [];
    for (let e = lo; e <= hi; e += step) out.push({ pos: scale(10 ** e), label: decadeLabel(e) });
    return out;
  }
  const fmt = scale.tickFormat(4, '~g');
  return scale.ticks(4).map((t) => ({ pos: scale(t), label: fmt(t) }));
}

export function decadeLabel(e: number): string {
  if (e >= -2 && e <= 3) return String(10 ** e).replace(/^0\./, '0.');
  return `1e${e}`;
}
