// AssemblyScript source of the WebAssembly SIMD twins of lib/math/gram.ts (gramOfRows),
// lib/math/tridiagonalize.ts and lib/math/tql.ts, plus FARMS's fused window step (Gram →
// tridiagonal → QL, two windows' QL interleaved). Compiled by scripts/build-wasm.mjs into
// spectra-kernels-wasm.ts (committed); run `node scripts/build-wasm.mjs` after any edit here.
//
// The kernels own no memory: the caller (spectra-kernels.ts) lays every buffer out in linear
// memory past heapBase() and passes byte addresses. All arithmetic is float64 (f64x2 lanes), the
// same operations as the TypeScript kernels; only the order of the sums differs (two lanes add the
// even and the odd terms separately, then each other) and QL's hypot is computed more directly,
// so results agree to roundoff, and NaN/Inf reach the same entries.

/** First 16-byte-aligned address past the module's static data. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(15 as usize);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

// @ts-ignore: decorator
@inline function addAt(ptr: usize, x: f64): void {
  store<f64>(ptr, load<f64>(ptr) + x);
}

// Gram layout. A (k × n) is taken chunk columns at a time; each chunk is packed as float64 into a
// panel of ⌈k/4⌉ blocks of 4 rows, each block stored column pair by column pair: 64 bytes =
// rows r..r+3 × columns c, c+1. A 4 × 2 output tile then reads its 4 rows from one block and its
// 2 rows from another at fixed offsets, so the inner loop advances two pointers and nothing else.
// Rows past k and columns past the chunk are zero, so every tile is whole and adds nothing extra.

/** Columns per group: the inner loop takes 4 columns (two 64-byte pairs) per step. */
const GROUP = 4;

/** Bytes of one 4-row block of a panel with wp columns. */
// @ts-ignore: decorator
@inline function blockBytes(wp: i32): usize {
  return (<usize>wp) << 5;
}

/** Address of A[r][c] in the panel (r within 0..4·⌈k/4⌉, c within 0..wp). */
// @ts-ignore: decorator
@inline function panelAt(panel: usize, wp: i32, r: i32, c: i32): usize {
  return panel + <usize>(r >> 2) * blockBytes(wp) + (<usize>(c >> 1) << 6) + (<usize>(r & 3) << 4) + (<usize>(c & 1) << 3);
}

/**
 * Packs columns c0 .. c0+w of A (k rows) into the panel (wp columns, pad zero). A is at src
 * row-major with ld elements from one row to the next, or, when trans != 0, its transpose is (ld
 * from one row of the transpose to the next); float32 when srcF32 != 0, else float64.
 */
function pack(src: usize, k: i32, ld: i32, trans: i32, srcF32: i32, panel: usize, c0: i32, w: i32, wp: i32): void {
  const kp = (k + 3) & ~3;
  // Every entry is written below unless there are padding rows or columns.
  if (kp != k || wp != w) memory.fill(panel, 0, <usize>(kp >> 2) * blockBytes(wp));
  if (!trans && !srcF32) {
    // Columns c, c+1 of a row are adjacent in the panel as in A: copy them as one f64x2.
    const wPairs = <usize>(w >> 1);
    for (let i = 0; i < k; i++) {
      const s = src + ((<usize>i * <usize>ld + <usize>c0) << 3);
      const dst = panelAt(panel, wp, i, 0);
      for (let q: usize = 0; q < wPairs; q++) v128.store(dst + (q << 6), v128.load(s + (q << 4)));
      if (w & 1) store<f64>(dst + (wPairs << 6), load<f64>(s + (wPairs << 4)));
    }
  } else if (!trans) {
    for (let i = 0; i < k; i++) {
      const at = <usize>i * <usize>ld + <usize>c0;
      const dst = panelAt(panel, wp, i, 0);
      if (srcF32) {
        const s = src + (at << 2);
        for (let c = 0; c < w; c++) store<f64>(dst + (<usize>(c >> 1) << 6) + (<usize>(c & 1) << 3), <f64>load<f32>(s + ((<usize>c) << 2)));
      } else {
        const s = src + (at << 3);
        for (let c = 0; c < w; c++) store<f64>(dst + (<usize>(c >> 1) << 6) + (<usize>(c & 1) << 3), load<f64>(s + ((<usize>c) << 3)));
      }
    }
  } else if (!srcF32) {
    // A[i][c] = src[c][i]: two source rows (columns c, c+1 of A) at a time, rows i, i+1 of each
    // read as one f64x2 and interleaved into the panel's (row, column pair) order.
    const bb = blockBytes(wp);
    const wPairs = w >> 1;
    const kPairs = k & ~1;
    const rowBytes = <usize>ld << 3;
    for (let q = 0; q < wPairs; q++) {
      const sx = src + ((<usize>(c0 + 2 * q) * <usize>ld) << 3);
      const sy = sx + rowBytes;
      const dst = panel + (<usize>q << 6);
      for (let i = 0; i < kPairs; i += 2) {
        const x = v128.load(sx + (<usize>i << 3));
        const y = v128.load(sy + (<usize>i << 3));
        const at = dst + <usize>(i >> 2) * bb + (<usize>(i & 3) << 4);
        v128.store(at, v128.shuffle<f64>(x, y, 0, 2));
        v128.store(at, v128.shuffle<f64>(x, y, 1, 3), 16);
      }
      if (kPairs < k) {
        const at = panelAt(panel, wp, kPairs, 2 * q);
        store<f64>(at, load<f64>(sx + (<usize>kPairs << 3)));
        store<f64>(at, load<f64>(sy + (<usize>kPairs << 3)), 8);
      }
    }
    if (w & 1) {
      const s = src + ((<usize>(c0 + w - 1) * <usize>ld) << 3);
      for (let i = 0; i < k; i++) store<f64>(panelAt(panel, wp, i, w - 1), load<f64>(s + (<usize>i << 3)));
    }
  } else {
    // A[i][c] = src[c][i] (float32): read the source rows in order.
    for (let c = 0; c < w; c++) {
      const s = src + ((<usize>(c0 + c) * <usize>ld) << 2);
      const dst = panelAt(panel, wp, 0, c);
      for (let i = 0; i < k; i++) store<f64>(dst + <usize>(i >> 2) * blockBytes(wp) + (<usize>(i & 3) << 4), <f64>load<f32>(s + ((<usize>i) << 2)));
    }
  }
}

/** One panel's contribution to the lower triangle of G (k × k): 4 × 2 tiles of f64x2 sums. */
function gramPanel(panel: usize, k: i32, wp: i32, g: usize, first: bool): void {
  const bb = blockBytes(wp);
  const kk = <usize>k;
  const blocks = (k + 3) >> 2;
  for (let ib = 0; ib < blocks; ib++) {
    const pi = panel + <usize>ib * bb;
    const i = ib << 2;
    for (let j = 0; j <= i + 2 && j < k; j += 2) {
      const qj = panel + <usize>(j >> 2) * bb + (<usize>(j & 3) << 4);
      let s00 = f64x2.splat(0), s01 = f64x2.splat(0);
      let s10 = f64x2.splat(0), s11 = f64x2.splat(0);
      let s20 = f64x2.splat(0), s21 = f64x2.splat(0);
      let s30 = f64x2.splat(0), s31 = f64x2.splat(0);
      for (let off: usize = 0; off < bb; off += 128) {
        const q = qj + off;
        const x = pi + off;
        let b0 = v128.load(q);
        let b1 = v128.load(q, 16);
        let v = v128.load(x);
        s00 = f64x2.add(s00, f64x2.mul(v, b0));
        s01 = f64x2.add(s01, f64x2.mul(v, b1));
        v = v128.load(x, 16);
        s10 = f64x2.add(s10, f64x2.mul(v, b0));
        s11 = f64x2.add(s11, f64x2.mul(v, b1));
        v = v128.load(x, 32);
        s20 = f64x2.add(s20, f64x2.mul(v, b0));
        s21 = f64x2.add(s21, f64x2.mul(v, b1));
        v = v128.load(x, 48);
        s30 = f64x2.add(s30, f64x2.mul(v, b0));
        s31 = f64x2.add(s31, f64x2.mul(v, b1));
        b0 = v128.load(q, 64);
        b1 = v128.load(q, 80);
        v = v128.load(x, 64);
        s00 = f64x2.add(s00, f64x2.mul(v, b0));
        s01 = f64x2.add(s01, f64x2.mul(v, b1));
        v = v128.load(x, 80);
        s10 = f64x2.add(s10, f64x2.mul(v, b0));
        s11 = f64x2.add(s11, f64x2.mul(v, b1));
        v = v128.load(x, 96);
        s20 = f64x2.add(s20, f64x2.mul(v, b0));
        s21 = f64x2.add(s21, f64x2.mul(v, b1));
        v = v128.load(x, 112);
        s30 = f64x2.add(s30, f64x2.mul(v, b0));
        s31 = f64x2.add(s31, f64x2.mul(v, b1));
      }
      // Entries past k (padding rows) are not stored; those above the diagonal are overwritten
      // by the mirror at the end.
      const row = kk << 3;
      const g0 = g + ((<usize>i * kk + <usize>j) << 3);
      const two = j + 1 < k;
      if (first) {
        // The first panel's sums are stored, not added to a zeroed G (0 + x, so −0 stays +0).
        store<f64>(g0, 0 + hsum(s00));
        if (two) store<f64>(g0 + 8, 0 + hsum(s01));
        if (i + 1 < k) {
          store<f64>(g0 + row, 0 + hsum(s10));
          if (two) store<f64>(g0 + row + 8, 0 + hsum(s11));
        }
        if (i + 2 < k) {
          store<f64>(g0 + 2 * row, 0 + hsum(s20));
          if (two) store<f64>(g0 + 2 * row + 8, 0 + hsum(s21));
        }
        if (i + 3 < k) {
          store<f64>(g0 + 3 * row, 0 + hsum(s30));
          if (two) store<f64>(g0 + 3 * row + 8, 0 + hsum(s31));
        }
        continue;
      }
      addAt(g0, hsum(s00));
      if (two) addAt(g0 + 8, hsum(s01));
      if (i + 1 < k) {
        addAt(g0 + row, hsum(s10));
        if (two) addAt(g0 + row + 8, hsum(s11));
      }
      if (i + 2 < k) {
        addAt(g0 + 2 * row, hsum(s20));
        if (two) addAt(g0 + 2 * row + 8, hsum(s21));
      }
      if (i + 3 < k) {
        addAt(g0 + 3 * row, hsum(s30));
        if (two) addAt(g0 + 3 * row + 8, hsum(s31));
      }
    }
  }
}

/** gram() without the mirror: only the lower triangle of G is right (all tridiagonalize reads). */
function gramLower(src: usize, k: i32, n: i32, ld: i32, trans: i32, srcF32: i32, g: usize, panel: usize, chunk: i32): void {
  if (n <= 0) memory.fill(g, 0, (<usize>k * <usize>k) << 3);
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const w = min(chunk, n - c0);
    const wp = (w + GROUP - 1) & ~(GROUP - 1);
    pack(src, k, ld, trans, srcF32, panel, c0, w, wp);
    gramPanel(panel, k, wp, g, c0 == 0);
  }
}

/**
 * G = A·Aᵀ (k × k, full symmetric, float64 at g) for A (k × n) at src, stored row-major or, when
 * trans != 0, as its n × k transpose, ld elements from one stored row to the next; float32 when
 * srcF32 != 0, else float64. Goes through A chunk columns at a time (chunk a multiple of 4) via
 * the panel (4·⌈k/4⌉ × chunk float64).
 */
export function gram(src: usize, k: i32, n: i32, ld: i32, trans: i32, srcF32: i32, g: usize, panel: usize, chunk: i32): void {
  gramLower(src, k, n, ld, trans, srcF32, g, panel, chunk);
  const kk = <usize>k;
  for (let i: usize = 0; i < kk; i++) {
    for (let j = i + 1; j < kk; j++) store<f64>(g + ((i * kk + j) << 3), load<f64>(g + ((j * kk + i) << 3)));
  }
}

/**
 * A −= u·pᵀ + p·uᵀ on row r of the lower triangle (columns 0..r): u and p are the previous
 * step's vectors. The element formula is the one the fused loop below uses, so where a row is
 * updated does not change its values.
 */
// @ts-ignore: decorator
@inline function updateRow(rj: usize, r: i32, u: usize, p: usize): void {
  const fj = load<f64>(u + (<usize>r << 3));
  const gj = load<f64>(p + (<usize>r << 3));
  const Fj = f64x2.splat(fj);
  const Gj = f64x2.splat(gj);
  const cnt = <usize>(r + 1) << 3;
  const pairs = cnt & ~(15 as usize);
  for (let b: usize = 0; b < pairs; b += 16) {
    v128.store(rj + b, f64x2.sub(v128.load(rj + b), f64x2.add(f64x2.mul(Fj, v128.load(p + b)), f64x2.mul(Gj, v128.load(u + b)))));
  }
  if (pairs < cnt) {
    const at = rj + pairs;
    store<f64>(at, load<f64>(at) - (fj * load<f64>(p + pairs) + gj * load<f64>(u + pairs)));
  }
}

/**
 * Householder tridiagonalization of the symmetric n × n matrix at a (lower triangle read, a
 * overwritten), the algorithm of lib/math/tridiagonalize.ts step for step. Writes the diagonal to
 * d and the sub-diagonal to e (e[i] couples i and i+1, e[n-1] = 0); p is 2n float64 of scratch.
 *
 * Each step's rank-2 update A −= u·pᵀ + p·uᵀ is deferred into the next step's matrix–vector
 * product: a row is updated and at once multiplied, so A streams through the cache once per step
 * instead of twice. Every element gets the same operations in the same order as with the update
 * done first, so the results are those of the unfused loops bit for bit.
 */
export function tridiagonalize(a: usize, n: i32, d: usize, e: usize, p: usize): void {
  const nn = <usize>n;
  const row = nn << 3;
  if (n > 0) store<f64>(e + ((nn - 1) << 3), 0);
  // The pending update (from the step before): u = row uo, p = po; it covers rows 0..i.
  let pend = false;
  let uo: usize = 0;
  let po = p + row;
  let pc = p;
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const ri = a + <usize>i * row;
    if (pend) updateRow(ri, i, uo, po);
    const m = <usize>i; // elements 0..l of row i
    const mPairs = (m & ~(1 as usize)) << 3;
    const mBytes = m << 3;
    const eOut = e + (<usize>(i - 1) << 3);
    if (l === 0) {
      store<f64>(eOut, load<f64>(ri));
      if (pend) updateRow(a, 0, uo, po);
      pend = false;
      continue;
    }
    let vs = f64x2.splat(0);
    for (let b: usize = 0; b < mPairs; b += 16) vs = f64x2.add(vs, f64x2.abs(v128.load(ri + b)));
    let scale = hsum(vs);
    if (mPairs < mBytes) scale += abs<f64>(load<f64>(ri + mPairs));
    if (scale == 0) {
      store<f64>(eOut, load<f64>(ri + (<usize>l << 3)));
      if (pend) for (let r = 0; r <= l; r++) updateRow(a + <usize>r * row, r, uo, po);
      pend = false;
      continue;
    }
    // Scaling keeps the squares of tiny or huge entries representable.
    const vScale = f64x2.splat(scale);
    let vh = f64x2.splat(0);
    for (let b: usize = 0; b < mPairs; b += 16) {
      const v = f64x2.div(v128.load(ri + b), vScale);
      v128.store(ri + b, v);
      vh = f64x2.add(vh, f64x2.mul(v, v));
    }
    let h = hsum(vh);
    if (mPairs < mBytes) {
      const v = load<f64>(ri + mPairs) / scale;
      store<f64>(ri + mPairs, v);
      h += v * v;
    }
    const f = load<f64>(ri + (<usize>l << 3));
    const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    store<f64>(eOut, scale * g);
    h -= f * g;
    store<f64>(ri + (<usize>l << 3), f - g);

    // p = A[0..l, 0..l] · u (u = row i, 0..l) from the lower triangle, four rows at a time, each
    // row first brought up to date by the pending update.
    const P = pc;
    memory.fill(P, 0, mBytes);
    let j = 0;
    for (; j + 3 <= l; j += 4) {
      const r0 = a + <usize>j * row;
      const r1 = r0 + row;
      const r2 = r1 + row;
      const r3 = r2 + row;
      const uj = ri + (<usize>j << 3);
      const U0 = f64x2.splat(load<f64>(uj));
      const U1 = f64x2.splat(load<f64>(uj, 8));
      const U2 = f64x2.splat(load<f64>(uj, 16));
      const U3 = f64x2.splat(load<f64>(uj, 24));
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
      const jBytes = <usize>j << 3; // j is a multiple of 4: no odd tail
      if (pend) {
        const ur = uo + jBytes;
        const pr = po + jBytes;
        const F0 = f64x2.splat(load<f64>(ur));
        const F1 = f64x2.splat(load<f64>(ur, 8));
        const F2 = f64x2.splat(load<f64>(ur, 16));
        const F3 = f64x2.splat(load<f64>(ur, 24));
        const G0 = f64x2.splat(load<f64>(pr));
        const G1 = f64x2.splat(load<f64>(pr, 8));
        const G2 = f64x2.splat(load<f64>(pr, 16));
        const G3 = f64x2.splat(load<f64>(pr, 24));
        for (let b: usize = 0; b < jBytes; b += 16) {
          const qk = v128.load(po + b);
          const wk = v128.load(uo + b);
          const v0 = f64x2.sub(v128.load(r0 + b), f64x2.add(f64x2.mul(F0, qk), f64x2.mul(G0, wk)));
          const v1 = f64x2.sub(v128.load(r1 + b), f64x2.add(f64x2.mul(F1, qk), f64x2.mul(G1, wk)));
          const v2 = f64x2.sub(v128.load(r2 + b), f64x2.add(f64x2.mul(F2, qk), f64x2.mul(G2, wk)));
          const v3 = f64x2.sub(v128.load(r3 + b), f64x2.add(f64x2.mul(F3, qk), f64x2.mul(G3, wk)));
          v128.store(r0 + b, v0);
          v128.store(r1 + b, v1);
          v128.store(r2 + b, v2);
          v128.store(r3 + b, v3);
          const uk = v128.load(ri + b);
          s0 = f64x2.add(s0, f64x2.mul(v0, uk));
          s1 = f64x2.add(s1, f64x2.mul(v1, uk));
          s2 = f64x2.add(s2, f64x2.mul(v2, uk));
          s3 = f64x2.add(s3, f64x2.mul(v3, uk));
          let pk = v128.load(P + b);
          pk = f64x2.add(pk, f64x2.mul(v0, U0));
          pk = f64x2.add(pk, f64x2.mul(v1, U1));
          pk = f64x2.add(pk, f64x2.mul(v2, U2));
          pk = f64x2.add(pk, f64x2.mul(v3, U3));
          v128.store(P + b, pk);
        }
        // The diagonal block of the pending update: row j+mm, columns j .. j+mm.
        for (let mm = 0; mm < 4; mm++) {
          const rm = a + <usize>(j + mm) * row;
          const fm = load<f64>(ur + (<usize>mm << 3));
          const gm = load<f64>(pr + (<usize>mm << 3));
          for (let c = j; c <= j + mm; c++) {
            const at = rm + (<usize>c << 3);
            store<f64>(at, load<f64>(at) - (fm * load<f64>(po + (<usize>c << 3)) + gm * load<f64>(uo + (<usize>c << 3))));
          }
        }
      } else {
        for (let b: usize = 0; b < jBytes; b += 16) {
          const uk = v128.load(ri + b);
          const v0 = v128.load(r0 + b);
          const v1 = v128.load(r1 + b);
          const v2 = v128.load(r2 + b);
          const v3 = v128.load(r3 + b);
          s0 = f64x2.add(s0, f64x2.mul(v0, uk));
          s1 = f64x2.add(s1, f64x2.mul(v1, uk));
          s2 = f64x2.add(s2, f64x2.mul(v2, uk));
          s3 = f64x2.add(s3, f64x2.mul(v3, uk));
          let pk = v128.load(P + b);
          pk = f64x2.add(pk, f64x2.mul(v0, U0));
          pk = f64x2.add(pk, f64x2.mul(v1, U1));
          pk = f64x2.add(pk, f64x2.mul(v2, U2));
          pk = f64x2.add(pk, f64x2.mul(v3, U3));
          v128.store(P + b, pk);
        }
      }
      const pj = P + jBytes;
      // The 4 × 4 diagonal block, lower triangle, used both ways: p[j+x] += Σ_c A[x][c]·u[c],
      // c = 0..3 in order, in registers (four independent chains, not a store–load chain).
      const rb = r0 + jBytes;
      const a10 = load<f64>(rb + row);
      const a20 = load<f64>(rb + 2 * row);
      const a21 = load<f64>(rb + 2 * row, 8);
      const a30 = load<f64>(rb + 3 * row);
      const a31 = load<f64>(rb + 3 * row, 8);
      const a32 = load<f64>(rb + 3 * row, 16);
      const u0 = load<f64>(uj);
      const u1 = load<f64>(uj, 8);
      const u2 = load<f64>(uj, 16);
      const u3 = load<f64>(uj, 24);
      let q0 = load<f64>(pj) + hsum(s0);
      let q1 = load<f64>(pj, 8) + hsum(s1);
      let q2 = load<f64>(pj, 16) + hsum(s2);
      let q3 = load<f64>(pj, 24) + hsum(s3);
      q0 = q0 + load<f64>(rb) * u0;
      q0 = q0 + a10 * u1;
      q0 = q0 + a20 * u2;
      q0 = q0 + a30 * u3;
      q1 = q1 + a10 * u0;
      q1 = q1 + load<f64>(rb + row, 8) * u1;
      q1 = q1 + a21 * u2;
      q1 = q1 + a31 * u3;
      q2 = q2 + a20 * u0;
      q2 = q2 + a21 * u1;
      q2 = q2 + load<f64>(rb + 2 * row, 16) * u2;
      q2 = q2 + a32 * u3;
      q3 = q3 + a30 * u0;
      q3 = q3 + a31 * u1;
      q3 = q3 + a32 * u2;
      q3 = q3 + load<f64>(rb + 3 * row, 24) * u3;
      store<f64>(pj, q0);
      store<f64>(pj, q1, 8);
      store<f64>(pj, q2, 16);
      store<f64>(pj, q3, 24);
    }
    for (; j <= l; j++) {
      const rj = a + <usize>j * row;
      if (pend) updateRow(rj, j, uo, po);
      const uj = load<f64>(ri + (<usize>j << 3));
      const Uj = f64x2.splat(uj);
      const jb = <usize>j << 3;
      const jPairs = jb & ~(15 as usize);
      let vs2 = f64x2.splat(0);
      for (let b: usize = 0; b < jPairs; b += 16) {
        const v = v128.load(rj + b);
        vs2 = f64x2.add(vs2, f64x2.mul(v, v128.load(ri + b)));
        v128.store(P + b, f64x2.add(v128.load(P + b), f64x2.mul(v, Uj)));
      }
      let s = hsum(vs2);
      if (jPairs < jb) {
        const v = load<f64>(rj + jPairs);
        s += v * load<f64>(ri + jPairs);
        addAt(P + jPairs, v * uj);
      }
      addAt(P + jb, s + load<f64>(rj + jb) * uj);
    }

    // p ← p/h − hh·u with hh = (pᵀu)/(2h).
    const vH = f64x2.splat(h);
    let vf = f64x2.splat(0);
    for (let b: usize = 0; b < mPairs; b += 16) {
      const pk = f64x2.div(v128.load(P + b), vH);
      v128.store(P + b, pk);
      vf = f64x2.add(vf, f64x2.mul(pk, v128.load(ri + b)));
    }
    let fsum = hsum(vf);
    if (mPairs < mBytes) {
      const pk = load<f64>(P + mPairs) / h;
      store<f64>(P + mPairs, pk);
      fsum += pk * load<f64>(ri + mPairs);
    }
    const hh = fsum / (h + h);
    const vHh = f64x2.splat(hh);
    for (let b: usize = 0; b < mPairs; b += 16) {
      v128.store(P + b, f64x2.sub(v128.load(P + b), f64x2.mul(vHh, v128.load(ri + b))));
    }
    if (mPairs < mBytes) store<f64>(P + mPairs, load<f64>(P + mPairs) - hh * load<f64>(ri + mPairs));

    // A −= u·pᵀ + p·uᵀ on rows 0..l waits for the next step (or the end).
    pend = true;
    uo = ri;
    pc = po;
    po = P;
  }
  if (pend) updateRow(a, 0, uo, po);
  for (let i: usize = 0; i < nn; i++) store<f64>(d + (i << 3), load<f64>(a + i * row + (i << 3)));
}

/**
 * √(x² + y²). The QL sweep is one long dependency chain through this, so the plain form is used
 * where the squares are safely normal (error ≤ 1.5 ulp, as good as EISPACK's pythag); zero,
 * tiny, huge and non-finite arguments take musl's careful hypot (NaN fails both tests).
 */
// @ts-ignore: decorator
@inline function hyp(x: f64, y: f64): f64 {
  const s = x * x + y * y;
  return s > 1e-290 && s < 1e290 ? Math.sqrt(s) : Math.hypot(x, y);
}

/** lib/math/tql.ts's bound on QL sweeps per eigenvalue. */
const MAX_ITER_PER_VALUE = 60;

/**
 * Eigenvalues of the symmetric tridiagonal matrix (d diagonal, e sub-diagonal, n each) by implicit
 * QL, lib/math/tql.ts step for step: d is overwritten with the eigenvalues (unsorted), e destroyed.
 * Returns -1, or the index of the eigenvalue that did not converge.
 */
export function tql(d: usize, e: usize, n: i32): i32 {
  if (n > 0) store<f64>(e + (<usize>(n - 1) << 3), 0);
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: i32;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = abs<f64>(load<f64>(d + (<usize>m << 3))) + abs<f64>(load<f64>(d + (<usize>(m + 1) << 3)));
        if (abs<f64>(load<f64>(e + (<usize>m << 3))) <= f64.EPSILON * dd) break;
      }
      if (m != l) {
        if (iter++ == MAX_ITER_PER_VALUE) return l;
        const dl = load<f64>(d + (<usize>l << 3));
        const el = load<f64>(e + (<usize>l << 3));
        let g = (load<f64>(d + (<usize>(l + 1) << 3)) - dl) / (2 * el);
        let r = hyp(g, 1);
        g = load<f64>(d + (<usize>m << 3)) - dl + el / (g + (g >= 0 ? abs<f64>(r) : -abs<f64>(r)));
        let s = 1.0;
        let c = 1.0;
        let p = 0.0;
        let underflow = false;
        for (let i = m - 1; i >= l; i--) {
          const ei = load<f64>(e + (<usize>i << 3));
          const f = s * ei;
          const b = c * ei;
          r = hyp(f, g);
          store<f64>(e + (<usize>(i + 1) << 3), r);
          const di1 = d + (<usize>(i + 1) << 3);
          if (r == 0) {
            // Recover from underflow: deflate and start over.
            store<f64>(di1, load<f64>(di1) - p);
            store<f64>(e + (<usize>m << 3), 0);
            underflow = true;
            break;
          }
          s = f / r;
          c = g / r;
          g = load<f64>(di1) - p;
          r = (load<f64>(d + (<usize>i << 3)) - g) * s + 2 * c * b;
          p = s * r;
          store<f64>(di1, g + p);
          g = c * r - b;
        }
        if (underflow) continue;
        store<f64>(d + (<usize>l << 3), dl - p);
        store<f64>(e + (<usize>l << 3), g);
        store<f64>(e + (<usize>m << 3), 0);
      }
    } while (m != l);
  }
  return -1;
}

/**
 * Eigenvalues (unsorted, into d) of the Gram matrix of one nr × nc window of the float64 matrix
 * at src (ld elements per row), its top-left at (r0, c0), or, when srcTrans != 0, of the matrix
 * whose transpose is at src (ld elements per row of the transpose): FARMS's inner step, Gram,
 * tridiagonalization and QL with no copy in or out. g is k × k, panel 4·⌈k/4⌉ × chunk, e k and p 2k
 * float64 (k = min(nr, nc)). Returns tql's result: -1, or the eigenvalue that did not converge.
 */
export function windowEigenvalues(
  src: usize, ld: i32, r0: i32, c0: i32, nr: i32, nc: i32, g: usize, panel: usize, chunk: i32, d: usize, e: usize, p: usize,
  srcTrans: i32,
): i32 {
  const k = min(nr, nc);
  const at = src + (srcTrans ? (<usize>c0 * <usize>ld + <usize>r0) << 3 : (<usize>r0 * <usize>ld + <usize>c0) << 3);
  gramLower(at, k, max(nr, nc), ld, (nr > nc ? 1 : 0) ^ (srcTrans ? 1 : 0), 0, g, panel, chunk);
  tridiagonalize(g, k, d, e, p);
  return tql(d, e, k);
}

// Two QL problems at once. A QL sweep is one long chain of dependent divisions and square roots,
// so one problem leaves most of the core idle; stepping two independent problems (two FARMS
// windows) in the same loop lets the core run both chains side by side. Each problem follows
// tql() above exactly — the same operations in the same order — only interleaved.
//
// Per-problem state, QL_STATE bytes at st: d, e, n, l, m, iter, i, phase (i32) then s, c, p, g.
const QL_STATE: usize = 64;
const PHASE_SETUP = 0; // needs the next sweep set up
const PHASE_SWEEP = 1; // inside a sweep, at index i
const PHASE_DONE = 2;
const PHASE_FAILED = 3; // no convergence for eigenvalue l

/** Sets up the next sweep (the top of tql's do-while), or marks the problem done or failed. */
function qlSetup(st: usize): void {
  const d = <usize>load<u32>(st);
  const e = <usize>load<u32>(st, 4);
  const n = load<i32>(st, 8);
  let l = load<i32>(st, 12);
  let iter = load<i32>(st, 20);
  while (l < n) {
    let m = l;
    for (; m < n - 1; m++) {
      const dd = abs<f64>(load<f64>(d + (<usize>m << 3))) + abs<f64>(load<f64>(d + (<usize>(m + 1) << 3)));
      if (abs<f64>(load<f64>(e + (<usize>m << 3))) <= f64.EPSILON * dd) break;
    }
    if (m == l) {
      l++;
      iter = 0;
      continue;
    }
    if (iter++ == MAX_ITER_PER_VALUE) {
      store<i32>(st, l, 12);
      store<i32>(st, PHASE_FAILED, 28);
      return;
    }
    const dl = load<f64>(d + (<usize>l << 3));
    const el = load<f64>(e + (<usize>l << 3));
    let g = (load<f64>(d + (<usize>(l + 1) << 3)) - dl) / (2 * el);
    const r = hyp(g, 1);
    g = load<f64>(d + (<usize>m << 3)) - dl + el / (g + (g >= 0 ? abs<f64>(r) : -abs<f64>(r)));
    store<i32>(st, l, 12);
    store<i32>(st, m, 16);
    store<i32>(st, iter, 20);
    store<i32>(st, m - 1, 24);
    store<i32>(st, PHASE_SWEEP, 28);
    store<f64>(st, 1.0, 32);
    store<f64>(st, 1.0, 40);
    store<f64>(st, 0.0, 48);
    store<f64>(st, g, 56);
    return;
  }
  store<i32>(st, n, 12);
  store<i32>(st, PHASE_DONE, 28);
}

/** Stores a sweep's state after running it up to index i (underflow: r hit 0 at index i). */
// @ts-ignore: decorator
@inline function qlPark(st: usize, i: i32, s: f64, c: f64, p: f64, g: f64, underflow: bool): void {
  const d = <usize>load<u32>(st);
  const e = <usize>load<u32>(st, 4);
  const l = load<i32>(st, 12);
  const m = load<i32>(st, 16);
  if (underflow) {
    // Recover from underflow: deflate and start over.
    const at = d + (<usize>(i + 1) << 3);
    store<f64>(at, load<f64>(at) - p);
    store<f64>(e + (<usize>m << 3), 0);
    store<i32>(st, PHASE_SETUP, 28);
  } else if (i < l) {
    const at = d + (<usize>l << 3);
    store<f64>(at, load<f64>(at) - p);
    store<f64>(e + (<usize>l << 3), g);
    store<f64>(e + (<usize>m << 3), 0);
    store<i32>(st, PHASE_SETUP, 28);
  } else {
    store<i32>(st, i, 24);
    store<f64>(st, s, 32);
    store<f64>(st, c, 40);
    store<f64>(st, p, 48);
    store<f64>(st, g, 56);
  }
}

/** Runs the current sweep of one problem to its end. */
function qlSweep(st: usize): void {
  const d = <usize>load<u32>(st);
  const e = <usize>load<u32>(st, 4);
  const l = load<i32>(st, 12);
  let i = load<i32>(st, 24);
  let s = load<f64>(st, 32);
  let c = load<f64>(st, 40);
  let p = load<f64>(st, 48);
  let g = load<f64>(st, 56);
  let underflow = false;
  for (; i >= l; i--) {
    const ei = load<f64>(e + (<usize>i << 3));
    const f = s * ei;
    const b = c * ei;
    let r = hyp(f, g);
    store<f64>(e + (<usize>(i + 1) << 3), r);
    if (r == 0) {
      underflow = true;
      break;
    }
    s = f / r;
    c = g / r;
    const di1 = d + (<usize>(i + 1) << 3);
    g = load<f64>(di1) - p;
    r = (load<f64>(d + (<usize>i << 3)) - g) * s + 2 * c * b;
    p = s * r;
    store<f64>(di1, g + p);
    g = c * r - b;
  }
  qlPark(st, i, s, c, p, g, underflow);
}

/** Runs both problems' current sweeps side by side until one of them ends. */
function qlSweepPair(sa: usize, sb: usize): void {
  const dA = <usize>load<u32>(sa);
  const eA = <usize>load<u32>(sa, 4);
  const lA = load<i32>(sa, 12);
  let iA = load<i32>(sa, 24);
  let sA = load<f64>(sa, 32);
  let cA = load<f64>(sa, 40);
  let pA = load<f64>(sa, 48);
  let gA = load<f64>(sa, 56);
  const dB = <usize>load<u32>(sb);
  const eB = <usize>load<u32>(sb, 4);
  const lB = load<i32>(sb, 12);
  let iB = load<i32>(sb, 24);
  let sB = load<f64>(sb, 32);
  let cB = load<f64>(sb, 40);
  let pB = load<f64>(sb, 48);
  let gB = load<f64>(sb, 56);
  let underA = false;
  let underB = false;
  let steps = min(iA - lA, iB - lB) + 1;
  while (steps > 0) {
    steps--;
    {
      const ei = load<f64>(eA + (<usize>iA << 3));
      const f = sA * ei;
      const b = cA * ei;
      let r = hyp(f, gA);
      store<f64>(eA + (<usize>(iA + 1) << 3), r);
      if (r == 0) {
        underA = true;
      } else {
        sA = f / r;
        cA = gA / r;
        const di1 = dA + (<usize>(iA + 1) << 3);
        gA = load<f64>(di1) - pA;
        r = (load<f64>(dA + (<usize>iA << 3)) - gA) * sA + 2 * cA * b;
        pA = sA * r;
        store<f64>(di1, gA + pA);
        gA = cA * r - b;
        iA--;
      }
    }
    {
      const ei = load<f64>(eB + (<usize>iB << 3));
      const f = sB * ei;
      const b = cB * ei;
      let r = hyp(f, gB);
      store<f64>(eB + (<usize>(iB + 1) << 3), r);
      if (r == 0) {
        underB = true;
      } else {
        sB = f / r;
        cB = gB / r;
        const di1 = dB + (<usize>(iB + 1) << 3);
        gB = load<f64>(di1) - pB;
        r = (load<f64>(dB + (<usize>iB << 3)) - gB) * sB + 2 * cB * b;
        pB = sB * r;
        store<f64>(di1, gB + pB);
        gB = cB * r - b;
        iB--;
      }
    }
    if (underA || underB) break;
  }
  qlPark(sa, iA, sA, cA, pA, gA, underA);
  qlPark(sb, iB, sB, cB, pB, gB, underB);
}

function qlInit(st: usize, d: usize, e: usize, n: i32): void {
  store<u32>(st, <u32>d);
  store<u32>(st, <u32>e, 4);
  store<i32>(st, n, 8);
  store<i32>(st, 0, 12);
  store<i32>(st, 0, 20);
  store<i32>(st, PHASE_SETUP, 28);
  if (n > 0) store<f64>(e + (<usize>(n - 1) << 3), 0);
}

/**
 * tql() on two independent problems (dA, eA) and (dB, eB) of size n, interleaved; st is
 * 2 · QL_STATE bytes of scratch. Returns -1, or the eigenvalue that did not converge: j for
 * problem A, n + j for problem B.
 */
export function tqlPair(dA: usize, eA: usize, dB: usize, eB: usize, n: i32, st: usize): i32 {
  const sa = st;
  const sb = st + QL_STATE;
  qlInit(sa, dA, eA, n);
  qlInit(sb, dB, eB, n);
  while (true) {
    if (load<i32>(sa, 28) == PHASE_SETUP) qlSetup(sa);
    if (load<i32>(sb, 28) == PHASE_SETUP) qlSetup(sb);
    const a = load<i32>(sa, 28);
    const b = load<i32>(sb, 28);
    if (a == PHASE_FAILED) return load<i32>(sa, 12);
    if (b == PHASE_FAILED) return n + load<i32>(sb, 12);
    if (a == PHASE_SWEEP && b == PHASE_SWEEP) qlSweepPair(sa, sb);
    else if (a == PHASE_SWEEP) qlSweep(sa);
    else if (b == PHASE_SWEEP) qlSweep(sb);
    else return -1;
  }
  return -1;
}

/**
 * windowEigenvalues() for two windows of the same rows, (r0, c0a) and (r0, c0b), their QL runs
 * interleaved (tqlPair): eigenvalues into dA and dB; src, ld and srcTrans as there. g, panel and p are reused; eA, eB k float64
 * each, st 2 · QL_STATE bytes. Returns tqlPair's result.
 */
export function windowPairEigenvalues(
  src: usize, ld: i32, r0: i32, c0a: i32, c0b: i32, nr: i32, nc: i32, g: usize, panel: usize, chunk: i32,
  dA: usize, eA: usize, dB: usize, eB: usize, p: usize, st: usize, srcTrans: i32,
): i32 {
  const k = min(nr, nc);
  const n = max(nr, nc);
  const trans = (nr > nc ? 1 : 0) ^ (srcTrans ? 1 : 0);
  const atA = src + (srcTrans ? (<usize>c0a * <usize>ld + <usize>r0) << 3 : (<usize>r0 * <usize>ld + <usize>c0a) << 3);
  const atB = src + (srcTrans ? (<usize>c0b * <usize>ld + <usize>r0) << 3 : (<usize>r0 * <usize>ld + <usize>c0b) << 3);
  gramLower(atA, k, n, ld, trans, 0, g, panel, chunk);
  tridiagonalize(g, k, dA, eA, p);
  gramLower(atB, k, n, ld, trans, 0, g, panel, chunk);
  tridiagonalize(g, k, dB, eB, p);
  return tqlPair(dA, eA, dB, eB, k, st);
}
