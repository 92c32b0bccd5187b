import { interpolateMagma, interpolateViridis, rgb } from 'd3';
import type { QuantMaps } from './quant-maps';

/**
 * RGBA pixels of a region of a quantization map, one pixel per cell: the assignment map coloured
 * by codeword, the error map on a log scale (magma, clipped at the 1st and 99th percentiles of the
 * whole map so the colours mean the same in the overview and in a zoomed region), the ambiguity
 * map d₁/d₂ on [0, 1] (viridis; bright = a calibration could flip it).
 */

export type MapKind = 'assign' | 'error' | 'ambiguity';

export interface MapScale {
  /** log10 of the squared-error range mapped to the colour ramp. */
  lo: number;
  hi: number;
}

export function errorScale(maps: QuantMaps): MapScale {
  const logs: number[] = [];
  const step = Math.max(1, Math.floor(maps.error.length / 100_000));
  for (let i = 0; i < maps.error.length; i += step) {
    const e = maps.error[i]!;
    if (e > 0) logs.push(Math.log10(e));
  }
  if (logs.length === 0) return { lo: -12, hi: -11 };
  logs.sort((a, b) => a - b);
  const lo = logs[Math.floor(0.01 * (logs.length - 1))]!;
  const hi = logs[Math.floor(0.99 * (logs.length - 1))]!;
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

const RAMP = 256;
function ramp(f: (t: number) => string): Uint8Array {
  const out = new Uint8Array(RAMP * 3);
  for (let i = 0; i < RAMP; i++) {
    const c = rgb(f(i / (RAMP - 1)));
    out.set([Math.round(c.r), Math.round(c.g), Math.round(c.b)], i * 3);
  }
  return out;
}
let magma: Uint8Array | null = null;
let viridis: Uint8Array | null = null;

/** Cells [r0, r0+h) × [c0, c0+w) of the map (clipped to it) as RGBA, row-major. */
export function mapRgba(
  maps: QuantMaps, kind: MapKind, colors: Uint8Array | null, scale: MapScale, r0 = 0, c0 = 0, h = maps.height, w = maps.width,
): Uint8ClampedArray {
  const out = new Uint8ClampedArray(w * h * 4);
  magma ??= ramp(interpolateMagma);
  viridis ??= ramp(interpolateViridis);
  for (let y = 0; y < h; y++) {
    const r = r0 + y;
    for (let x = 0; x < w; x++) {
      const c = c0 + x;
      const o = (y * w + x) * 4;
      out[o + 3] = 255;
      if (r >= maps.height || c >= maps.width || r < 0 || c < 0) {
        out[o] = out[o + 1] = out[o + 2] = 240;
        continue;
      }
      const i = r * maps.width + c;
      let src: Uint8Array;
      let idx: number;
      if (kind === 'assign' && maps.assign && colors) {
        src = colors;
        idx = maps.assign[i]!;
      } else if (kind === 'ambiguity' && maps.ratio) {
        src = viridis;
        idx = Math.min(RAMP - 1, Math.max(0, Math.round(maps.ratio[i]! * (RAMP - 1))));
      } else {
        const e = maps.error[i]!;
        const t = e > 0 ? (Math.log10(e) - scale.lo) / (scale.hi - scale.lo) : 0;
        src = magma;
        idx = Math.min(RAMP - 1, Math.max(0, Math.round(t * (RAMP - 1))));
      }
      out[o] = src[idx * 3]!;
      out[o + 1] = src[idx * 3 + 1]!;
      out[o + 2] = src[idx * 3 + 2]!;
    }
  }
  return out;
}
