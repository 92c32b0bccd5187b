/**
 * linearAssignment (shortest augmenting paths with potentials) against references that share no
 * code with it: brute force over every permutation (n ≤ 8), the Munkres star/prime algorithm
 * written out below (n up to 200), hidden permutation matrices, and integer costs whose optimum
 * follows from the rearrangement inequality.
 */
import { describe, expect, it } from 'vitest';
import { linearAssignment } from '@/lib/math/linear-assignment';
import { UnsupportedError } from '@/lib/base/errors';
import { Rng } from '@/lib/base/rng';

/** Every injection of rows into columns (rows ≤ cols); best summed cost. */
function bruteForce(cost: ArrayLike<number>, rows: number, cols: number, maximize: boolean): number {
  let best = maximize ? -Infinity : Infinity;
  const used = new Uint8Array(cols);
  const rec = (i: number, acc: number): void => {
    if (i === rows) {
      best = maximize ? Math.max(best, acc) : Math.min(best, acc);
      return;
    }
    for (let j = 0; j < cols; j++) {
      if (used[j]) continue;
      used[j] = 1;
      rec(i + 1, acc + cost[i * cols + j]!);
      used[j] = 0;
    }
  };
  rec(0, 0);
  return best;
}

/**
 * Munkres' algorithm (Munkres 1957, the star/prime/cover formulation), square, minimising.
 * Kept literal and independent of the solver under test; exact on costs that are multiples of 2^-20.
 */
function munkres(costIn: ArrayLike<number>, n: number): Int32Array {
  const c = Float64Array.from(costIn);
  for (let i = 0; i < n; i++) {
    let mn = Infinity;
    for (let j = 0; j < n; j++) mn = Math.min(mn, c[i * n + j]!);
    for (let j = 0; j < n; j++) c[i * n + j]! -= mn;
  }
  for (let j = 0; j < n; j++) {
    let mn = Infinity;
    for (let i = 0; i < n; i++) mn = Math.min(mn, c[i * n + j]!);
    for (let i = 0; i < n; i++) c[i * n + j]! -= mn;
  }
  const STAR = 1;
  const PRIME = 2;
  const mark = new Uint8Array(n * n);
  const rowCov = new Uint8Array(n);
  const colCov = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (c[i * n + j] === 0 && !rowCov[i] && !colCov[j]) {
        mark[i * n + j] = STAR;
        rowCov[i] = 1;
        colCov[j] = 1;
      }
    }
  }
  rowCov.fill(0);
  colCov.fill(0);
  const starInRow = (i: number): number => {
    for (let j = 0; j < n; j++) if (mark[i * n + j] === STAR) return j;
    return -1;
  };
  const starInCol = (j: number): number => {
    for (let i = 0; i < n; i++) if (mark[i * n + j] === STAR) return i;
    return -1;
  };
  const primeInRow = (i: number): number => {
    for (let j = 0; j < n; j++) if (mark[i * n + j] === PRIME) return j;
    return -1;
  };
  for (;;) {
    // Step 3: cover every column holding a starred zero; done when all are covered.
    colCov.fill(0);
    for (let k = 0; k < n * n; k++) if (mark[k] === STAR) colCov[k % n] = 1;
    if (colCov.reduce((a, b) => a + b, 0) === n) break;
    // Steps 4 and 6 until a primed zero has no star in its row.
    let z0r = -1;
    let z0c = -1;
    while (z0r < 0) {
      let found = false;
      for (let i = 0; i < n && !found; i++) {
        if (rowCov[i]) continue;
        for (let j = 0; j < n; j++) {
          if (!colCov[j] && c[i * n + j] === 0) {
            mark[i * n + j] = PRIME;
            const s = starInRow(i);
            if (s < 0) {
              z0r = i;
              z0c = j;
            } else {
              rowCov[i] = 1;
              colCov[s] = 0;
            }
            found = true;
            break;
          }
        }
      }
      if (!found) {
        let mn = Infinity;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (!rowCov[i] && !colCov[j]) mn = Math.min(mn, c[i * n + j]!);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            if (rowCov[i]) c[i * n + j]! += mn;
            if (!colCov[j]) c[i * n + j]! -= mn;
          }
        }
      }
    }
    // Step 5: alternate primes and stars from the uncovered prime, then flip them.
    const seq: [number, number][] = [[z0r, z0c]];
    for (;;) {
      const r = starInCol(seq[seq.length - 1]![1]);
      if (r < 0) break;
      seq.push([r, seq[seq.length - 1]![1]]);
      seq.push([r, primeInRow(r)]);
    }
    for (const [i, j] of seq) mark[i * n + j] = mark[i * n + j] === STAR ? 0 : STAR;
    for (let k = 0; k < n * n; k++) if (mark[k] === PRIME) mark[k] = 0;
    rowCov.fill(0);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = starInRow(i);
  return out;
}

function randomCost(rng: Rng, rows: number, cols: number, gen: () => number): Float64Array {
  const c = new Float64Array(rows * cols);
  for (let k = 0; k < c.length; k++) c[k] = gen();
  return c;
}

function sumOf(cost: ArrayLike<number>, cols: number, rowToCol: Int32Array): number {
  let s = 0;
  rowToCol.forEach((j, i) => {
    if (j >= 0) s += cost[i * cols + j]!;
  });
  return s;
}

/** Distinct columns, all in range, exactly min(rows, cols) rows assigned, colToRow its inverse. */
function expectValidAssignment(r: ReturnType<typeof linearAssignment>, rows: number, cols: number): void {
  const seen = new Set<number>();
  let assigned = 0;
  r.rowToCol.forEach((j, i) => {
    if (j < 0) return;
    assigned++;
    expect(j).toBeLessThan(cols);
    expect(seen.has(j)).toBe(false);
    seen.add(j);
    expect(r.colToRow[j]).toBe(i);
  });
  expect(assigned).toBe(Math.min(rows, cols));
  expect(r.colToRow.filter((i) => i >= 0).length).toBe(assigned);
}

describe('linearAssignment against brute force (n ≤ 8)', () => {
  const rng = new Rng(7);
  for (const maximize of [false, true]) {
    it(`random real costs, ${maximize ? 'maximise' : 'minimise'}, n = 1..8`, () => {
      for (let n = 1; n <= 8; n++) {
        for (let trial = 0; trial < (n <= 6 ? 20 : 3); trial++) {
          const c = randomCost(rng, n, n, () => rng.normal() * 10);
          const r = linearAssignment(c, n, n, { maximize });
          expectValidAssignment(r, n, n);
          expect(r.objective).toBeCloseTo(bruteForce(c, n, n, maximize), 9);
          expect(r.objective).toBe(sumOf(c, n, r.rowToCol));
        }
      }
    });
    it(`costs with many ties (values 0, 1, 2), ${maximize ? 'maximise' : 'minimise'}`, () => {
      for (let n = 1; n <= 8; n++) {
        for (let trial = 0; trial < (n <= 6 ? 20 : 3); trial++) {
          const c = randomCost(rng, n, n, () => rng.int(3));
          const r = linearAssignment(c, n, n, { maximize });
          expectValidAssignment(r, n, n);
          expect(r.objective).toBe(bruteForce(c, n, n, maximize));
        }
      }
    });
  }
  it('all-equal costs: any permutation, objective n·c', () => {
    const c = new Float64Array(36).fill(2.5);
    const r = linearAssignment(c, 6, 6);
    expectValidAssignment(r, 6, 6);
    expect(r.objective).toBe(15);
  });
  it('rectangular (rows < cols and rows > cols) against brute force over injections', () => {
    for (const [rows, cols] of [
      [3, 5],
      [5, 3],
      [1, 6],
      [6, 1],
      [4, 7],
      [7, 4],
    ] as const) {
      for (const maximize of [false, true]) {
        const c = randomCost(rng, rows, cols, () => rng.normal());
        const r = linearAssignment(c, rows, cols, { maximize });
        expectValidAssignment(r, rows, cols);
        // Brute force assigns the smaller side; transpose when rows > cols.
        const t = new Float64Array(rows * cols);
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = c[i * cols + j]!;
        const best = rows <= cols ? bruteForce(c, rows, cols, maximize) : bruteForce(t, cols, rows, maximize);
        expect(r.objective).toBeCloseTo(best, 10);
      }
    }
  });
});

describe('linearAssignment against Munkres (n up to 200)', () => {
  it('the Munkres reference itself matches brute force (n ≤ 7, with ties)', () => {
    const rng = new Rng(19);
    for (let n = 1; n <= 7; n++) {
      for (let trial = 0; trial < 10; trial++) {
        const c = randomCost(rng, n, n, () => rng.int(6));
        expect(sumOf(c, n, munkres(c, n))).toBe(bruteForce(c, n, n, false));
      }
    }
  });
  // Multiples of 2^-20 in [0, 1): every sum and difference both solvers form is exact in float64.
  const q = (rng: Rng) => () => rng.int(2 ** 20) / 2 ** 20;
  for (const n of [20, 64, 120, 200]) {
    it(`n = ${n}: same optimum, minimise and maximise`, () => {
      const rng = new Rng(n);
      const c = randomCost(rng, n, n, q(rng));
      const mine = linearAssignment(c, n, n);
      expectValidAssignment(mine, n, n);
      expect(mine.objective).toBe(sumOf(c, n, munkres(c, n)));
      const neg = c.map((v) => 1 - v);
      const mx = linearAssignment(c, n, n, { maximize: true });
      expect(mx.objective).toBe(sumOf(c, n, munkres(neg, n)));
    });
  }
  it('n = 100 with heavy ties (integers 0..4): same optimum', () => {
    const rng = new Rng(3);
    const c = randomCost(rng, 100, 100, () => rng.int(5));
    expect(linearAssignment(c, 100, 100).objective).toBe(sumOf(c, 100, munkres(c, 100)));
  });
  it('float32 input gives the same assignment objective as its float64 copy', () => {
    const rng = new Rng(11);
    const c32 = new Float32Array(80 * 80).map(() => rng.normal());
    const a = linearAssignment(c32, 80, 80, { maximize: true });
    const b = linearAssignment(Float64Array.from(c32), 80, 80, { maximize: true });
    expect(a.objective).toBe(b.objective);
    const ref = munkres(Float64Array.from(c32, (v) => -v), 80);
    expect(a.objective).toBeCloseTo(sumOf(c32, 80, ref), 9);
  });
});

describe('linearAssignment on known optima', () => {
  it('recovers a hidden permutation from its permutation matrix (n = 300), with and without noise', () => {
    const rng = new Rng(5);
    const n = 300;
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    rng.shuffle(perm);
    const p = new Float64Array(n * n);
    for (let i = 0; i < n; i++) p[i * n + perm[i]!] = 1;
    const r = linearAssignment(p, n, n, { maximize: true });
    expect(Array.from(r.rowToCol)).toEqual(Array.from(perm));
    expect(r.objective).toBe(n);
    // Minimising 1 − P is the same problem.
    expect(Array.from(linearAssignment(p.map((v) => 1 - v), n, n).rowToCol)).toEqual(Array.from(perm));
    // Noise below 1/(2n) per entry cannot outweigh one unit of the permutation.
    const noisy = p.map((v) => v + (rng.next() - 0.5) / (4 * n));
    expect(Array.from(linearAssignment(noisy, n, n, { maximize: true }).rowToCol)).toEqual(Array.from(perm));
  });
  it('rearrangement inequality: cost (i+1)(j+1) is maximised by the identity, minimised by the reversal', () => {
    const n = 150;
    const c = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[i * n + j] = (i + 1) * (j + 1);
    let sq = 0;
    let rev = 0;
    for (let i = 0; i < n; i++) {
      sq += (i + 1) * (i + 1);
      rev += (i + 1) * (n - i);
    }
    const mx = linearAssignment(c, n, n, { maximize: true });
    expect(mx.objective).toBe(sq);
    expect(Array.from(mx.rowToCol)).toEqual(Array.from({ length: n }, (_, i) => i));
    const mn = linearAssignment(c, n, n);
    expect(mn.objective).toBe(rev);
    expect(Array.from(mn.rowToCol)).toEqual(Array.from({ length: n }, (_, i) => n - 1 - i));
  });
  it('textbook 4×4 example: minimum 13 (rows → columns 1, 2, 0, 3)', () => {
    const c = [9, 2, 7, 8, 6, 4, 3, 7, 5, 8, 1, 8, 7, 6, 9, 4];
    const r = linearAssignment(c, 4, 4);
    expect(r.objective).toBe(13);
    expect(bruteForce(c, 4, 4, false)).toBe(13);
  });
  it('empty and 1×1 problems', () => {
    expect(linearAssignment([], 0, 0).objective).toBe(0);
    const one = linearAssignment([-3.5], 1, 1, { maximize: true });
    expect(Array.from(one.rowToCol)).toEqual([0]);
    expect(one.objective).toBe(-3.5);
  });
});

describe('linearAssignment input checks', () => {
  it('non-finite costs throw UnsupportedError naming the cell', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const c = [1, 2, 3, bad];
      expect(() => linearAssignment(c, 2, 2, { label: 'group fc1' })).toThrow(UnsupportedError);
      expect(() => linearAssignment(c, 2, 2, { label: 'group fc1' })).toThrow(`group fc1: cost[1][1] is ${bad}`);
    }
  });
  it('a cost array of the wrong length is refused', () => {
    expect(() => linearAssignment([1, 2, 3], 2, 2)).toThrow('cost has 3 values, expected 2×2 = 4');
  });
});
