/**
 * WGSL for the Gram matrix G = AᵀA of one chunk of a matrix A (m × k, the reduction index t
 * running along the long side of W), added into a k × k accumulator. CPU twin: lib/math/gram.ts.
 *
 * Kept as a TS string rather than a `.wgsl` file so that the same import works in Next's worker
 * bundle and in Node/vitest without a loader.
 *
 * Two entry points:
 * - `gram_df32` (default): each entry is a double-float (hi + lo, two f32). Inputs are split by
 *   bit masking into 12-bit halves when loaded into workgroup memory, so xh·yh is exact in f32
 *   and the remaining partial products are ~2⁻¹² smaller; hi absorbs xh·yh through TwoSum, lo
 *   collects the TwoSum errors and the small products and is folded back into hi after every
 *   refill. The error per product is ~2⁻³⁴ relative instead of 2⁻²⁴, and the running sum loses
 *   nothing to the growing magnitude of hi (measured: entries within ~2⁻³⁹·√n·max G_ii).
 *   No fma is needed (WGSL does not promise a fused one) and the bit-mask split cannot be
 *   "simplified" away by a compiler the way Veltkamp's c − (c − x) can.
 * - `gram_f32`: plain f32 accumulation, kept to measure what compensation buys.
 *
 * `params.one` is 1.0 supplied at run time: multiplying TwoSum's intermediate by it hides the
 * identity (a + b) − a = b from compilers that reassociate floating point (fast-math), which
 * would otherwise silently turn the compensated sum into a plain one. gram-precision-probe.ts runs
 * a probe through this very pipeline to detect a device where compensation still does not hold.
 * Contraction into fma is harmless here: every product on the hi path is exact.
 *
 * Workgroups are 16×16 threads on a 32×32 tile of G, each thread holding a 2×2 block (rows ly and
 * ly + 16, columns lx and lx + 16) so that every value read from workgroup memory feeds two
 * multiply-adds; the reduction advances 16 indices per barrier. Tiles above the diagonal return at
 * once (G is symmetric; the host mirrors the lower triangle). Element (t, i) of A is read at
 * t·strideT + i·strideI, so a chunk can be rows of a tall W (strideT = k, strideI = 1) or
 * columns of a wide W (strideT = 1, strideI = row length) without a transposing copy.
 */
export const gramWgsl = /* wgsl */ `
struct Params {
  k: u32,          // Gram side
  m: u32,          // reduction length of this chunk
  strideT: u32,    // elements between consecutive reduction indices
  strideI: u32,    // elements between consecutive Gram indices
  one: f32,        // 1.0, opaque to the compiler (see the header comment)
  accumulate: u32, // 0: this chunk starts the sum; 1: add into g
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> g: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

const TILE: u32 = 32u;  // Gram tile edge (GRAM_TILE in gram-gpu.ts)
const DEPTH: u32 = 16u; // reduction indices per workgroup-memory refill

// [t][i]: reduction index outer, so the inner loop reads a row of each tile.
var<workgroup> xHi: array<array<f32, 32>, 16>;
var<workgroup> xLo: array<array<f32, 32>, 16>;
var<workgroup> yHi: array<array<f32, 32>, 16>;
var<workgroup> yLo: array<array<f32, 32>, 16>;

fn load(t: u32, i: u32) -> f32 {
  if (t < params.m && i < params.k) {
    return a[t * params.strideT + i * params.strideI];
  }
  return 0.0;
}

// Top 12 significant bits (sign, exponent, 11 stored mantissa bits); x − hi is exact.
fn splitHi(x: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(x) & 0xFFFFF000u);
}

// Tile slot (t, i) of the e-th of 512 values a workgroup loads per refill: consecutive e are
// adjacent in memory, whichever way the chunk is laid out.
fn slot(e: u32) -> vec2u {
  if (params.strideT == 1u) {
    return vec2u(e % DEPTH, e / DEPTH);
  }
  return vec2u(e / TILE, e % TILE);
}

// (ah, al) + (bh, bl) as a double-float, renormalised so |lo| <= ulp(hi) / 2.
fn dfAdd(ah: f32, al: f32, bh: f32, bl: f32, one: f32) -> vec2<f32> {
  let s = ah + bh;
  let bb = (s - ah) * one;
  let err = (ah - (s - bb)) + (bh - bb);
  let lo = err + al + bl;
  let h = s + lo;
  let l = lo - (h - s) * one;
  return vec2<f32>(h, l);
}

// Lanes of the 2×2 block: (row ly, col lx), (ly, lx + 16), (ly + 16, lx), (ly + 16, lx + 16).
fn store(bi: u32, bj: u32, lid: vec3u, hi: vec4<f32>, lo: vec4<f32>, one: f32) {
  for (var q = 0u; q < 4u; q++) {
    let i = bi * TILE + lid.y + 16u * (q / 2u);
    let j = bj * TILE + lid.x + 16u * (q % 2u);
    if (i < params.k && j < params.k) {
      let at = i * params.k + j;
      var prev = vec2<f32>(0.0, 0.0);
      if (params.accumulate != 0u) {
        prev = g[at];
      }
      g[at] = dfAdd(prev.x, prev.y, hi[q], lo[q], one);
    }
  }
}

@compute @workgroup_size(16, 16)
fn gram_df32(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) lin: u32) {
  let bi = wg.y;
  let bj = wg.x;
  if (bj > bi) {
    return;
  }
  let one = params.one;
  var hi = vec4<f32>(0.0);
  var lo = vec4<f32>(0.0);
  for (var t0 = 0u; t0 < params.m; t0 += DEPTH) {
    for (var r = 0u; r < 2u; r++) {
      let sl = slot(lin + 256u * r);
      let x = load(t0 + sl.x, bi * TILE + sl.y);
      let y = load(t0 + sl.x, bj * TILE + sl.y);
      let xh = splitHi(x);
      let yh = splitHi(y);
      xHi[sl.x][sl.y] = xh;
      xLo[sl.x][sl.y] = x - xh;
      yHi[sl.x][sl.y] = yh;
      yLo[sl.x][sl.y] = y - yh;
    }
    workgroupBarrier();
    for (var tt = 0u; tt < DEPTH; tt++) {
      let x0h = xHi[tt][lid.y];
      let x1h = xHi[tt][lid.y + 16u];
      let x0l = xLo[tt][lid.y];
      let x1l = xLo[tt][lid.y + 16u];
      let y0h = yHi[tt][lid.x];
      let y1h = yHi[tt][lid.x + 16u];
      let y0l = yLo[tt][lid.x];
      let y1l = yLo[tt][lid.x + 16u];
      let ah = vec4<f32>(x0h, x0h, x1h, x1h);
      let al = vec4<f32>(x0l, x0l, x1l, x1l);
      let bh = vec4<f32>(y0h, y1h, y0h, y1h);
      let bl = vec4<f32>(y0l, y1l, y0l, y1l);
      let p = ah * bh; // exact: 12 × 12 significant bits
      let e = (ah * bl + al * bh) + al * bl;
      let s = hi + p;
      let bb = (s - hi) * one;
      let err = (hi - (s - bb)) + (p - bb);
      lo += err + e;
      hi = s;
    }
    // Fold lo into hi once per refill: lo's own f32 rounding then scales with one refill's worth
    // of small products instead of growing with the square root of the whole reduction.
    let h = hi + lo;
    lo = lo - (h - hi) * one;
    hi = h;
    workgroupBarrier();
  }
  store(bi, bj, lid, hi, lo, one);
}

@compute @workgroup_size(16, 16)
fn gram_f32(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) lin: u32) {
  let bi = wg.y;
  let bj = wg.x;
  if (bj > bi) {
    return;
  }
  var acc = vec4<f32>(0.0);
  for (var t0 = 0u; t0 < params.m; t0 += DEPTH) {
    for (var r = 0u; r < 2u; r++) {
      let sl = slot(lin + 256u * r);
      xHi[sl.x][sl.y] = load(t0 + sl.x, bi * TILE + sl.y);
      yHi[sl.x][sl.y] = load(t0 + sl.x, bj * TILE + sl.y);
    }
    workgroupBarrier();
    for (var tt = 0u; tt < DEPTH; tt++) {
      let x0 = xHi[tt][lid.y];
      let x1 = xHi[tt][lid.y + 16u];
      let y0 = yHi[tt][lid.x];
      let y1 = yHi[tt][lid.x + 16u];
      acc += vec4<f32>(x0, x0, x1, x1) * vec4<f32>(y0, y1, y0, y1);
    }
    workgroupBarrier();
  }
  for (var q = 0u; q < 4u; q++) {
    let i = bi * TILE + lid.y + 16u * (q / 2u);
    let j = bj * TILE + lid.x + 16u * (q % 2u);
    if (i < params.k && j < params.k) {
      let at = i * params.k + j;
      var prev = 0.0;
      if (params.accumulate != 0u) {
        prev = g[at].x;
      }
      g[at] = vec2<f32>(prev + acc[q], 0.0);
    }
  }
}
`;
