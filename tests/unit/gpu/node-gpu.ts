// Test helper: a real WebGPU device in Node (Dawn on SwiftShader). vitest.config.ts sets the
// environment Dawn needs; without Debian's chromium installed there is no Vulkan driver and this
// throws with a message saying so.
import { create, globals } from 'webgpu';

let devicePromise: Promise<GPUDevice> | undefined;
// Dawn tears down its instance (and SwiftShader's worker threads) when the JS wrapper is garbage
// collected, even while a device made from it is in use; holding it here keeps long tests alive.
const keepAlive: GPU[] = [];

export function nodeGpuDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    Object.assign(globalThis, globals);
    const gpu = create([]);
    keepAlive.push(gpu);
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      throw new Error(
        'no WebGPU adapter in Node: Dawn needs a Vulkan driver — install Debian chromium (it ships SwiftShader in /usr/lib/chromium) and run through vitest.config.ts',
      );
    }
    return adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  })();
  return devicePromise;
}
