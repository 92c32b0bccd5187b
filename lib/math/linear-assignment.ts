/**
 * Dense linear assignment: choose one column for each row, no column twice, so that the summed
 * cost is smallest (or largest). Shortest augmenting paths with dual potentials (Jonker–Volgenant;
 * the rectangular form follows Crouse, "On implementing 2D rectangular assignment algorithms",
 * IEEE TAES 2016): rows are added one at a time, each by a Dijkstra search over reduced costs
 * c[i][j] − u[i] − v[j] ≥ 0 from the new row to a free column; the potentials are then updated so
 * reduced costs stay non-negative and are zero on the matching. O(n²m) worst case, float64.
 *
 * Weight matching (Git Re-Basin) solves one of these per permutation group per iteration.
 */
import { LimitError, UnsupportedError } from '../base/errors';
import { MAX_ASSIGNMENT_CELLS } from '../base/limits';

export interface LinearAssignmentOptions {
  /** Maximise the summed cost instead of minimising it. */
  maximize?: boolean;
  /** Named in error messages (e.g. the permutation group being matched). */
  label?: string;
}

export interface LinearAssignment {
  /** rowToCol[i] = the column given to row i, or −1 when rows > cols and row i gets none. */
  rowToCol: Int32Array;
  /** colToRow[j] = the row given column j, or −1 when cols > rows and column j is unused. */
  colToRow: Int32Array;
  /** Σ cost[i][rowToCol[i]] over assigned rows, in the caller's sense (not negated). */
  objective: number;
}

/**
 * Solves the assignment for a rows × cols cost matrix, row-major. Rectangular matrices assign
 * min(rows, cols) pairs. Non-finite costs throw UnsupportedError (±∞ would need a feasibility
 * search that weight matching never needs).
 */
export function linearAssignment(cost: ArrayLike<number>, rows: number, cols: number, opts: LinearAssignmentOptions = {}): LinearAssignment {
  const label = opts.label ?? 'linear assignment';
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`${label}: bad size ${rows}×${cols}`);
  if (rows * cols > MAX_ASSIGNMENT_CELLS) throw new LimitError('assignment-too-large', `${label}: ${rows}×${cols} cost matrix exceeds the limit of ${MAX_ASSIGNMENT_CELLS} cells`);
  if (cost.length !== rows * cols) throw new RangeError(`${label}: cost has ${cost.length} values, expected ${rows}×${cols} = ${rows * cols}`);
  for (let k = 0; k < cost.length; k++) {
    const c = cost[k]!;
    if (!Number.isFinite(c)) {
      throw new UnsupportedError('non-finite-cost', `${label}: cost[${Math.floor(k / cols)}][${k % cols}] is ${c}; only finite costs are supported`);
    }
  }
  const sign = opts.maximize ? -1 : 1;
  // The solver wants n ≤ m (every row assigned); transpose otherwise. The working copy is float64,
  // negated for maximisation, and shifted by its minimum so every cost is ≥ 0 (keeps the
  // potentials small; shifts change no optimum because every row is assigned exactly once).
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const c = new Float64Array(n * m);
  let min = Infinity;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = sign * cost[i * cols + j]!;
      if (transposed) c[j * m + i] = v;
      else c[i * m + j] = v;
      if (v < min) min = v;
    }
  }
  if (n > 0) for (let k = 0; k < c.length; k++) c[k] = c[k]! - min;

  const col4row = solveRowsFirst(c, n, m);
  const rowToCol = new Int32Array(rows).fill(-1);
  const colToRow = new Int32Array(cols).fill(-1);
  for (let i = 0; i < n; i++) {
    const j = col4row[i]!;
    const r = transposed ? j : i;
    const q = transposed ? i : j;
    rowToCol[r] = q;
    colToRow[q] = r;
  }
  let objective = 0;
  for (let i = 0; i < rows; i++) {
    const j = rowToCol[i]!;
    if (j >= 0) objective += cost[i * cols + j]!;
  }
  return { rowToCol, colToRow, objective };
}

/** Core solver: c is n × m with n ≤ m, all entries finite; minimises; returns col4row. */
function solveRowsFirst(c: Float64Array, n: number, m: number): Int32Array {
  const u = new Float64Array(n);
  const v = new Float64Array(m);
  const col4row = new Int32Array(n).fill(-1);
  const row4col = new Int32Array(m).fill(-1);
  const spc = new Float64Array(m); // shortest path cost to each column in the current search
  const path = new Int32Array(m); // previous row on the shortest path to each column
  const remaining = new Int32Array(m); // columns not yet settled, in remaining[0..numRemaining)
  const inSR = new Uint8Array(n); // rows reached by the current search
  const inSC = new Uint8Array(m); // columns settled by the current search
  const srList = new Int32Array(n);

  for (let curRow = 0; curRow < n; curRow++) {
    spc.fill(Infinity);
    inSR.fill(0);
    inSC.fill(0);
    let numRemaining = m;
    for (let j = 0; j < m; j++) remaining[j] = m - 1 - j;
    let srCount = 0;
    let minVal = 0;
    let i = curRow;
    let sink = -1;
    while (sink === -1) {
      inSR[i] = 1;
      srList[srCount++] = i;
      let index = -1;
      let lowest = Infinity;
      const ui = u[i]!;
      const rowOff = i * m;
      for (let k = 0; k < numRemaining; k++) {
        const j = remaining[k]!;
        const r = minVal + c[rowOff + j]! - ui - v[j]!;
        if (r < spc[j]!) {
          path[j] = i;
          spc[j] = r;
        }
        // Among equal shortest distances prefer a free column: the search ends sooner.
        const s = spc[j]!;
        if (s < lowest || (s === lowest && row4col[j] === -1)) {
          lowest = s;
          index = k;
        }
      }
      minVal = lowest;
      // Unreachable with finite costs and n ≤ m; a guard against a broken invariant, not input.
      if (index < 0 || minVal === Infinity) throw new Error('linear assignment: no augmenting path (internal error)');
      const j = remaining[index]!;
      if (row4col[j] === -1) sink = j;
      else i = row4col[j]!;
      inSC[j] = 1;
      remaining[index] = remaining[--numRemaining]!;
    }
    // Dual update: keeps c − u − v ≥ 0 everywhere and = 0 along the new matching.
    u[curRow] = u[curRow]! + minVal;
    for (let k = 0; k < srCount; k++) {
      const r = srList[k]!;
      if (r !== curRow) u[r] = u[r]! + minVal - spc[col4row[r]!]!;
    }
    for (let j = 0; j < m; j++) if (inSC[j]) v[j] = v[j]! - (minVal - spc[j]!);
    // Augment along the path back from the sink.
    let j = sink;
    for (;;) {
      const r = path[j]!;
      row4col[j] = r;
      const prev = col4row[r]!;
      col4row[r] = j;
      j = prev;
      if (r === curRow) break;
    }
  }
  return col4row;
}
