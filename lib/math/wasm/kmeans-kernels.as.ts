// AssemblyScript source of the WebAssembly SIMD k-means kernels behind lib/math/kmeans.ts
// (k-means++ seeding and Lloyd iterations). Compiled by scripts/build-wasm.mjs into
// kmeans-kernels-wasm.ts (committed); run `node scripts/build-wasm.mjs` after any edit here.
//
// The kernels own no memory: the caller (kmeans-kernels.ts) lays every buffer out in linear memory
// past heapBase() and passes byte addresses. x is n sub-vectors of d float32 (row-major), codebooks
// are k × d float32, distances float64.
//
// Results are those of the TypeScript path, not approximations of them:
// - k-means++ distances, Lloyd's explicit distances, objective sums and centre sums are the same
//   float64 operations in the same order as the TS code, so they agree bit for bit; k-means++'s
//   running sums agree to rounding (see ppUpdate);
// - the nearest-codeword search screens in float32 (4 sub-vectors per f32x4, the codebook
//   broadcast one codeword at a time) and accepts the float32 winner only when a rigorous bound on
//   the float32 rounding proves it is the exact nearest codeword with a margin that also covers
//   the TS kernel's float64 rounding; otherwise (near-ties, non-finite or extreme values) that
//   sub-vector is searched again with the TS kernel's float64 formula, operation for operation;
// - Lloyd skips the search for a sub-vector whose assigned codeword provably stays nearest
//   (Hamerly 2010: one lower bound per sub-vector on the distance to every other codeword, and half
//   the distance from each codeword to its nearest neighbour; here the bound drops by the largest
//   move of a codeword near the assigned one, the triangle inequality covering the far ones), and
//   screens a sub-vector that fails only against the codewords near its assigned one, again
//   certified by the triangle inequality. Every margin is far above the float64 rounding.
// So both paths pick the same codewords except where two are tied to within the TS kernel's own
// float64 rounding.

/** First 16-byte-aligned address past the module's static data. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(15 as usize);
}

/** Unit roundoff of float32. */
const U32: f64 = 5.9604644775390625e-8; // 2^-24

/** Values whose float32 squares could overflow (or whose products of sums could) go to float64. */
const F32_SAFE: f64 = 1e36;

/** Absolute slack: float32 products of values below ~1e-19 underflow; such sub-vectors go to float64. */
const ABS_SLACK: f64 = 1e-30;

// @ts-ignore: decorator
@inline function ldx(x: usize, i: usize, t: usize, d: usize): f64 {
  return <f64>load<f32>(x + ((i * d + t) << 2));
}

/** Σ (x_i − c_j)² in float64, in the order of the TS code (e = 0; e += v·v). */
// @ts-ignore: decorator
@inline function explicitDist(x: usize, i: usize, cb: usize, j: usize, d: usize): f64 {
  const xo = x + ((i * d) << 2);
  const co = cb + ((j * d) << 2);
  if (d == 4) {
    // ((((0 + v0²) + v1²) + v2²) + v3²) = ((v0² + v1²) + v2²) + v3² exactly: squares are ≥ +0.
    const v0 = <f64>load<f32>(xo) - <f64>load<f32>(co);
    const v1 = <f64>load<f32>(xo, 4) - <f64>load<f32>(co, 4);
    const v2 = <f64>load<f32>(xo, 8) - <f64>load<f32>(co, 8);
    const v3 = <f64>load<f32>(xo, 12) - <f64>load<f32>(co, 12);
    return v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3;
  }
  let e = 0.0;
  for (let t: usize = 0; t < d; t++) {
    const v = <f64>load<f32>(xo + (t << 2)) - <f64>load<f32>(co + (t << 2));
    e += v * v;
  }
  return e;
}

/** ‖x_i‖² in float64, as the TS search computes it. */
// @ts-ignore: decorator
@inline function normSq(x: usize, i: usize, d: usize): f64 {
  const xo = x + ((i * d) << 2);
  if (d == 4) {
    const v0 = <f64>load<f32>(xo);
    const v1 = <f64>load<f32>(xo, 4);
    const v2 = <f64>load<f32>(xo, 8);
    const v3 = <f64>load<f32>(xo, 12);
    return v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3;
  }
  let s = 0.0;
  for (let t: usize = 0; t < d; t++) {
    const v = <f64>load<f32>(xo + (t << 2));
    s += v * v;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// k-means++

/**
 * One k-means++ step after codeword j (of cb) was chosen: dist[i] = min(dist[i], ‖x_i − c_j‖²)
 * for i < n, near[i] the codeword that gives dist[i] (the distances are the TS ones, bit for bit).
 * Returns Σ dist and stores the running sum after every `block` sub-vectors into prefix
 * (⌈n / block⌉ values), so the draw can find its sub-vector without another pass. Each block is
 * summed in four lanes, not in index order as the TS total is: the sums agree to rounding, so a
 * draw differs only when it falls within about n·2⁻⁵² (relative) of a boundary between two
 * sub-vectors' shares.
 *
 * A sub-vector is not measured when the triangle inequality already rules the new codeword out:
 * ‖c_near − c_j‖ ≥ 2‖x − c_near‖ (with a margin) gives ‖x − c_j‖ ≥ ‖x − c_near‖, so the TS
 * comparison e < dist[i] would be false. dtab is j + 1 float64 and pick `block` u32 of scratch.
 */
export function ppUpdate(x: usize, n: i32, d: i32, cb: usize, j: i32, dist: usize, near: usize, dtab: usize, prefix: usize, block: i32, pick: usize): f64 {
  const dd = <usize>d;
  const jj = <usize>j;
  for (let q: usize = 0; q <= jj; q++) {
    let s = 0.0;
    for (let t: usize = 0; t < dd; t++) {
      const v = <f64>load<f32>(cb + ((q * dd + t) << 2)) - <f64>load<f32>(cb + ((jj * dd + t) << 2));
      s += v * v;
    }
    store<f64>(dtab + (q << 3), s);
  }
  const cj = cb + ((jj * dd) << 2);
  // d = 4: the same sum, e = ((v0² + v1²) + v2²) + v3² (0 + v0² = v0², squares being ≥ +0).
  const c0 = dd == 4 ? <f64>load<f32>(cj) : 0;
  const c1 = dd == 4 ? <f64>load<f32>(cj, 4) : 0;
  const c2 = dd == 4 ? <f64>load<f32>(cj, 8) : 0;
  const c3 = dd == 4 ? <f64>load<f32>(cj, 12) : 0;
  let total = 0.0;
  const nn = <usize>n;
  let b: usize = 0;
  for (let i0: usize = 0; i0 < nn; i0 += <usize>block) {
    const i1 = min(nn, i0 + <usize>block);
    // Which sub-vectors the new codeword may come closer to: a branch-free pass into pick.
    let m: usize = 0;
    for (let i = i0; i < i1; i++) {
      const far = load<f64>(dtab + (<usize>load<u32>(near + (i << 2)) << 3));
      store<u32>(pick + (m << 2), <u32>i);
      m += <usize>!(far > 4.000000004 * load<f64>(dist + (i << 3)));
    }
    for (let q: usize = 0; q < m; q++) {
      const i = <usize>load<u32>(pick + (q << 2));
      const dp = dist + (i << 3);
      let e = 0.0;
      const xo = x + ((i * dd) << 2);
      if (dd == 4) {
        const v0 = <f64>load<f32>(xo) - c0;
        const v1 = <f64>load<f32>(xo, 4) - c1;
        const v2 = <f64>load<f32>(xo, 8) - c2;
        const v3 = <f64>load<f32>(xo, 12) - c3;
        e = v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3;
      } else {
        for (let t: usize = 0; t < dd; t++) {
          const v = <f64>load<f32>(xo + (t << 2)) - <f64>load<f32>(cj + (t << 2));
          e += v * v;
        }
      }
      if (e < load<f64>(dp)) {
        store<f64>(dp, e);
        store<u32>(near + (i << 2), <u32>j);
      }
    }
    // The block's sum in four lanes (two f64x2), then onto the running total.
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let i = i0;
    for (; i + 4 <= i1; i += 4) {
      s0 = f64x2.add(s0, v128.load(dist + (i << 3)));
      s1 = f64x2.add(s1, v128.load(dist + (i << 3), 16));
    }
    const s2 = f64x2.add(s0, s1);
    let bs = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
    for (; i < i1; i++) bs += load<f64>(dist + (i << 3));
    total += bs;
    store<f64>(prefix + (b << 3), total);
    b++;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Lloyd

/**
 * From the codebook cb (k × d float32): cbs, the search records (k × (d + 1) float32: −2·c_j then
 * f32(‖c_j‖²)), and cn, ‖c_j‖² in float64 (the TS kernel's values).
 */
export function prepare(cb: usize, k: i32, d: i32, cbs: usize, cn: usize): void {
  const dd = <usize>d;
  for (let j: usize = 0; j < <usize>k; j++) {
    let s = 0.0;
    const rec = cbs + ((j * (dd + 1)) << 2);
    for (let t: usize = 0; t < dd; t++) {
      const v = load<f32>(cb + ((j * dd + t) << 2));
      const w = <f64>v;
      s += w * w;
      store<f32>(rec + (t << 2), -2 * v);
    }
    store<f32>(rec + (dd << 2), <f32>s);
    store<f64>(cn + (j << 3), s);
  }
}

/** The TS kernel's nearest codeword of x_i: ‖x‖² − 2x·c + ‖c‖² in float64, first index on ties. */
function exactNearest(x: usize, i: usize, d: usize, cb: usize, cn: usize, k: usize): u32 {
  const xx = normSq(x, i, d);
  const xo = x + ((i * d) << 2);
  let best = Infinity;
  let bestJ: u32 = 0;
  for (let j: usize = 0; j < k; j++) {
    const co = cb + ((j * d) << 2);
    let dot = 0.0;
    for (let t: usize = 0; t < d; t++) dot += <f64>load<f32>(xo + (t << 2)) * <f64>load<f32>(co + (t << 2));
    const e = xx - 2 * dot + load<f64>(cn + (j << 3));
    if (e < best) {
      best = e;
      bestJ = <u32>j;
    }
  }
  return bestJ;
}

/**
 * Settles sub-vector i from its float32 screen (best partial b1 at codeword j1, second best b2;
 * partials are −2x·c + ‖c‖², without ‖x‖²) over `nc` codewords: certifies j1 or falls back to
 * exactNearest, then writes assign, the explicit distance and the lower bound on the distance to
 * every other codeword. A local screen (not all k codewords) comes with `outside`, a lower bound on
 * the distance from x to every codeword it did not look at (+∞ for a full screen), and old, the
 * squared distance to a screened codeword (the assigned one); it only certifies when outside² is
 * clearly above old, so an unscreened codeword cannot be nearest. Returns 1 on a fallback.
 *
 * Bound: each float32 partial p_j is within γ(‖x‖² + 2‖c_j‖²) ≤ γ(5‖x‖² + 4e_j) of the exact one
 * (γ = (d + 2)·u₃₂, the sum of d + 1 float32 terms), e_j the exact squared distance. If some
 * j ≠ j1 had e_j ≤ e_j1 ≤ E, then b2 − b1 ≤ 2γ(5‖x‖² + 4E); a gap above that proves j1.
 */
// @ts-ignore: decorator
@inline function settle(
  x: usize, i: usize, d: usize, cb: usize, cn: usize, k: usize, j1: u32, b1f: f32, b2f: f32, gamma: f64, nc: usize,
  outside: f64, old: f64, assign: usize, dist: usize, lower: usize,
): i32 {
  const xx = normSq(x, i, d);
  const b1 = <f64>b1f;
  const b2 = <f64>b2f;
  let a = j1;
  let low = 0.0;
  let fell = 0;
  const e1 = (xx + b1 + 5 * gamma * xx) * (1 + 8 * gamma);
  const margin = 2 * gamma * (5 * xx + 4 * e1) + ABS_SLACK;
  const covered = outside == Infinity || outside * outside > old * (1 + 1e-6) + 1e-13 * xx + ABS_SLACK;
  if (covered && xx < F32_SAFE && abs<f64>(b1) < F32_SAFE && b2 - b1 > margin) {
    // b2 = +∞: no second codeword screened (then only `outside` bounds the rest), or overflow.
    const screened = b2 < Infinity ? Math.sqrt(max<f64>(0, (xx + b2 - 5 * gamma * xx) / (1 + 4 * gamma))) * (1 - 1e-9) : nc == 1 ? Infinity : 0;
    low = min<f64>(screened, outside);
  } else {
    a = exactNearest(x, i, d, cb, cn, k);
    fell = 1;
  }
  store<u32>(assign + (i << 2), a);
  store<f64>(dist + (i << 3), explicitDist(x, i, cb, <usize>a, d));
  store<f64>(lower + (i << 3), low);
  return fell;
}

/**
 * The float32 screen of four sub-vectors x_q0 .. x_q3 (one per lane) against nc codewords: those
 * listed at cand (ascending u32 indices), or 0 .. nc when cand is 0. The codebook records (prepare)
 * are broadcast one codeword at a time; each lane keeps its best, second best and the first index
 * of the best, in two chains (even and odd positions) merged at the end, so the running minima do
 * not serialise the loop. Leaves best, second best and index at xs, xs + 16, xs + 32; past them,
 * from xs + 48, 16·d bytes of scratch hold the lanes' coordinates for d ≠ 4.
 */
// @ts-ignore: decorator
@inline function screen(x: usize, dd: usize, q0: usize, q1: usize, q2: usize, q3: usize, cbs: usize, cand: usize, nc: usize, xs: usize): void {
  const inf = f32x4.splat(Infinity);
  const two = i32x4.splat(2);
  let best = inf;
  let best2 = inf;
  let bi = i32x4.splat(0);
  let bo = inf;
  let b2o = inf;
  let bio = i32x4.splat(0);
  let jv = i32x4.splat(0);
  let jo = i32x4.splat(1);
  const stride = (dd + 1) << 2;
  let x0 = inf, x1 = inf, x2 = inf, x3 = inf;
  if (dd == 4) {
    const p0 = v128.load(x + (q0 << 4));
    const p1 = v128.load(x + (q1 << 4));
    const p2 = v128.load(x + (q2 << 4));
    const p3 = v128.load(x + (q3 << 4));
    const t0 = v128.shuffle<f32>(p0, p1, 0, 4, 1, 5);
    const t1 = v128.shuffle<f32>(p2, p3, 0, 4, 1, 5);
    const t2 = v128.shuffle<f32>(p0, p1, 2, 6, 3, 7);
    const t3 = v128.shuffle<f32>(p2, p3, 2, 6, 3, 7);
    x0 = v128.shuffle<f32>(t0, t1, 0, 1, 4, 5);
    x1 = v128.shuffle<f32>(t0, t1, 2, 3, 6, 7);
    x2 = v128.shuffle<f32>(t2, t3, 0, 1, 4, 5);
    x3 = v128.shuffle<f32>(t2, t3, 2, 3, 6, 7);
  } else {
    for (let t: usize = 0; t < dd; t++) {
      let v = f32x4.splat(load<f32>(x + ((q0 * dd + t) << 2)));
      v = f32x4.replace_lane(v, 1, load<f32>(x + ((q1 * dd + t) << 2)));
      v = f32x4.replace_lane(v, 2, load<f32>(x + ((q2 * dd + t) << 2)));
      v = f32x4.replace_lane(v, 3, load<f32>(x + ((q3 * dd + t) << 2)));
      v128.store(xs + 48 + (t << 4), v);
    }
  }
  const pairs = nc & ~(1 as usize);
  for (let p: usize = 0; p < pairs; p += 2) {
    let re: usize, ro: usize;
    if (cand) {
      const je = load<u32>(cand + (p << 2));
      const jd = load<u32>(cand + (p << 2), 4);
      jv = i32x4.splat(je);
      jo = i32x4.splat(jd);
      re = cbs + <usize>je * stride;
      ro = cbs + <usize>jd * stride;
    } else {
      re = cbs + p * stride;
      ro = re + stride;
    }
    let e: v128, f: v128;
    if (dd == 4) {
      e = v128.load32_splat(re + 16);
      f = v128.load32_splat(ro + 16);
      e = f32x4.add(e, f32x4.mul(x0, v128.load32_splat(re)));
      f = f32x4.add(f, f32x4.mul(x0, v128.load32_splat(ro)));
      e = f32x4.add(e, f32x4.mul(x1, v128.load32_splat(re + 4)));
      f = f32x4.add(f, f32x4.mul(x1, v128.load32_splat(ro + 4)));
      e = f32x4.add(e, f32x4.mul(x2, v128.load32_splat(re + 8)));
      f = f32x4.add(f, f32x4.mul(x2, v128.load32_splat(ro + 8)));
      e = f32x4.add(e, f32x4.mul(x3, v128.load32_splat(re + 12)));
      f = f32x4.add(f, f32x4.mul(x3, v128.load32_splat(ro + 12)));
    } else {
      e = v128.load32_splat(re + (dd << 2));
      f = v128.load32_splat(ro + (dd << 2));
      for (let t: usize = 0; t < dd; t++) {
        const xt = v128.load(xs + 48 + (t << 4));
        e = f32x4.add(e, f32x4.mul(xt, v128.load32_splat(re + (t << 2))));
        f = f32x4.add(f, f32x4.mul(xt, v128.load32_splat(ro + (t << 2))));
      }
    }
    const lt = f32x4.lt(e, best);
    const lf = f32x4.lt(f, bo);
    best2 = f32x4.pmin(best2, f32x4.pmax(best, e));
    b2o = f32x4.pmin(b2o, f32x4.pmax(bo, f));
    best = f32x4.pmin(best, e);
    bo = f32x4.pmin(bo, f);
    bi = v128.bitselect(jv, bi, lt);
    bio = v128.bitselect(jo, bio, lf);
    if (!cand) {
      jv = i32x4.add(jv, two);
      jo = i32x4.add(jo, two);
    }
  }
  if (pairs < nc) {
    let re: usize;
    if (cand) {
      const je = load<u32>(cand + (pairs << 2));
      jv = i32x4.splat(je);
      re = cbs + <usize>je * stride;
    } else {
      re = cbs + pairs * stride;
    }
    let e = v128.load32_splat(re + (dd << 2));
    if (dd == 4) {
      e = f32x4.add(e, f32x4.mul(x0, v128.load32_splat(re)));
      e = f32x4.add(e, f32x4.mul(x1, v128.load32_splat(re + 4)));
      e = f32x4.add(e, f32x4.mul(x2, v128.load32_splat(re + 8)));
      e = f32x4.add(e, f32x4.mul(x3, v128.load32_splat(re + 12)));
    } else {
      for (let t: usize = 0; t < dd; t++) e = f32x4.add(e, f32x4.mul(v128.load(xs + 48 + (t << 4)), v128.load32_splat(re + (t << 2))));
    }
    const lt = f32x4.lt(e, best);
    best2 = f32x4.pmin(best2, f32x4.pmax(best, e));
    best = f32x4.pmin(best, e);
    bi = v128.bitselect(jv, bi, lt);
  }
  // Merge: the smaller value, the lower index on equal values; second = the runner-up of the union.
  const takeOdd = v128.or(f32x4.lt(bo, best), v128.and(f32x4.eq(bo, best), i32x4.lt_s(bio, bi)));
  v128.store(xs + 16, f32x4.pmin(f32x4.pmax(best, bo), f32x4.pmin(best2, b2o)));
  v128.store(xs, v128.bitselect(bo, best, takeOdd));
  v128.store(xs + 32, v128.bitselect(bio, bi, takeOdd));
}

/**
 * Settles the four lanes of a screen (the last group of a run repeats its final sub-vector in the
 * unused lanes: same results, written once).
 */
// @ts-ignore: decorator
@inline function settleGroup(
  x: usize, dd: usize, q0: usize, q1: usize, q2: usize, q3: usize, lanes: usize, cb: usize, cn: usize, kk: usize, gamma: f64, nc: usize,
  radius: f64, assign: usize, dist: usize, lower: usize, xs: usize,
): i32 {
  let fell = 0;
  for (let r: usize = 0; r < lanes; r++) {
    const q = r == 0 ? q0 : r == 1 ? q1 : r == 2 ? q2 : q3;
    const old = radius == Infinity ? 0 : load<f64>(dist + (q << 3));
    const outside = radius == Infinity ? Infinity : radius * (1 - 1e-12) - Math.sqrt(old) * (1 + 1e-12);
    fell += settle(x, q, dd, cb, cn, kk, load<u32>(xs + 32 + (r << 2)), load<f32>(xs + (r << 2)), load<f32>(xs + 16 + (r << 2)), gamma, nc, outside, old, assign, dist, lower);
  }
  return fell;
}

/**
 * Nearest codeword of m sub-vectors over all k codewords: x_i for i = list[0 .. m) or, when list
 * is 0, i = i0 .. i0+m; screen() four at a time, then settle(). xs: 48 + 16·d bytes of scratch.
 * Returns how many sub-vectors fell back to the float64 search.
 */
export function search(
  x: usize, d: i32, list: usize, i0: i32, m: i32, cbs: usize, cb: usize, cn: usize, k: i32,
  assign: usize, dist: usize, lower: usize, xs: usize,
): i32 {
  const dd = <usize>d;
  const kk = <usize>k;
  const gamma = <f64>(d + 2) * U32 * 1.01;
  let fell = 0;
  const mm = <usize>m;
  const last = mm - 1;
  for (let g: usize = 0; g < mm; g += 4) {
    const g1 = min(g + 1, last);
    const g2 = min(g + 2, last);
    const g3 = min(g + 3, last);
    let q0: usize, q1: usize, q2: usize, q3: usize;
    if (list) {
      q0 = <usize>load<u32>(list + (g << 2));
      q1 = <usize>load<u32>(list + (g1 << 2));
      q2 = <usize>load<u32>(list + (g2 << 2));
      q3 = <usize>load<u32>(list + (g3 << 2));
    } else {
      q0 = <usize>i0 + g;
      q1 = <usize>i0 + g1;
      q2 = <usize>i0 + g2;
      q3 = <usize>i0 + g3;
    }
    screen(x, dd, q0, q1, q2, q3, cbs, 0, kk, xs);
    fell += settleGroup(x, dd, q0, q1, q2, q3, min<usize>(4, mm - g), cb, cn, kk, gamma, kk, Infinity, assign, dist, lower, xs);
  }
  return fell;
}

/**
 * The same search for the sub-vectors of list[0 .. m) whose Hamerly test failed, screened only
 * against their assigned codeword's neighbours (moves() with lists): list is reordered by assigned
 * codeword, inner sub-vectors first, LOCAL_WINDOW entries at a time (counting sort into sorted,
 * LOCAL_WINDOW u32, with starts 2k + 1 u32 of scratch),
 * and each run is screened against its nbr row, every codeword within radius R of c_a (the inner or
 * the outer search radius). A codeword outside is at least R − √dist[i] from x (dist[i]: the
 * distance to the assigned codeword, from step()), which settle() uses to certify and to bound.
 * Returns the float64 fallbacks.
 */
export function searchLocal(
  x: usize, d: i32, list: usize, m: i32, sorted: usize, starts: usize, cbs: usize, cb: usize, cn: usize, k: i32,
  nbr: usize, len: usize, loc: usize, assign: usize, dist: usize, lower: usize, xs: usize,
): i32 {
  const dd = <usize>d;
  const kk = <usize>k;
  const kb = kk << 3;
  const gamma = <f64>(d + 2) * U32 * 1.01;
  const nb = kk << 1;
  let fell = 0;
  // A window of the list at a time, so the sub-vectors it reorders stay in the caches.
  for (let w0: usize = 0; w0 < <usize>m; w0 += LOCAL_WINDOW) {
    const w1 = min<usize>(<usize>m, w0 + LOCAL_WINDOW);
    // Bucket 2a: sub-vectors of codeword a within INNER·ρ_a of it; 2a + 1: the others.
    memory.fill(starts, 0, (nb + 1) << 2);
    for (let g = w0; g < w1; g++) {
      const i = <usize>load<u32>(list + (g << 2));
      const a = <usize>load<u32>(assign + (i << 2));
      const outer = <usize>!(Math.sqrt(load<f64>(dist + (i << 3))) <= load<f64>(loc + 6 * kb + (a << 3)));
      const sp = starts + ((2 * a + outer + 1) << 2);
      store<u32>(sp, load<u32>(sp) + 1);
    }
    for (let b: usize = 0; b < nb; b++) store<u32>(starts + ((b + 1) << 2), load<u32>(starts + ((b + 1) << 2)) + load<u32>(starts + (b << 2)));
    for (let g = w0; g < w1; g++) {
      const i = <usize>load<u32>(list + (g << 2));
      const a = <usize>load<u32>(assign + (i << 2));
      const outer = <usize>!(Math.sqrt(load<f64>(dist + (i << 3))) <= load<f64>(loc + 6 * kb + (a << 3)));
      const sp = starts + ((2 * a + outer) << 2);
      const at = load<u32>(sp);
      store<u32>(sorted + (<usize>at << 2), <u32>i);
      store<u32>(sp, at + 1);
    }
    // starts[b] is now the end of bucket b; the bucket begins at the previous one's end.
    let begin: usize = 0;
    for (let b: usize = 0; b < nb; b++) {
      const end = <usize>load<u32>(starts + (b << 2));
      if (end == begin) continue;
      const a = b >> 1;
      const inner = (b & 1) == 0;
      const cand = inner ? nbr + ((kk * kk + a * kk) << 2) : nbr + ((a * kk) << 2);
      const nc = <usize>load<u32>(len + ((inner ? kk + a : a) << 2));
      const radius = load<f64>(loc + (inner ? 5 : 4) * kb + (a << 3));
      const last = end - 1;
      for (let g = begin; g < end; g += 4) {
        const q0 = <usize>load<u32>(sorted + (g << 2));
        const q1 = <usize>load<u32>(sorted + (min(g + 1, last) << 2));
        const q2 = <usize>load<u32>(sorted + (min(g + 2, last) << 2));
        const q3 = <usize>load<u32>(sorted + (min(g + 3, last) << 2));
        screen(x, dd, q0, q1, q2, q3, cbs, cand, nc, xs);
        fell += settleGroup(x, dd, q0, q1, q2, q3, min<usize>(4, end - g), cb, cn, kk, gamma, nc, radius, assign, dist, lower, xs);
      }
      begin = end;
    }
  }
  return fell;
}

/**
 * Local moves: Hamerly's lower bound drops by the largest move of any other codeword, and with
 * heavy-tailed data a few outlying codewords move far more than the rest. A sub-vector of codeword
 * a is within ρ_a = √maxd[a] + delta[a] of c_a after the update, so codewords q with
 * ‖c_a − c_q‖ ≥ r are at least r − ‖x − c_a‖ from x, and only those closer than r need their move
 * subtracted. Two radii per codeword, R_SMALL·ρ_a and R_LARGE·ρ_a, give two valid bounds; step()
 * takes the larger.
 */
const R_SMALL: f64 = 1.0;
const R_LARGE: f64 = 1.5;

/**
 * The search of a sub-vector that fails the test screens only the codewords within R_SEARCH·ρ_a of
 * its codeword a; every other one is at least R_SEARCH·ρ_a − ‖x − c_a‖ from x, which certifies the
 * pick when it exceeds ‖x − c_a‖ (a few per cent of the searches fall back to the float64 search
 * of all k codewords) and bounds the rest.
 */
const R_SEARCH: f64 = 1.8;

/**
 * Most sub-vectors lie well inside ρ_a (the farthest one's distance): those within INNER·ρ_a use a
 * shorter list, the codewords within R_INNER·ρ_a, which still certifies every one of them
 * (R_INNER − INNER > INNER).
 */
const INNER: f64 = 0.5;
const R_INNER: f64 = 1.1;

/** searchLocal reorders this many listed sub-vectors at a time (theirs are a few hundred KiB of x). */
const LOCAL_WINDOW: usize = 4096;

/**
 * After the codebook moved from cbOld to cb: delta[j] = ‖c_j − c_j,old‖ (rounded up), and, when
 * withS != 0, s[j] = ½ min_{q≠j} ‖c_j − c_q‖ (rounded down; +∞ for k = 1), else s = 0. Writes to
 * out: the largest move, its codeword, and the largest move of any other codeword. When maxd is
 * not 0 (and withS != 0), also the local moves for step(): at loc, four k-float64 arrays, the two
 * radii of each codeword and the largest move of another codeword within each, then a fifth, the
 * search radius R_SEARCH·ρ_a, a sixth, the inner one R_INNER·ρ_a, and a seventh, INNER·ρ_a; and when
 * nbr is not 0, row a of nbr (2 × k × k u32) lists, in ascending order, a and every codeword within
 * a's search radius, len[a] (2k u32) their count, and row k + a the same within the inner radius.
 */
export function moves(
  cbOld: usize, cb: usize, k: i32, d: i32, delta: usize, s: usize, withS: i32, out: usize, maxd: usize, loc: usize, nbr: usize, len: usize,
): void {
  const dd = <usize>d;
  const kk = <usize>k;
  let m1 = 0.0;
  let m2 = 0.0;
  let i1: usize = 0;
  for (let j: usize = 0; j < kk; j++) {
    let e = 0.0;
    for (let t: usize = 0; t < dd; t++) {
      const v = <f64>load<f32>(cb + ((j * dd + t) << 2)) - <f64>load<f32>(cbOld + ((j * dd + t) << 2));
      e += v * v;
    }
    const dj = Math.sqrt(e) * (1 + 1e-12);
    store<f64>(delta + (j << 3), dj);
    if (dj > m1) {
      m2 = m1;
      m1 = dj;
      i1 = j;
    } else if (dj > m2) {
      m2 = dj;
    }
  }
  store<f64>(out, m1);
  store<f64>(out + 8, <f64>i1);
  store<f64>(out + 16, m2);
  for (let j: usize = 0; j < kk; j++) store<f64>(s + (j << 3), withS ? Infinity : 0);
  if (!withS) return;
  const kb = kk << 3;
  const rs = loc;
  const rl = loc + kb;
  const ms = loc + 2 * kb;
  const ml = loc + 3 * kb;
  if (maxd) {
    for (let a: usize = 0; a < kk; a++) {
      const rho = Math.sqrt(load<f64>(maxd + (a << 3))) + load<f64>(delta + (a << 3));
      store<f64>(rs + (a << 3), R_SMALL * rho);
      store<f64>(rl + (a << 3), R_LARGE * rho);
      store<f64>(loc + 4 * kb + (a << 3), R_SEARCH * rho * (1 + 1e-9));
      store<f64>(loc + 5 * kb + (a << 3), R_INNER * rho * (1 + 1e-9));
      store<f64>(loc + 6 * kb + (a << 3), INNER * rho);
      if (nbr) {
        store<u32>(len + (a << 2), 0);
        store<u32>(len + ((kk + a) << 2), 0);
      }
      store<f64>(ms + (a << 3), 0);
      store<f64>(ml + (a << 3), 0);
    }
  }
  for (let j: usize = 0; j < kk; j++) {
    let sj = load<f64>(s + (j << 3));
    const rsj = maxd ? load<f64>(rs + (j << 3)) : 0;
    const rlj = maxd ? load<f64>(rl + (j << 3)) : 0;
    const dj = load<f64>(delta + (j << 3));
    let msj = maxd ? load<f64>(ms + (j << 3)) : 0;
    let mlj = maxd ? load<f64>(ml + (j << 3)) : 0;
    const rj = nbr ? load<f64>(loc + 4 * kb + (j << 3)) : 0;
    const rij = nbr ? load<f64>(loc + 5 * kb + (j << 3)) : 0;
    const rowj = nbr + ((j * kk) << 2);
    const innerj = nbr + ((kk * kk + j * kk) << 2);
    let lenj: usize = 0;
    let leni: usize = 0;
    if (nbr) {
      // Codewords below j were added to row j by the earlier rows; j itself comes next.
      lenj = <usize>load<u32>(len + (j << 2));
      store<u32>(rowj + (lenj << 2), <u32>j);
      lenj++;
      leni = <usize>load<u32>(len + ((kk + j) << 2));
      store<u32>(innerj + (leni << 2), <u32>j);
      leni++;
    }
    for (let q = j + 1; q < kk; q++) {
      let e = 0.0;
      for (let t: usize = 0; t < dd; t++) {
        const v = <f64>load<f32>(cb + ((j * dd + t) << 2)) - <f64>load<f32>(cb + ((q * dd + t) << 2));
        e += v * v;
      }
      if (e < sj) sj = e;
      const sq = s + (q << 3);
      if (e < load<f64>(sq)) store<f64>(sq, e);
      if (maxd) {
        const dq = load<f64>(delta + (q << 3));
        if (e < rlj * rlj) {
          if (dq > mlj) mlj = dq;
          if (e < rsj * rsj && dq > msj) msj = dq;
        }
        const rlq = load<f64>(rl + (q << 3));
        if (e < rlq * rlq) {
          if (dj > load<f64>(ml + (q << 3))) store<f64>(ml + (q << 3), dj);
          const rsq = load<f64>(rs + (q << 3));
          if (e < rsq * rsq && dj > load<f64>(ms + (q << 3))) store<f64>(ms + (q << 3), dj);
        }
      }
      if (nbr) {
        if (e < rj * rj) {
          store<u32>(rowj + (lenj << 2), <u32>q);
          lenj++;
          if (e < rij * rij) {
            store<u32>(innerj + (leni << 2), <u32>q);
            leni++;
          }
        }
        const rq = load<f64>(loc + 4 * kb + (q << 3));
        if (e < rq * rq) {
          const lq = load<u32>(len + (q << 2));
          store<u32>(nbr + ((q * kk + <usize>lq) << 2), <u32>j);
          store<u32>(len + (q << 2), lq + 1);
          const riq = load<f64>(loc + 5 * kb + (q << 3));
          if (e < riq * riq) {
            const li = load<u32>(len + ((kk + q) << 2));
            store<u32>(nbr + ((kk * kk + q * kk + <usize>li) << 2), <u32>j);
            store<u32>(len + ((kk + q) << 2), li + 1);
          }
        }
      }
    }
    if (nbr) {
      store<u32>(len + (j << 2), <u32>lenj);
      store<u32>(len + ((kk + j) << 2), <u32>leni);
    }
    store<f64>(s + (j << 3), sj);
    if (maxd) {
      store<f64>(ms + (j << 3), msj);
      store<f64>(ml + (j << 3), mlj);
    }
  }
  for (let j: usize = 0; j < kk; j++) {
    const sp = s + (j << 3);
    store<f64>(sp, 0.5 * Math.sqrt(load<f64>(sp)) * (1 - 1e-9));
  }
}

/**
 * Hamerly's test for x_i, i in i0 .. i1, after the codebook moved (moves()): the lower bound drops
 * by the largest move of another codeword, dist[i] becomes the explicit distance to the assigned
 * (moved) codeword, and i is appended to list unless that codeword provably stays nearest —
 * √dist < max(lower, s[a]) with a margin far above the float64 rounding of either path. Returns
 * how many were appended (list continues from `count`). step() is the sharper test; this one
 * serves where the k² local moves would cost too much (k close to n).
 */
export function filter(
  x: usize, i0: i32, i1: i32, d: i32, cb: usize, assign: usize, dist: usize, lower: usize, s: usize, mv: usize,
  list: usize, count: i32,
): i32 {
  const dd = <usize>d;
  const m1 = load<f64>(mv);
  const a1 = <u32>load<f64>(mv, 8);
  const m2 = load<f64>(mv, 16);
  let c = <usize>count;
  for (let i = <usize>i0; i < <usize>i1; i++) {
    const a = load<u32>(assign + (i << 2));
    const lp = lower + (i << 3);
    const l = load<f64>(lp) - (a == a1 ? m2 : m1);
    store<f64>(lp, l);
    const e = explicitDist(x, i, cb, <usize>a, dd);
    store<f64>(dist + (i << 3), e);
    const thr = max<f64>(l, load<f64>(s + (<usize>a << 3)));
    const xx = normSq(x, i, dd);
    if (thr > 0 && e * (1 + 1e-9) + 1e-13 * xx < thr * thr) continue;
    store<u32>(list + (c << 2), <u32>i);
    c++;
  }
  return <i32>c;
}

/** Σ dist[i0 .. i1) added in index order onto `total` (the TS objective, bit for bit). */
export function sumDist(dist: usize, i0: i32, i1: i32, total: f64): f64 {
  for (let i = <usize>i0; i < <usize>i1; i++) total += load<f64>(dist + (i << 3));
  return total;
}

/**
 * Centre update, the TS updateCentres: sums (k × d float64) and counts (k u32) of the assigned
 * sub-vectors in index order, then each codeword with points becomes their mean (float64 sum /
 * count, rounded to float32); each empty one, in ascending order, moves onto the sub-vector
 * farthest from its centre (largest dist, lowest index on ties), whose dist is then zeroed.
 * Returns how many codewords were empty. When maxd is not 0, maxd[j] (k float64) becomes the
 * largest dist of codeword j's sub-vectors before the update.
 */
export function update(x: usize, n: i32, d: i32, k: i32, assign: usize, dist: usize, sums: usize, counts: usize, cb: usize, maxd: usize): i32 {
  const dd = <usize>d;
  const kk = <usize>k;
  const nn = <usize>n;
  memory.fill(sums, 0, (kk * dd) << 3);
  memory.fill(counts, 0, kk << 2);
  if (maxd) {
    memory.fill(maxd, 0, kk << 3);
    for (let i: usize = 0; i < nn; i++) {
      const mp = maxd + (<usize>load<u32>(assign + (i << 2)) << 3);
      const e = load<f64>(dist + (i << 3));
      if (!(e <= load<f64>(mp))) store<f64>(mp, e);
    }
  }
  if (dd == 4) {
    // Two float64 lanes add coordinates (0, 1) and (2, 3): the same additions as the scalar loop.
    for (let i: usize = 0; i < nn; i++) {
      const j = <usize>load<u32>(assign + (i << 2));
      const cp = counts + (j << 2);
      store<u32>(cp, load<u32>(cp) + 1);
      const sp = sums + (j << 5);
      const v = v128.load(x + (i << 4));
      v128.store(sp, f64x2.add(v128.load(sp), f64x2.promote_low_f32x4(v)));
      v128.store(sp + 16, f64x2.add(v128.load(sp + 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))));
    }
  } else {
    for (let i: usize = 0; i < nn; i++) {
      const j = <usize>load<u32>(assign + (i << 2));
      const cp = counts + (j << 2);
      store<u32>(cp, load<u32>(cp) + 1);
      const sp = sums + ((j * dd) << 3);
      for (let t: usize = 0; t < dd; t++) store<f64>(sp + (t << 3), load<f64>(sp + (t << 3)) + ldx(x, i, t, dd));
    }
  }
  let empty = 0;
  for (let j: usize = 0; j < kk; j++) {
    const cnt = load<u32>(counts + (j << 2));
    if (cnt > 0) {
      for (let t: usize = 0; t < dd; t++) store<f32>(cb + ((j * dd + t) << 2), <f32>(load<f64>(sums + ((j * dd + t) << 3)) / <f64>cnt));
      continue;
    }
    empty++;
    let far: usize = 0;
    let fd = load<f64>(dist);
    for (let i: usize = 1; i < nn; i++) {
      const v = load<f64>(dist + (i << 3));
      if (v > fd) {
        fd = v;
        far = i;
      }
    }
    for (let t: usize = 0; t < dd; t++) store<f32>(cb + ((j * dd + t) << 2), load<f32>(x + ((far * dd + t) << 2)));
    store<f64>(dist + (far << 3), 0);
  }
  return empty;
}

/**
 * Hamerly's test with local moves (moves() with maxd), for x_i, i in i0 .. i1: e, the explicit
 * distance to the (moved) assigned codeword a, goes to dist[i]; lower[i] bounds the distance to
 * every other codeword before the move. For each radius r of a (with its largest local move m),
 * every other codeword is now at least min(lower − m, r − √e) from x; when √e is below the larger
 * of the two bounds, or below s[a], with a margin far above the float64 rounding of either path,
 * a stays and lower becomes that bound. The others are appended to list (from `count`) for
 * searchLocal() or search(). Branch-free. Returns the new count.
 */
export function step(
  x: usize, i0: i32, i1: i32, d: i32, cb: usize, k: i32, assign: usize, dist: usize, lower: usize, s: usize, loc: usize,
  list: usize, count: i32,
): i32 {
  const dd = <usize>d;
  const kb = <usize>k << 3;
  let c = <usize>count;
  // The two bounds side by side in f64x2 lanes (small radius, large radius): pmin/pmax and
  // bitselect keep the loop free of branches, which float selects would not be.
  const shrink = f64x2.splat(1 - 1e-12);
  const zero = f64x2.splat(0);
  for (let i = <usize>i0; i < <usize>i1; i++) {
    const a = <usize>load<u32>(assign + (i << 2));
    const e = explicitDist(x, i, cb, a, dd);
    store<f64>(dist + (i << 3), e);
    const lp = lower + (i << 3);
    const lo = f64x2.splat(load<f64>(lp));
    const u = f64x2.splat(Math.sqrt(e) * (1 + 1e-12));
    const ao = loc + (a << 3);
    const radii = f64x2.replace_lane(f64x2.splat(load<f64>(ao)), 1, load<f64>(ao + kb));
    const moved = f64x2.replace_lane(f64x2.splat(load<f64>(ao + 2 * kb)), 1, load<f64>(ao + 3 * kb));
    const both = f64x2.pmin(f64x2.sub(lo, moved), f64x2.sub(f64x2.mul(radii, shrink), u));
    const bound = f64x2.pmax(both, v128.shuffle<f64>(both, both, 1, 0));
    const thr = f64x2.pmax(bound, f64x2.splat(load<f64>(s + (a << 3))));
    const need = f64x2.splat(e * (1 + 1e-9) + 1e-13 * normSq(x, i, dd));
    const pass = v128.and(f64x2.gt(thr, zero), f64x2.lt(need, f64x2.mul(thr, thr)));
    store<f64>(lp, f64x2.extract_lane(v128.bitselect(f64x2.pmax(bound, zero), lo, pass), 0));
    store<u32>(list + (c << 2), <u32>i);
    c += <usize>(1 + i64x2.extract_lane(pass, 0)); // lane = −1 where it passes
  }
  return <i32>c;
}
