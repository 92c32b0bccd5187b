/**
 * WGSL for the nearest-codeword search: for each sub-vector x (a row of d ≤ 8 values) the NN ≤ 4
 * codewords c with the smallest ‖x‖² − 2x·c + ‖c‖², nearest first, ties to the lowest index.
 * CPU twin: lib/math/nearest-codeword.ts.
 *
 * Kept as a TS string rather than a `.wgsl` file so that the same import works in Next's worker
 * bundle and in Node/vitest without a loader.
 *
 * One invocation per row, 256 rows per workgroup. The codebook streams through workgroup memory
 * 256 codewords at a time (each invocation loads one and its ‖c‖²), so every codeword read from
 * global memory serves 256 rows. Sub-vectors are held as two vec4 zero-padded to 8: the padding
 * adds exact zeros, so d = 1..8 share one kernel, and for d ≤ 4 the second half is skipped (D is a
 * pipeline-override constant, folded by the compiler).
 *
 * Candidates are ranked by s = ‖c‖² − 2x·c, which omits the row's constant ‖x‖²: adding it first
 * would round away differences smaller than ulp(‖x‖²) between codewords. Only a strictly smaller
 * s displaces a kept candidate, and codewords are scanned in ascending order, so among equal
 * values the lowest index stays ahead. The distance written is max(‖x‖² + s, 0): cancellation can
 * push the matmul form slightly below zero for a point sitting on a codeword.
 *
 * Params.rowOffset lets one resident x binding serve several dispatches (k-means keeps the data
 * on the GPU across iterations); outputs are indexed by the row within the dispatch.
 */
export const nearestCodewordWgsl = /* wgsl */ `
override D: u32 = 4u;  // sub-vector length, 1..8
override NN: u32 = 1u; // candidates kept per row, 1..4

struct Params {
  rows: u32,      // rows in this dispatch
  rowOffset: u32, // first row of this dispatch within the x binding
  k: u32,         // codewords
  pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> codebook: array<f32>;
@group(0) @binding(2) var<storage, read_write> outIndex: array<u32>;
@group(0) @binding(3) var<storage, read_write> outDist: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const TILE_K: u32 = 256u; // codewords per workgroup-memory refill (NEAREST_GPU_TILE_K); = workgroup size
const BIG: f32 = 3.4028234e38; // largest f32: "no candidate yet"
const NEAR_TIE: u32 = 0x80000000u; // set on a row's first index when the row must be re-ranked in float64
// Error bound of s = ‖c‖² − 2x·c in f32 for d ≤ 8 terms: |err| ≤ (2d + 2)·u·(‖x‖² + ‖c‖²) with
// u = 2⁻²⁴, and ‖x‖² + ‖c‖² ≤ 3‖x‖² + 2‖x − c‖². Two candidates' errors add; doubled for safety:
// 72·u. TIE_ABS covers products a GPU flushes to zero (the host keeps data magnitudes near 1).
const TIE_REL: f32 = 4.2915344e-6; // 72 · 2⁻²⁴
const TIE_ABS: f32 = 1e-30;

var<workgroup> cLo: array<vec4<f32>, 256>;
var<workgroup> cHi: array<vec4<f32>, 256>;
var<workgroup> cNorm: array<f32, 256>;

fn loadX(base: u32, t: u32) -> f32 {
  if (t < D) {
    return x[base + t];
  }
  return 0.0;
}

fn loadC(base: u32, t: u32) -> f32 {
  if (t < D) {
    return codebook[base + t];
  }
  return 0.0;
}

@compute @workgroup_size(256)
fn nearest(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) lin: u32) {
  let r = gid.x;
  let valid = r < params.rows;
  var xLo = vec4<f32>(0.0);
  var xHi = vec4<f32>(0.0);
  if (valid) {
    let b = (params.rowOffset + r) * D;
    xLo = vec4<f32>(loadX(b, 0u), loadX(b, 1u), loadX(b, 2u), loadX(b, 3u));
    if (D > 4u) {
      xHi = vec4<f32>(loadX(b, 4u), loadX(b, 5u), loadX(b, 6u), loadX(b, 7u));
    }
  }
  let xn = dot(xLo, xLo) + dot(xHi, xHi);

  // NN + 1 candidates: the extra one tells whether the NN-th place is a near-tie too.
  var bestS: array<f32, 5>;
  var bestJ: array<u32, 5>;
  for (var q = 0u; q < 5u; q++) {
    bestS[q] = BIG;
    bestJ[q] = 0u;
  }

  let k = params.k;
  for (var t0 = 0u; t0 < k; t0 += TILE_K) {
    let j = t0 + lin;
    var lo = vec4<f32>(0.0);
    var hi = vec4<f32>(0.0);
    if (j < k) {
      let b = j * D;
      lo = vec4<f32>(loadC(b, 0u), loadC(b, 1u), loadC(b, 2u), loadC(b, 3u));
      if (D > 4u) {
        hi = vec4<f32>(loadC(b, 4u), loadC(b, 5u), loadC(b, 6u), loadC(b, 7u));
      }
    }
    cLo[lin] = lo;
    cHi[lin] = hi;
    cNorm[lin] = dot(lo, lo) + dot(hi, hi);
    workgroupBarrier();
    let count = min(TILE_K, k - t0);
    if (NN == 1u) {
      // The common case in registers: best and runner-up.
      var s0 = bestS[0];
      var j0 = bestJ[0];
      var s1 = bestS[1];
      var j1 = bestJ[1];
      for (var jj = 0u; jj < count; jj++) {
        var dt = dot(xLo, cLo[jj]);
        if (D > 4u) {
          dt += dot(xHi, cHi[jj]);
        }
        let s = cNorm[jj] - 2.0 * dt;
        if (s < s1) {
          if (s < s0) {
            s1 = s0;
            j1 = j0;
            s0 = s;
            j0 = t0 + jj;
          } else {
            s1 = s;
            j1 = t0 + jj;
          }
        }
      }
      bestS[0] = s0;
      bestJ[0] = j0;
      bestS[1] = s1;
      bestJ[1] = j1;
    } else {
      // Five slots in registers, insertion unrolled (a dynamically indexed private array would live in
      // slow local memory on most GPUs). Slots past NN hold leftovers that are never read.
      var s0 = bestS[0];
      var s1 = bestS[1];
      var s2 = bestS[2];
      var s3 = bestS[3];
      var s4 = bestS[4];
      var j0 = bestJ[0];
      var j1 = bestJ[1];
      var j2 = bestJ[2];
      var j3 = bestJ[3];
      var j4 = bestJ[4];
      for (var jj = 0u; jj < count; jj++) {
        var dt = dot(xLo, cLo[jj]);
        if (D > 4u) {
          dt += dot(xHi, cHi[jj]);
        }
        let s = cNorm[jj] - 2.0 * dt;
        // Gate on the last slot kept (NN); NN is a pipeline constant, so this folds.
        var last = s4;
        if (NN == 2u) {
          last = s2;
        } else if (NN == 3u) {
          last = s3;
        }
        if (s < last) {
          let j = t0 + jj;
          // Shift larger candidates right; an equal one stays ahead (lower index wins ties).
          s4 = s3;
          j4 = j3;
          if (s < s2) {
            s3 = s2;
            j3 = j2;
            if (s < s1) {
              s2 = s1;
              j2 = j1;
              if (s < s0) {
                s1 = s0;
                j1 = j0;
                s0 = s;
                j0 = j;
              } else {
                s1 = s;
                j1 = j;
              }
            } else {
              s2 = s;
              j2 = j;
            }
          } else if (s < s3) {
            s3 = s;
            j3 = j;
          } else {
            s4 = s;
            j4 = j;
          }
        }
      }
      bestS[0] = s0;
      bestS[1] = s1;
      bestS[2] = s2;
      bestS[3] = s3;
      bestS[4] = s4;
      bestJ[0] = j0;
      bestJ[1] = j1;
      bestJ[2] = j2;
      bestJ[3] = j3;
      bestJ[4] = j4;
    }
    workgroupBarrier();
  }

  if (valid) {
    // Near-tie flag: some neighbouring pair among the NN + 1 best is closer than the f32 error
    // bound, so the float64 order (the CPU twin's) may differ from this one.
    var near = false;
    for (var q = 0u; q < NN; q++) {
      let sa = bestS[q];
      let sb = bestS[q + 1u];
      if (sb < BIG) {
        let da = max(xn + sa, 0.0);
        let db = max(xn + sb, 0.0);
        if (sb - sa <= TIE_REL * (3.0 * xn + da + db) + TIE_ABS) {
          near = true;
        }
      }
    }
    for (var q = 0u; q < NN; q++) {
      var idx = bestJ[q];
      if (q == 0u && near) {
        idx = idx | NEAR_TIE;
      }
      outIndex[r * NN + q] = idx;
      outDist[r * NN + q] = max(xn + bestS[q], 0.0);
    }
  }
}
`;
