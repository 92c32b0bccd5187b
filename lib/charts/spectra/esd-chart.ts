import { scaleLog } from 'd3';
import { ccdfPoints } from './ccdf-points';
import { logHistogram } from './log-histogram';
import { logTicks, type Tick } from './log-ticks';
import { mpCurve, mpEdges, type MpCurveInput } from './mp-curve';
import { powerLawCurve } from './power-law-curve';
import { svgPath } from './svg-path';

/**
 * The ESD plot of one layer as marks in pixel space: a log-log histogram (density per decade) or
 * the CCDF of each series (the layer's eigenvalues, its pooled FARMS windows), the fitted power law
 * from xmin, an xmin marker per series, and the Marchenko–Pastur bulk (band, plus its density in
 * histogram mode). Eigenvalues at or below `floor` (exact zeros, roundoff) cannot sit on a log
 * axis and are counted in `hidden` instead.
 */

export type EsdMode = 'hist' | 'ccdf';

export interface EsdSeriesInput {
  key: string;
  label: string;
  /** Ascending. */
  evals: ArrayLike<number>;
  fit: { alpha: number; xmin: number } | null;
}

export interface EsdChartOptions {
  mode: EsdMode;
  bins?: number;
  /** Values ≤ floorRel × the largest are not drawn (default 1e-6: below it a float32 Gram is roundoff, and a few stray tiny values would stretch the axis over many empty decades). */
  floorRel?: number;
  mp?: MpCurveInput | null;
  /** Eigenvalues below this (absolute) are GPU Gram rounding noise: drawn as a marked line. */
  noiseFloor?: number;
}

export interface EsdSeriesMarks {
  key: string;
  label: string;
  /** Histogram outline (steps) or CCDF points joined. */
  path: string;
  /** CCDF points (ccdf mode only), for dots. */
  dots: { x: number; y: number }[];
  fitPath: string;
  xmin: { x: number; value: number } | null;
  alpha: number | null;
  /** Values plotted / left out (≤ floor). */
  shown: number;
  hidden: number;
}

export interface EsdChartModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  mode: EsdMode;
  series: EsdSeriesMarks[];
  xTicks: Tick[];
  yTicks: Tick[];
  mpPath: string;
  mpBand: { x0: number; x1: number } | null;
  /** x of the GPU noise floor when it falls inside the axis. */
  noiseFloor: { x: number; value: number } | null;
  yLabel: string;
  empty: boolean;
}

export const ESD_MARGIN = { top: 26, right: 14, bottom: 34, left: 54 };
export const DEFAULT_FLOOR_REL = 1e-6;

export function esdChart(series: readonly EsdSeriesInput[], width: number, height: number, options: EsdChartOptions): EsdChartModel {
  const m = ESD_MARGIN;
  const plot = { x0: m.left, x1: Math.max(m.left + 10, width - m.right), y0: Math.max(m.top + 10, height - m.bottom), y1: m.top };
  const bins = options.bins ?? 60;
  const floorRel = options.floorRel ?? DEFAULT_FLOOR_REL;
  const mode = options.mode;

  interface Prep {
    s: EsdSeriesInput;
    lo: number;
    hi: number;
    first: number;
  }
  const preps: Prep[] = [];
  for (const s of series) {
    const n = s.evals.length;
    if (n === 0) continue;
    const hi = s.evals[n - 1]!;
    if (!(hi > 0)) continue;
    const floor = hi * floorRel;
    let first = 0;
    while (first < n && !(s.evals[first]! > floor)) first++;
    preps.push({ s, lo: s.evals[first]!, hi, first });
  }
  const empty = preps.length === 0;
  let xLo = Math.min(...preps.map((p) => p.lo));
  let xHi = Math.max(...preps.map((p) => p.hi));
  if (empty) {
    xLo = 1e-3;
    xHi = 1;
  }
  if (!(xHi > xLo)) {
    xLo /= 2;
    xHi *= 2;
  }
  const x = scaleLog()
    .domain([xLo / 1.3, xHi * 1.3])
    .range([plot.x0, plot.x1]);

  // First pass: data in value space, to size the y axis.
  // Bins per series: ~2√n (Rice-like) up to `bins`, so a 96-eigenvalue layer is not drawn as spikes.
  const hists = preps.map((p) => (mode === 'hist' ? logHistogram(p.s.evals, Math.min(bins, Math.max(8, Math.round(2 * Math.sqrt(p.s.evals.length - p.first)))), p.lo, p.hi) : null));
  const ccdfs = preps.map((p) => (mode === 'ccdf' ? ccdfPoints(p.s.evals, 600, p.hi * floorRel) : null));
  let yMax = 0;
  let yMin = Infinity;
  for (const h of hists) {
    if (!h) continue;
    for (const d of h.density) {
      if (d > yMax) yMax = d;
      if (d > 0 && d < yMin) yMin = d;
    }
  }
  for (const c of ccdfs) {
    if (!c || c.n === 0) continue;
    yMax = 1;
    yMin = Math.min(yMin, 1 / c.n);
  }
  if (!(yMax > 0)) yMax = 1;
  if (!Number.isFinite(yMin)) yMin = yMax / 100;
  const y = scaleLog()
    .domain([yMin / 2, yMax * (mode === 'hist' ? 2 : 1.2)])
    .range([plot.y0, plot.y1]);
  const [yBottom, yTop] = y.domain() as [number, number];
  const px = (v: number) => x(v);
  // Curves may run below the axis: clamp to just past the bottom so the line meets the edge.
  const py = (v: number) => (v > 0 ? y(Math.max(yBottom / 1.5, Math.min(yTop * 1.5, v))) : NaN);

  const marks: EsdSeriesMarks[] = preps.map((p, i) => {
    const shown = p.s.evals.length - p.first;
    let path: string;
    let dots: { x: number; y: number }[] = [];
    if (mode === 'hist') {
      const h = hists[i]!;
      const pts: { x: number; y: number }[] = [];
      for (let b = 0; b < h.density.length; b++) {
        const d = h.density[b]!;
        const yy = d > 0 ? y(d) : plot.y0;
        pts.push({ x: px(h.edges[b]!), y: yy }, { x: px(h.edges[b + 1]!), y: yy });
      }
      path = svgPath([{ x: pts[0]!.x, y: plot.y0 }, ...pts, { x: pts[pts.length - 1]!.x, y: plot.y0 }]);
    } else {
      const c = ccdfs[i]!;
      dots = Array.from(c.x, (v, j) => ({ x: px(v), y: y(c.p[j]!) }));
      path = svgPath(dots);
    }
    let fitPath = '';
    let xmin: EsdSeriesMarks['xmin'] = null;
    const fit = p.s.fit;
    if (fit && fit.alpha > 1 && fit.xmin > 0) {
      let tailCount = 0;
      for (let k = p.first; k < p.s.evals.length; k++) if (p.s.evals[k]! >= fit.xmin) tailCount++;
      const tail = shown > 0 ? tailCount / shown : 0;
      const curve = powerLawCurve(fit.alpha, fit.xmin, p.hi * 1.3, tail, mode === 'hist' ? 'density' : 'ccdf');
      fitPath = svgPath(curve.map((q) => ({ x: px(q.x), y: py(q.y) })));
      xmin = { x: px(fit.xmin), value: fit.xmin };
    }
    return { key: p.s.key, label: p.s.label, path, dots, fitPath, xmin, alpha: fit?.alpha ?? null, shown, hidden: p.first };
  });

  let mpPath = '';
  let mpBand: EsdChartModel['mpBand'] = null;
  if (options.mp && !empty) {
    const e = mpEdges(options.mp);
    if (e.hi > 0 && Number.isFinite(e.hi)) {
      const [d0, d1] = x.domain() as [number, number];
      mpBand = { x0: px(Math.max(d0, e.lo > 0 ? e.lo : d0)), x1: px(Math.min(d1, e.hi)) };
      if (mode === 'hist') mpPath = svgPath(mpCurve(options.mp, 160, d0).map((q) => ({ x: px(q.x), y: py(q.y) })));
    }
  }

  let noiseFloor: EsdChartModel['noiseFloor'] = null;
  const nf = options.noiseFloor;
  if (nf !== undefined && nf > 0 && !empty) {
    const [d0, d1] = x.domain() as [number, number];
    if (nf > d0 && nf < d1) noiseFloor = { x: px(nf), value: nf };
  }

  return {
    width,
    height,
    plot,
    mode,
    noiseFloor,
    series: marks,
    xTicks: logTicks(x),
    yTicks: logTicks(y, 6),
    mpPath,
    mpBand,
    yLabel: mode === 'hist' ? 'density per decade' : 'P(λ ≥ x)',
    empty,
  };
}
