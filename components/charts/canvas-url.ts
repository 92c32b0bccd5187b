/** An RGBA image as a PNG data URL, for embedding in an SVG (so exports carry the picture). */
export function canvasUrl(rgba: Uint8ClampedArray, w: number, h: number): string {
  if (typeof document === 'undefined' || w === 0 || h === 0) return '';
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d');
  if (!ctx) return '';
  ctx.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, w, h), 0, 0);
  return c.toDataURL('image/png');
}
