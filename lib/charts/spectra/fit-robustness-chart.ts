import { scaleLinear, scaleLog } from 'd3';
import type { FitCandidates } from './fit-candidates';
import { logTicks, type Tick } from './log-ticks';
import { svgPath } from './svg-path';

/** α (left axis) and D (right axis) against candidate xmin, with the chosen xmin marked. */

export interface FitRobustnessModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  alphaPath: string;
  dPath: string;
  xTicks: Tick[];
  alphaTicks: Tick[];
  dTicks: Tick[];
  /** The reported fit's xmin (may differ from the D minimum under xmin_peak / xmin_mid). */
  chosen: { x: number; xmin: number; alpha: number } | null;
  /** Where D is smallest among all candidates. */
  best: { x: number; y: number; xmin: number; D: number } | null;
  empty: boolean;
}

export function fitRobustnessChart(c: FitCandidates, chosen: { xmin: number; alpha: number } | null, width: number, height: number): FitRobustnessModel {
  const plot = { x0: 44, x1: Math.max(70, width - 44), y0: Math.max(40, height - 34), y1: 10 };
  const n = c.xmin.length;
  const empty = n < 2;
  const lo = empty ? 1e-3 : c.xmin[0]!;
  const hi = empty ? 1 : c.xmin[n - 1]!;
  const x = scaleLog()
    .domain([lo / 1.2, (hi > lo ? hi : lo * 10) * 1.2])
    .range([plot.x0, plot.x1]);
  let aMax = 0;
  for (const a of c.alpha) if (Number.isFinite(a) && a > aMax) aMax = a;
  // The last few candidates (tiny tails) give huge α; cap the axis where it stops being informative.
  const ya = scaleLinear()
    .domain([1, Math.min(Math.max(aMax, 3), 12)])
    .nice()
    .range([plot.y0, plot.y1]);
  const aTop = ya.domain()[1]!;
  const yd = scaleLinear().domain([0, 1]).range([plot.y0, plot.y1]);
  let dMax = 0;
  for (const d of c.D) if (d > dMax) dMax = d;
  yd.domain([0, Math.max(0.05, dMax)]).nice();
  const alphaPts = Array.from(c.xmin, (v, i) => ({ x: x(v), y: c.alpha[i]! <= aTop ? ya(Math.max(1, c.alpha[i]!)) : NaN }));
  const dPts = Array.from(c.xmin, (v, i) => ({ x: x(v), y: yd(c.D[i]!) }));
  const best = c.best >= 0 ? { x: x(c.xmin[c.best]!), y: yd(c.D[c.best]!), xmin: c.xmin[c.best]!, D: c.D[c.best]! } : null;
  return {
    width,
    height,
    plot,
    alphaPath: svgPath(alphaPts),
    dPath: svgPath(dPts),
    xTicks: logTicks(x, 6),
    alphaTicks: ya.ticks(5).map((t) => ({ pos: ya(t), label: String(t) })),
    dTicks: yd.ticks(4).map((t) => ({ pos: yd(t), label: String(t) })),
    chosen: chosen && chosen.xmin > 0 ? { x: x(chosen.xmin), xmin: chosen.xmin, alpha: chosen.alpha } : null,
    best,
    empty,
  };
}
