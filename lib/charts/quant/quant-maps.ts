/**
 * The per-sub-vector maps of a quantized layer (assignment, error, ambiguity) as they travel to
 * the page: at full resolution (one cell per sub-vector, what "zoom to exact pixels" shows) up to
 * MAP_EXACT_CELLS, else downsampled by integer factors. A downsampled assignment cell shows the
 * codeword of the block's top-left sub-vector (a mean of codeword ids means nothing); error and
 * ambiguity cells are block means.
 */

export const MAP_EXACT_CELLS = 4_000_000;
export const MAP_DOWNSAMPLED_CELLS = 1_000_000;

export interface QuantMaps {
  /** Cells: width ↔ sub-vectors along a row, height ↔ rows. */
  width: number;
  height: number;
  /** Rows and sub-vectors per cell (1, 1 when exact). */
  fy: number;
  fx: number;
  exact: boolean;
  /** Codeword per cell (book-local), or null for RTN/PVQ. */
  assign: Uint16Array | null;
  /** Squared error per cell (block mean when downsampled). */
  error: Float32Array;
  /** d₁/d₂ per cell (block mean), or null when there is no codebook. */
  ratio: Float32Array | null;
}

export function quantMaps(
  rows: number, perRow: number, error: Float32Array, assign: Uint32Array | null, ratio: Float32Array | null,
  exactLimit = MAP_EXACT_CELLS, target = MAP_DOWNSAMPLED_CELLS,
): QuantMaps {
  const n = rows * perRow;
  if (n <= exactLimit) {
    return {
      width: perRow, height: rows, fy: 1, fx: 1, exact: true,
      assign: assign ? Uint16Array.from(assign) : null,
      error: Float32Array.from(error),
      ratio: ratio ? Float32Array.from(ratio) : null,
    };
  }
  const f = Math.ceil(Math.sqrt(n / target));
  const fy = Math.min(rows, f);
  const fx = Math.min(perRow, Math.ceil(n / target / fy));
  const width = Math.ceil(perRow / fx);
  const height = Math.ceil(rows / fy);
  const outA = assign ? new Uint16Array(width * height) : null;
  const outE = new Float64Array(width * height);
  const outR = ratio ? new Float64Array(width * height) : null;
  const cnt = new Uint32Array(width * height);
  for (let r = 0; r < rows; r++) {
    const py = Math.floor(r / fy) * width;
    for (let q = 0; q < perRow; q++) {
      const p = py + Math.floor(q / fx);
      const i = r * perRow + q;
      if (cnt[p] === 0 && outA) outA[p] = assign![i]!;
      cnt[p]!++;
      outE[p] = outE[p]! + error[i]!;
      if (outR) outR[p] = outR[p]! + ratio![i]!;
    }
  }
  const e = new Float32Array(width * height);
  const rr = outR ? new Float32Array(width * height) : null;
  for (let p = 0; p < e.length; p++) {
    e[p] = outE[p]! / cnt[p]!;
    if (rr) rr[p] = outR![p]! / cnt[p]!;
  }
  return { width, height, fy, fx, exact: false, assign: outA, error: e, ratio: rr };
}
