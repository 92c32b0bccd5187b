import { hasWebGPU } from '../platform/has-webgpu';

/**
 * One WebGPU device per worker, acquired on first use. `null` means "use the CPU": no WebGPU
 * API, no adapter (headless without a backend, blocklisted GPU), or requestDevice refused.
 * A lost device is forgotten, so the next job tries again instead of failing forever.
 */

export interface GpuHandle {
  device: GPUDevice;
  /** Human-readable adapter, e.g. "nvidia ampere" or "google swiftshader", shown with results. */
  description: string;
}

let pending: Promise<GpuHandle | null> | null = null;

export function getGpuDevice(): Promise<GpuHandle | null> {
  if (!hasWebGPU()) return Promise.resolve(null);
  pending ??= acquire();
  return pending;
}

async function acquire(): Promise<GpuHandle | null> {
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return null;
    // Ask for the adapter's largest storage binding (capped at 1 GiB) so big tensors need fewer chunks.
    const want = Math.min(adapter.limits.maxStorageBufferBindingSize, 2 ** 30);
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: want,
        maxBufferSize: Math.min(adapter.limits.maxBufferSize, Math.max(want, 2 ** 28)),
      },
    });
    void device.lost.then(() => {
      pending = null;
    });
    const info = adapter.info;
    const description = [info?.vendor, info?.architecture, info?.description].filter((s) => s).join(' ') || 'WebGPU adapter';
    return { device, description };
  } catch {
    pending = null;
    return null;
  }
}
