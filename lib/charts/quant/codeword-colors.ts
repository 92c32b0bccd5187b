import { hsl, interpolateRdBu, rgb as toRgb } from 'd3';

/**
 * A colour per codeword for the assignment map, taken from the codeword's place in the 2-D
 * projection: hue from its angle around the centroid, saturation and lightness from its distance,
 * so neighbouring codewords get similar colours and the map can be read against the projection
 * chart. For d = 1 (scalar codebooks) a diverging scale of the value.
 */
export function codewordColors(codewords: Float32Array, k: number, mode: 'pca' | 'raw' | 'value'): Uint8Array {
  const rgb = new Uint8Array(k * 3);
  if (k === 0) return rgb;
  if (mode === 'value') {
    let amax = 0;
    for (let j = 0; j < k; j++) amax = Math.max(amax, Math.abs(codewords[2 * j]!));
    for (let j = 0; j < k; j++) {
      const c = parseRgb(interpolateRdBu(0.5 - (codewords[2 * j]! / (amax || 1)) * 0.5));
      rgb.set(c, j * 3);
    }
    return rgb;
  }
  let cx = 0;
  let cy = 0;
  for (let j = 0; j < k; j++) {
    cx += codewords[2 * j]! / k;
    cy += codewords[2 * j + 1]! / k;
  }
  const radii = new Float64Array(k);
  for (let j = 0; j < k; j++) radii[j] = Math.hypot(codewords[2 * j]! - cx, codewords[2 * j + 1]! - cy);
  const rMax = Float64Array.from(radii).sort()[Math.floor(0.95 * (k - 1))]! || 1;
  for (let j = 0; j < k; j++) {
    const angle = Math.atan2(codewords[2 * j + 1]! - cy, codewords[2 * j]! - cx);
    const r = Math.min(1, radii[j]! / rMax);
    const c = hsl(((angle * 180) / Math.PI + 360) % 360, 0.25 + 0.65 * r, 0.78 - 0.33 * r).rgb();
    rgb[j * 3] = Math.round(c.r);
    rgb[j * 3 + 1] = Math.round(c.g);
    rgb[j * 3 + 2] = Math.round(c.b);
  }
  return rgb;
}

function parseRgb(s: string): [number, number, number] {
  const c = toRgb(s);
  return [Math.round(c.r), Math.round(c.g), Math.round(c.b)];
}
