import { farmsWindowGrid } from '../../analysis/spectra/farms';

/**
 * Where FARMS cuts its windows, for drawing them over the weight matrix: the grid of
 * lib/analysis/spectra/farms.ts (farmsWindowGrid). The matrix is the weight as FARMS sees it:
 * [out, in·kh·kw] (farmsMatrix).
 */

export interface WindowRect {
  row: number;
  col: number;
  rows: number;
  cols: number;
}

export interface FarmsWindowOptions {
  nr?: number;
  qRatio?: number;
  opsPerDim?: number;
}

export function farmsWindowRects(rows: number, cols: number, options: FarmsWindowOptions = {}): WindowRect[] {
  if (!(rows >= 1 && cols >= 1)) return [];
  const { nr, nc, rStarts, cStarts } = farmsWindowGrid(rows, cols, options);
  const out: WindowRect[] = [];
  for (const r of rStarts) for (const c of cStarts) out.push({ row: r, col: c, rows: nr, cols: nc });
  return out;
}
