import { scaleLinear, scaleLog } from 'd3';
import type { Tick } from '../spectra/log-ticks';

/**
 * Codeword usage, sorted from most to least used, as bars in pixel space. With more codewords
 * than pixel columns, each bar covers a run of ranks and shows the run's largest count (so the
 * head is never hidden) — the tail of dead codewords shows as a gap at the right.
 */
export interface UsageChartModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  bars: { x: number; y: number; width: number; height: number; rank0: number; rank1: number; count: number }[];
  xTicks: Tick[];
  yTicks: Tick[];
  /** x of the first dead codeword's rank, or null when none is dead. */
  deadX: number | null;
  /** y of the uniform-usage line (n / k). */
  uniformY: number;
}

export function usageChart(sortedCounts: ArrayLike<number>, width: number, height: number, logY: boolean): UsageChartModel {
  const k = sortedCounts.length;
  const plot = { x0: 56, x1: width - 12, y0: height - 30, y1: 8 };
  let total = 0;
  let firstDead = -1;
  for (let i = 0; i < k; i++) {
    total += sortedCounts[i]!;
    if (firstDead < 0 && sortedCounts[i] === 0) firstDead = i;
  }
  const max = Math.max(1, sortedCounts[0] ?? 1);
  const x = scaleLinear().domain([0, k]).range([plot.x0, plot.x1]);
  const y = logY ? scaleLog().domain([0.8, max * 1.2]).range([plot.y0, plot.y1]).clamp(true) : scaleLinear().domain([0, max]).nice().range([plot.y0, plot.y1]);
  const cols = Math.max(1, Math.floor(plot.x1 - plot.x0));
  const per = Math.max(1, Math.ceil(k / cols));
  const bars: UsageChartModel['bars'] = [];
  for (let r0 = 0; r0 < k; r0 += per) {
    const r1 = Math.min(k, r0 + per);
    let c = 0;
    for (let r = r0; r < r1; r++) c = Math.max(c, sortedCounts[r]!);
    if (c === 0) continue;
    const top = y(c);
    const px0 = x(r0);
    bars.push({ x: px0, y: top, width: Math.max(0.5, x(r1) - px0 - (per === 1 && k <= 128 ? 1 : 0)), height: plot.y0 - top, rank0: r0, rank1: r1, count: c });
  }
  const fmtY = logY ? (v: number) => (v >= 1000 ? `${v / 1000}k` : String(v)) : y.tickFormat(5);
  const yTicks = (logY ? (y.ticks(5) as number[]).filter((v) => Math.log10(v) % 1 === 0) : (y.ticks(5) as number[])).map((v) => ({ pos: y(v), label: fmtY(v) }));
  const xTicks = x.ticks(6).filter((v) => Number.isInteger(v)).map((v) => ({ pos: x(v), label: String(v) }));
  return { width, height, plot, bars, xTicks, yTicks, deadX: firstDead >= 0 ? x(firstDead) : null, uniformY: y(Math.max(logY ? 0.8 : 0, total / Math.max(1, k))) };
}
