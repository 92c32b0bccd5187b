import { scaleLinear } from 'd3';
import { alphaDomain } from './alpha-reference';
import type { Tick } from './log-ticks';
import { svgPath } from './svg-path';

/**
 * α of every layer against depth, raw and FARMS side by side. Depth is the block number when the
 * names carry one (layers of a block spread evenly inside it); a layer outside any block, or a
 * model with no blocks at all, takes its own slot in catalog order.
 */

export interface DepthLayerInput {
  name: string;
  /** Catalog order (Layer.id). */
  order: number;
  block: number | null;
  alpha: number | null;
  farmsAlpha: number | null;
}

export interface DepthPoint {
  name: string;
  x: number;
  y: number;
  value: number;
  series: 'raw' | 'farms';
}

export interface AlphaDepthModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  points: DepthPoint[];
  rawPath: string;
  farmsPath: string;
  xTicks: Tick[];
  yTicks: Tick[];
  refLines: { y: number; label: string }[];
  xLabel: string;
  /** Shaded bands of alternate blocks. */
  bands: { x0: number; x1: number }[];
}

/** Slot positions: block layers spread inside their block's unit slot, others one slot each, in catalog order. */
export function depthPositions(layers: readonly DepthLayerInput[]): { pos: Map<string, number>; groups: { label: string; start: number; end: number; block: boolean }[] } {
  const sorted = [...layers].sort((a, b) => a.order - b.order);
  const groups: { label: string; start: number; end: number; block: boolean; members: DepthLayerInput[] }[] = [];
  const byBlock = new Map<number, (typeof groups)[number]>();
  for (const l of sorted) {
    if (l.block !== null) {
      let g = byBlock.get(l.block);
      if (!g) {
        g = { label: String(l.block), start: 0, end: 0, block: true, members: [] };
        byBlock.set(l.block, g);
        groups.push(g);
      }
      g.members.push(l);
    } else groups.push({ label: '', start: 0, end: 0, block: false, members: [l] });
  }
  const pos = new Map<string, number>();
  groups.forEach((g, i) => {
    g.start = i;
    g.end = i + 1;
    g.members.forEach((l, j) => pos.set(l.name, i + (j + 0.5) / g.members.length));
  });
  return { pos, groups: groups.map(({ label, start, end, block }) => ({ label, start, end, block })) };
}

export function alphaDepthChart(layers: readonly DepthLayerInput[], width: number, height: number): AlphaDepthModel {
  const plot = { x0: 44, x1: Math.max(60, width - 12), y0: Math.max(40, height - 34), y1: 10 };
  const { pos, groups } = depthPositions(layers);
  const anyBlock = groups.some((g) => g.block);
  const x = scaleLinear()
    .domain([0, Math.max(1, groups.length)])
    .range([plot.x0, plot.x1]);
  const vals = layers.flatMap((l) => [l.alpha ?? NaN, l.farmsAlpha ?? NaN]);
  const y = scaleLinear().domain(alphaDomain(vals)).range([plot.y0, plot.y1]);
  const points: DepthPoint[] = [];
  const ordered = [...layers].sort((a, b) => pos.get(a.name)! - pos.get(b.name)!);
  const line = (key: 'alpha' | 'farmsAlpha') =>
    svgPath(ordered.map((l) => ({ x: x(pos.get(l.name)!), y: l[key] !== null && l[key]! > 0 ? y(Math.min(y.domain()[1]!, l[key]!)) : NaN })));
  for (const l of ordered) {
    const px = x(pos.get(l.name)!);
    if (l.alpha !== null && l.alpha > 0) points.push({ name: l.name, x: px, y: y(Math.min(y.domain()[1]!, l.alpha)), value: l.alpha, series: 'raw' });
    if (l.farmsAlpha !== null && l.farmsAlpha > 0) points.push({ name: l.name, x: px, y: y(Math.min(y.domain()[1]!, l.farmsAlpha)), value: l.farmsAlpha, series: 'farms' });
  }
  let xTicks: Tick[];
  const bands: { x0: number; x1: number }[] = [];
  if (anyBlock) {
    const blockGroups = groups.filter((g) => g.block);
    const every = Math.max(1, Math.ceil(blockGroups.length / 16));
    xTicks = blockGroups.filter((_, i) => i % every === 0).map((g) => ({ pos: x((g.start + g.end) / 2), label: g.label }));
    blockGroups.forEach((g, i) => i % 2 === 0 && bands.push({ x0: x(g.start), x1: x(g.end) }));
  } else {
    xTicks = x.ticks(8).filter((t) => Number.isInteger(t) && t < groups.length).map((t) => ({ pos: x(t + 0.5), label: String(t) }));
  }
  return {
    width,
    height,
    plot,
    points,
    rawPath: line('alpha'),
    farmsPath: line('farmsAlpha'),
    xTicks,
    yTicks: y.ticks(5).map((t) => ({ pos: y(t), label: String(t) })),
    refLines: [
      { y: y(2), label: 'α = 2' },
      { y: y(6), label: 'α = 6' },
    ],
    xLabel: anyBlock ? 'block' : 'layer (catalog order)',
    bands,
  };
}
