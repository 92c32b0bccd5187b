import { scaleBand, scaleLinear } from 'd3';
import type { Tick } from '../spectra/log-ticks';

/**
 * Whole-model sweep: one bar per layer (model order) with that layer's SQNR under the chosen
 * method, and a tick for scalar RTN at the nearest equal bits per weight, so the layers where VQ
 * pays off (bar above tick) stand out. Hovering a bar names the layer.
 */

export interface SweepInput {
  name: string;
  order: number;
  sqnrDb: number | null;
  rtnSqnrDb: number | null;
  relFrobenius: number | null;
}

export interface SweepChartModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  bars: { name: string; x: number; width: number; y: number; height: number; sqnrDb: number; rtnY: number | null; rtnSqnrDb: number | null; relFrobenius: number | null }[];
  yTicks: Tick[];
  /** y of the model-wide SQNR line, when given. */
  overallY: number | null;
}

export function sweepChart(layers: readonly SweepInput[], overall: number | null, width: number, height: number): SweepChartModel {
  const plot = { x0: 48, x1: width - 10, y0: height - 24, y1: 10 };
  const sorted = [...layers].sort((a, b) => a.order - b.order);
  const vals = sorted.flatMap((l) => [l.sqnrDb, l.rtnSqnrDb]).filter((v): v is number => v !== null && Number.isFinite(v));
  const y = scaleLinear().domain([Math.min(0, ...vals), Math.max(10, ...vals)]).nice().range([plot.y0, plot.y1]);
  const x = scaleBand<string>().domain(sorted.map((l) => l.name)).range([plot.x0, plot.x1]).padding(sorted.length > 60 ? 0.05 : 0.2);
  const base = y(Math.max(0, y.domain()[0]!));
  const bars: SweepChartModel['bars'] = [];
  for (const l of sorted) {
    if (l.sqnrDb === null) continue;
    const v = Number.isFinite(l.sqnrDb) ? l.sqnrDb : y.domain()[1]!;
    const top = y(v);
    bars.push({
      name: l.name,
      x: x(l.name)!,
      width: Math.max(0.5, x.bandwidth()),
      y: Math.min(top, base),
      height: Math.abs(base - top),
      sqnrDb: l.sqnrDb,
      rtnY: l.rtnSqnrDb !== null && Number.isFinite(l.rtnSqnrDb) ? y(l.rtnSqnrDb) : null,
      rtnSqnrDb: l.rtnSqnrDb,
      relFrobenius: l.relFrobenius,
    });
  }
  return {
    width,
    height,
    plot,
    bars,
    yTicks: y.ticks(6).map((v) => ({ pos: y(v), label: String(v) })),
    overallY: overall !== null && Number.isFinite(overall) ? y(overall) : null,
  };
}
