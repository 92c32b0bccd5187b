/**
 * A downsampled image of |W| for the matrix heatmap: each pixel is the mean |w| of the block of
 * weights it covers (blocks as even as integer division allows), quantised to 0..255 against the
 * 99th percentile of the pixel values so a few huge weights do not wash out the picture.
 * Runs in the worker; the image (≤ maxSide² bytes) is what travels to the page.
 */

export interface AbsHeatmap {
  /** Image size in pixels: width ↔ matrix columns, height ↔ matrix rows. */
  width: number;
  height: number;
  /** Row-major, height × width, 0..255. */
  pixels: Uint8Array;
  /** The mean |w| that maps to 255 (brighter pixels are clipped). */
  scale: number;
  /** Largest pixel mean |w|. */
  max: number;
  rows: number;
  cols: number;
}

export const HEATMAP_MAX_SIDE = 256;

export function absHeatmap(data: ArrayLike<number>, rows: number, cols: number, maxSide = HEATMAP_MAX_SIDE): AbsHeatmap {
  if (!(rows >= 1 && cols >= 1) || data.length !== rows * cols) {
    throw new RangeError(`absHeatmap: need ${rows} × ${cols} = ${rows * cols} values, got ${data.length}`);
  }
  const width = Math.min(cols, maxSide);
  const height = Math.min(rows, maxSide);
  const sums = new Float64Array(width * height);
  const counts = new Float64Array(width * height);
  // Column c lands in pixel ⌊c·width/cols⌋ (same for rows), so every pixel covers ⌊cols/width⌋ or ⌈cols/width⌉ columns.
  const colPx = new Int32Array(cols);
  for (let c = 0; c < cols; c++) colPx[c] = Math.floor((c * width) / cols);
  for (let r = 0; r < rows; r++) {
    const py = Math.floor((r * height) / rows) * width;
    const off = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = data[off + c]!;
      const p = py + colPx[c]!;
      sums[p] = sums[p]! + (Number.isFinite(v) ? Math.abs(v) : 0);
      counts[p] = counts[p]! + 1;
    }
  }
  const means = new Float64Array(width * height);
  let max = 0;
  for (let i = 0; i < means.length; i++) {
    means[i] = counts[i]! > 0 ? sums[i]! / counts[i]! : 0;
    if (means[i]! > max) max = means[i]!;
  }
  const sorted = Float64Array.from(means).sort();
  const scale = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]! || max || 1;
  const pixels = new Uint8Array(means.length);
  for (let i = 0; i < means.length; i++) pixels[i] = Math.min(255, Math.round((means[i]! / scale) * 255));
  return { width, height, pixels, scale, max, rows, cols };
}
