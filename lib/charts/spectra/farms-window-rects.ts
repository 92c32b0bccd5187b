/**
 * Where FARMS cuts its windows, for drawing them over the weight matrix: the same grid as
 * lib/analysis/spectra/farms.ts (nr rows × ⌊nr·Q_ratio⌋ columns, clamped to the matrix, at most
 * `opsPerDim` starts per side with step max(1, ⌊(size − win)/(ops − 1)⌋), start = min(i·step, size − win)).
 * The matrix is the weight as FARMS sees it: [out, in·kh·kw] (farmsMatrix).
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

export function windowStarts(size: number, win: number, ops: number): number[] {
  if (ops <= 1 || size === win) return [0];
  const step = Math.max(1, Math.floor((size - win) / (ops - 1)));
  const count = Math.min(ops, Math.max(1, Math.floor((size - win) / step) + 1));
  const starts: number[] = [];
  for (let i = 0; i < count; i++) starts.push(Math.min(i * step, size - win));
  return starts;
}

export function farmsWindowRects(rows: number, cols: number, options: FarmsWindowOptions = {}): WindowRect[] {
  if (!(rows >= 1 && cols >= 1)) return [];
  const nrOpt = options.nr ?? 100;
  const nr = Math.min(rows, Math.max(1, Math.floor(nrOpt)));
  const nc = Math.min(cols, Math.max(1, Math.floor(nrOpt * (options.qRatio ?? 2))));
  const ops = Math.max(1, Math.floor(options.opsPerDim ?? 10));
  const out: WindowRect[] = [];
  for (const r of windowStarts(rows, nr, ops)) for (const c of windowStarts(cols, nc, ops)) out.push({ row: r, col: c, rows: nr, cols: nc });
  return out;
}
