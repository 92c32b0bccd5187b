export { hasWebGPU } from './has-webgpu';
export { isWorker } from './is-worker';
export { isNode } from './is-node';
export { hasWasmSimd } from './has-wasm-simd';
