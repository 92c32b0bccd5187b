/**
 * Whether this JS realm exposes the WebGPU API at all. Granting an adapter and a device can still
 * fail (blocklisted GPU, headless browser without a backend); lib/gpu/device.ts handles that.
 */
export function hasWebGPU(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && (navigator as Navigator).gpu != null;
}
