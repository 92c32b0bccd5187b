// Per-tensor statistics on the GPU; lib/math/tensor-stats.ts is the CPU twin and states the
// shared definitions. Each workgroup reduces one tile of TILE = 256 * 4 consecutive values and
// writes a partial; the host adds partials in float64 (so float32 error stays within one tile).
//
// Values arrive as raw u32 bits: classifying NaN/Inf by exponent bits cannot be optimised away,
// unlike `x != x`, which a compiler may fold under fast-math rules.

const WG: u32 = 256u;
const PER_THREAD: u32 = 4u;
const TILE: u32 = 1024u; // WG * PER_THREAD
const MAX_BINS: u32 = 2048u; // = MAX_HISTOGRAM_BINS in lib/math/tensor-stats.ts
const F32_MAX: f32 = 0x1.fffffep+127f; // largest finite f32, written exactly

struct Params {
  n: u32,        // values in this chunk
  bins: u32,
  lo: f32,       // histogram lower edge = min over the whole tensor
  scale: f32,    // f32(bins / f32(max - min)), 0 when max = min
  mean: f32,     // f32(mean), for the second pass
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

struct Partial1 {
  mn: f32,
  mx: f32,
  sum: f32,
  finite: u32,
  zeros: u32,
  nan: u32,
  posinf: u32,
  neginf: u32,
}

@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read_write> partials1: array<Partial1>;
@group(0) @binding(3) var<storage, read_write> partials2: array<f32>;
@group(0) @binding(4) var<storage, read_write> histogram: array<atomic<u32>>;

var<workgroup> s_mn: array<f32, 256>;
var<workgroup> s_mx: array<f32, 256>;
var<workgroup> s_sum: array<f32, 256>;
var<workgroup> s_cnt: array<vec4<u32>, 256>; // finite, zeros, nan, posinf
var<workgroup> s_neg: array<u32, 256>;
var<workgroup> s_hist: array<atomic<u32>, MAX_BINS>;

fn is_nonfinite(bits: u32) -> bool {
  return (bits & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(256)
fn pass1(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  var mn = F32_MAX;
  var mx = -F32_MAX;
  var sum = 0.0;
  var cnt = vec4<u32>(0u);
  var neg = 0u;
  let base = wid.x * TILE;
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = base + lid + k * WG;
    if (i >= params.n) { break; }
    let bits = data[i];
    if (is_nonfinite(bits)) {
      if ((bits & 0x007fffffu) != 0u) { cnt.z += 1u; }
      else if ((bits & 0x80000000u) != 0u) { neg += 1u; }
      else { cnt.w += 1u; }
      continue;
    }
    let x = bitcast<f32>(bits);
    cnt.x += 1u;
    if ((bits & 0x7fffffffu) == 0u) { cnt.y += 1u; }
    mn = min(mn, x);
    mx = max(mx, x);
    sum += x;
  }
  s_mn[lid] = mn;
  s_mx[lid] = mx;
  s_sum[lid] = sum;
  s_cnt[lid] = cnt;
  s_neg[lid] = neg;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      s_mn[lid] = min(s_mn[lid], s_mn[lid + stride]);
      s_mx[lid] = max(s_mx[lid], s_mx[lid + stride]);
      s_sum[lid] = s_sum[lid] + s_sum[lid + stride];
      s_cnt[lid] = s_cnt[lid] + s_cnt[lid + stride];
      s_neg[lid] = s_neg[lid] + s_neg[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let c = s_cnt[0];
    partials1[wid.x] = Partial1(s_mn[0], s_mx[0], s_sum[0], c.x, c.y, c.z, c.w, s_neg[0]);
  }
}

@compute @workgroup_size(256)
fn pass2(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let bins = params.bins;
  for (var b = lid; b < bins; b += WG) { atomicStore(&s_hist[b], 0u); }
  workgroupBarrier();
  var ss = 0.0;
  let base = wid.x * TILE;
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = base + lid + k * WG;
    if (i >= params.n) { break; }
    let bits = data[i];
    if (is_nonfinite(bits)) { continue; }
    let x = bitcast<f32>(bits);
    let d = x - params.mean;
    ss += d * d;
    let t = (x - params.lo) * params.scale;
    let bin = min(bins - 1u, u32(floor(t)));
    atomicAdd(&s_hist[bin], 1u);
  }
  s_sum[lid] = ss;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { s_sum[lid] = s_sum[lid] + s_sum[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials2[wid.x] = s_sum[0]; }
  for (var b = lid; b < bins; b += WG) {
    let c = atomicLoad(&s_hist[b]);
    if (c != 0u) { atomicAdd(&histogram[b], c); }
  }
}
