/**
 * Colour-vision checks for the chart palettes: simulation of protanopia, deuteranopia and
 * tritanopia (Machado, Oliveira & Fernandes 2009, severity 1, applied in linear sRGB), CIELAB
 * (D65) and the CIE76 colour difference, and WCAG 2 relative luminance and contrast ratio.
 */

export type Rgb = readonly [number, number, number];
export type Deficiency = 'protan' | 'deutan' | 'tritan';

const MACHADO: Record<Deficiency, readonly number[]> = {
  protan: [0.152286, 1.052583, -0.204868, 0.114503, 0.786281, 0.099216, -0.003882, -0.048116, 1.051998],
  deutan: [0.367322, 0.860646, -0.227968, 0.280085, 0.672501, 0.047413, -0.01182, 0.04294, 0.968881],
  tritan: [1.255528, -0.076749, -0.178779, -0.078411, 0.930809, 0.147602, 0.004733, 0.691367, 0.3039],
};

/** '#rrggbb' or '#rgb' to 0–255 channels. */
export function parseHex(hex: string): Rgb {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) throw new Error(`not a hex colour: ${hex}`);
  const h = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c).join('') : m[1]!;
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

const toLinear = (c: number) => {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
};
const fromLinear = (v: number) => {
  const c = Math.min(1, Math.max(0, v));
  return 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
};

/** The colour as seen with a complete loss of one cone type. */
export function simulate(rgb: Rgb, d: Deficiency): Rgb {
  const m = MACHADO[d];
  const l = rgb.map(toLinear) as [number, number, number];
  return [0, 1, 2].map((i) => fromLinear(m[3 * i]! * l[0] + m[3 * i + 1]! * l[1] + m[3 * i + 2]! * l[2])) as unknown as Rgb;
}

/** CIELAB (D65 white). */
export function lab(rgb: Rgb): Rgb {
  const [r, g, b] = rgb.map(toLinear) as [number, number, number];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** CIE76 ΔE*ab. */
export function deltaE(a: Rgb, b: Rgb): number {
  const p = lab(a);
  const q = lab(b);
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/** WCAG 2 relative luminance. */
export function luminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map(toLinear) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio (1…21). */
export function contrast(a: Rgb, b: Rgb): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** The smallest ΔE between any two colours of a set, for normal vision and each deficiency. */
export function minSeparation(colors: readonly string[]): Record<'normal' | Deficiency, number> {
  const rgb = colors.map(parseHex);
  const out = { normal: Infinity, protan: Infinity, deutan: Infinity, tritan: Infinity };
  for (const v of ['normal', 'protan', 'deutan', 'tritan'] as const) {
    const seen = v === 'normal' ? rgb : rgb.map((c) => simulate(c, v));
    for (let i = 0; i < seen.length; i++) for (let j = i + 1; j < seen.length; j++) out[v] = Math.min(out[v], deltaE(seen[i]!, seen[j]!));
  }
  return out;
}
