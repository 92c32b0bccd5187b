import { describe, expect, it } from 'vitest';
import type { TensorInfo } from '../../../lib/formats/types';
import { buildLayers, layerNameOf } from '../../../lib/model/build-layers';
import { DEFAULT_MAX_EVALS, DEFAULT_MAX_N, DEFAULT_MIN_EVALS, NO_LAYER_LIMITS } from '../../../lib/model/layer';
import type { Layer } from '../../../lib/model/layer';
import { PPOCR_DET_TENSORS, WW_DET_LAYERS } from './ppocr-det-tensors';

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I8: 1, U8: 1 };

function t(name: string, shape: number[], dtype = 'F32', extra: Partial<TensorInfo> = {}): TensorInfo {
  const n = shape.reduce((p, d) => p * d, 1);
  return { name, shape, dtype, byteLength: n * (BYTES[dtype] ?? 1), decodable: true, ...extra };
}

function byName(layers: Layer[], tensorName: string): Layer {
  const l = layers.find((x) => x.tensor.name === tensorName);
  if (!l) throw new Error(`no layer for ${tensorName}`);
  return l;
}

const detTensors: TensorInfo[] = PPOCR_DET_TENSORS.map(([name, shape, dtype, c]) =>
  t(name, shape, dtype, c ? { consumer: { op: c[0], input: c[1], ...(c[2] ? { attrs: c[2] } : {}) } } : {}),
);

describe('buildLayers on PP-OCRv4 det (shapes from the real ONNX file) vs WeightWatcher 0.7.5.5', () => {
  const layers = buildLayers(detTensors, 'onnx');

  it('analyses exactly the layers WeightWatcher analysed, among the tensors it was offered (>= 1024 elements)', () => {
    const offered = layers.filter((l) => l.tensor.shape.reduce((p, d) => p * d, 1) >= 1024);
    const ours = offered.filter((l) => l.analyzable).map((l) => l.tensor.name).sort();
    const theirs = WW_DET_LAYERS.map((r) => r[0]).sort();
    expect(ours).toEqual(theirs);
    expect(ours).toHaveLength(46);
  });

  it('gives the same N, M, rf and num_evals as WeightWatcher for every analysed layer', () => {
    for (const [name, N, M, rf, numEvals] of WW_DET_LAYERS) {
      const l = byName(layers, name);
      expect({ name, N: l.N, M: l.M, rf: l.rf, num_evals: l.num_evals }).toEqual({ name, N, M, rf, num_evals: numEvals });
      expect(l.Q).toBeCloseTo(N / M, 12);
    }
  });

  it('also analyses the three small kernels that pass the same rules but were not offered to WeightWatcher', () => {
    const small = layers.filter((l) => l.analyzable && l.tensor.shape.reduce((p, d) => p * d, 1) < 1024);
    expect(small.map((l) => [l.tensor.name, l.N, l.M, l.rf, l.num_evals])).toEqual([
      ['conv2d_0.w_0', 16, 3, 9, 27],
      ['conv2d_131.w_0', 48, 12, 1, 12],
      ['conv2d_395.w_0', 32, 16, 1, 16],
    ]);
  });

  it('skips 3x3 depthwise kernels, tiny squeeze-excite convs and the last transposed conv for min_evals, saying so', () => {
    const dw = byName(layers, 'conv2d_394.w_0'); // [16, 1, 3, 3], group 16
    expect([dw.N, dw.M, dw.rf, dw.analyzable]).toEqual([16, 1, 9, false]);
    expect(dw.skipReason).toBe(`num_evals = M·rf = 9 < min_evals = ${DEFAULT_MIN_EVALS}`);
    expect(dw.slices.groups).toBe(16);
    expect(byName(layers, 'conv2d_139.w_0').skipReason).toBe('num_evals = M·rf = 6 < min_evals = 10');
    const tr = byName(layers, 'conv2d_transpose_1.w_0'); // [24, 1, 2, 2]
    expect([tr.N, tr.M, tr.rf, tr.analyzable]).toEqual([24, 1, 4, false]);
    // A 4-D bias fed to Add is shaped like a kernel; WeightWatcher's dims rule skips it by size too.
    expect(byName(layers, 'conv2d_transpose_0.b_0').skipReason).toBe('num_evals = M·rf = 1 < min_evals = 10');
  });

  it('records the layout from the consuming op: Conv is [out,in,kh,kw], ConvTranspose is [in,out,kh,kw]', () => {
    const conv = byName(layers, 'conv2d_138.w_0');
    expect(conv.slices).toMatchObject({ layout: 'oihw', layoutSource: 'consumer', op: 'Conv', kh: 3, kw: 3, count: 9, out: 24, in: 96, groups: 1 });
    expect(conv.kind).toBe('conv2d');
    const tr = byName(layers, 'conv2d_transpose_0.w_0');
    expect(tr.slices).toMatchObject({ layout: 'iohw', layoutSource: 'consumer', op: 'ConvTranspose', kh: 2, kw: 2 });
  });

  it('lists only rank >= 2 tensors as layers (biases and batch-norm vectors stay in the tensor table), with no blocks', () => {
    const rank2plus = detTensors.filter((x) => x.shape.length >= 2);
    expect(layers).toHaveLength(rank2plus.length);
    expect(layers.map((l) => l.id)).toEqual(layers.map((_, i) => i));
    expect(layers.some((l) => l.tensor.name.startsWith('batch_norm'))).toBe(false);
    expect(layers.every((l) => l.block === null && l.blockPath === null)).toBe(true);
    // Paddle names have no `.weight` suffix to strip.
    expect(byName(layers, 'conv2d_107.w_0').name).toBe('conv2d_107.w_0');
  });
});

describe('buildLayers on GPT-2 small (Hugging Face safetensors names and shapes)', () => {
  const tensors = [
    t('wte.weight', [50257, 768]),
    t('wpe.weight', [1024, 768]),
    t('h.0.ln_1.weight', [768]),
    t('h.0.ln_1.bias', [768]),
    t('h.0.attn.bias', [1, 1, 1024, 1024]), // the causal-mask buffer older checkpoints carry
    t('h.0.attn.c_attn.weight', [768, 2304]),
    t('h.0.attn.c_attn.bias', [2304]),
    t('h.0.attn.c_proj.weight', [768, 768]),
    t('h.0.mlp.c_fc.weight', [768, 3072]),
    t('h.11.mlp.c_proj.weight', [3072, 768]),
    t('ln_f.weight', [768]),
  ];
  const layers = buildLayers(tensors, 'safetensors');

  it('makes embeddings of wte/wpe and skips wte for max_N like WeightWatcher', () => {
    const wte = byName(layers, 'wte.weight');
    expect([wte.kind, wte.N, wte.M, wte.rf, wte.analyzable]).toEqual(['embedding', 50257, 768, 1, false]);
    expect(wte.skipReason).toBe(`N = 50257 > max_N = ${DEFAULT_MAX_N}`);
    const wpe = byName(layers, 'wpe.weight');
    expect([wpe.kind, wpe.N, wpe.M, wpe.analyzable, wpe.name]).toEqual(['embedding', 1024, 768, true, 'wpe']);
  });

  it('reads Conv1D weights as [in, out] dense matrices with N = max, M = min, Q = N/M and a block number', () => {
    const qkv = byName(layers, 'h.0.attn.c_attn.weight');
    expect(qkv).toMatchObject({ kind: 'dense', N: 2304, M: 768, rf: 1, Q: 3, num_evals: 768, block: 0, blockPath: 'h.0', name: 'h.0.attn.c_attn', analyzable: true });
    expect(qkv.slices).toMatchObject({ layout: 'io', layoutSource: 'name', out: 2304, in: 768 });
    expect(byName(layers, 'h.11.mlp.c_proj.weight')).toMatchObject({ N: 3072, M: 768, Q: 4, block: 11, blockPath: 'h.11' });
  });

  it('skips the 4-D attention-mask buffer for max_evals (M·rf = 1024²), as WeightWatcher’s dims rule would', () => {
    const mask = byName(layers, 'h.0.attn.bias');
    expect([mask.kind, mask.N, mask.M, mask.rf]).toEqual(['conv2d', 1, 1, 1024 * 1024]);
    expect(mask.skipReason).toBe(`num_evals = M·rf = 1048576 > max_evals = ${DEFAULT_MAX_EVALS}`);
  });

  it('lets callers lift the limits', () => {
    const all = buildLayers(tensors, 'safetensors', NO_LAYER_LIMITS);
    expect(byName(all, 'wte.weight').analyzable).toBe(true);
    const strict = buildLayers(tensors, 'safetensors', { minEvals: 800 });
    expect(byName(strict, 'wpe.weight').skipReason).toBe('num_evals = M·rf = 768 < min_evals = 800');
    expect(byName(buildLayers(tensors, 'safetensors', { maxN: 3000 }), 'h.11.mlp.c_proj.weight').skipReason).toBe('N = 3072 > max_N = 3000');
  });
});

describe('buildLayers on conv nets (PyTorch state-dict names)', () => {
  const tensors = [
    t('conv1.weight', [64, 3, 7, 7]),
    t('bn1.weight', [64]),
    t('bn1.num_batches_tracked', [], 'I64'),
    t('layer1.0.conv1.weight', [64, 64, 3, 3]),
    t('layer3.1.conv2.weight', [256, 256, 3, 3]),
    t('features.1.conv.0.0.weight', [32, 1, 3, 3]), // MobileNet depthwise 3x3
    t('features.5.conv.1.0.weight', [192, 1, 5, 5]), // depthwise 5x5
    t('fc.weight', [1000, 512]),
    t('patch_embed.proj.weight', [768, 3, 16, 16]),
    t('pos_embed', [1, 197, 768]),
    t('feature_extractor.conv_layers.0.conv.weight', [512, 1, 10]),
    t('encoder.conv1.weight', [384, 80, 3]),
    t('stages.1.blocks.2.conv_dw.weight', [192, 1, 7, 7]),
  ];
  const layers = buildLayers(tensors, 'pytorch');

  it('slices 4-D kernels into kh·kw matrices: rf = kh·kw, N/M from the channels', () => {
    expect(byName(layers, 'conv1.weight')).toMatchObject({ kind: 'conv2d', N: 64, M: 3, rf: 49, num_evals: 147, analyzable: true, name: 'conv1' });
    expect(byName(layers, 'conv1.weight').slices).toMatchObject({ layout: 'oihw', layoutSource: 'format', kh: 7, kw: 7, out: 64, in: 3 });
    expect(byName(layers, 'layer3.1.conv2.weight')).toMatchObject({ N: 256, M: 256, rf: 9, num_evals: 2304, block: 3, blockPath: 'layer3' });
    expect(byName(layers, 'patch_embed.proj.weight')).toMatchObject({ kind: 'conv2d', N: 768, M: 3, rf: 256, num_evals: 768, analyzable: true });
  });

  it('treats depthwise kernels as M = 1 with rf evals: 3x3 skipped, 5x5 and 7x7 analysed', () => {
    expect(byName(layers, 'features.1.conv.0.0.weight')).toMatchObject({ N: 32, M: 1, rf: 9, analyzable: false });
    expect(byName(layers, 'features.5.conv.1.0.weight')).toMatchObject({ N: 192, M: 1, rf: 25, analyzable: true });
    expect(byName(layers, 'stages.1.blocks.2.conv_dw.weight')).toMatchObject({ rf: 49, block: 1, blockPath: 'stages.1' });
  });

  it('slices 3-D conv kernels like conv2d with kw = 1, and refuses other 3-D tensors', () => {
    expect(byName(layers, 'feature_extractor.conv_layers.0.conv.weight')).toMatchObject({ kind: 'conv1d', N: 512, M: 1, rf: 10, num_evals: 10, analyzable: true });
    expect(byName(layers, 'encoder.conv1.weight')).toMatchObject({ kind: 'conv1d', N: 384, M: 80, rf: 3 });
    expect(byName(layers, 'encoder.conv1.weight').slices).toMatchObject({ layout: 'oik', kh: 3, kw: 1 });
    const pos = byName(layers, 'pos_embed');
    expect([pos.kind, pos.analyzable, pos.skipReason]).toEqual(['other', false, 'rank-3 tensor [1, 197, 768] is not a dense or conv weight']);
  });

  it('reads Linear weights as [out, in] and leaves rank-0/1 tensors out', () => {
    expect(byName(layers, 'fc.weight')).toMatchObject({ kind: 'dense', N: 1000, M: 512, slices: { layout: 'oi', out: 1000, in: 512 } });
    expect(layers.find((l) => l.tensor.name.startsWith('bn1'))).toBeUndefined();
  });
});

describe('buildLayers on Keras channels-last kernels', () => {
  it('uses the kernel name, then WeightWatcher’s shape rule (s0+s1 >= s2+s3 means channels first)', () => {
    const layers = buildLayers(
      [
        t('block1_conv1/kernel:0', [3, 3, 3, 64]),
        t('dense/kernel:0', [784, 128]),
        t('arr_0', [3, 3, 64, 128]),
        t('arr_1', [128, 64, 3, 3]),
        t('conv1d/kernel', [5, 32, 64]),
      ],
      'npz',
    );
    const k = byName(layers, 'block1_conv1/kernel:0');
    expect(k).toMatchObject({ name: 'block1_conv1', N: 64, M: 3, rf: 9, num_evals: 27 });
    expect(k.slices).toMatchObject({ layout: 'hwio', layoutSource: 'name', kh: 3, kw: 3, out: 64, in: 3 });
    expect(byName(layers, 'dense/kernel:0')).toMatchObject({ name: 'dense', kind: 'dense', N: 784, M: 128, slices: { layout: 'io', out: 128, in: 784 } });
    expect(byName(layers, 'arr_0').slices).toMatchObject({ layout: 'hwio', layoutSource: 'shape', out: 128, in: 64 });
    expect(byName(layers, 'arr_0')).toMatchObject({ N: 128, M: 64, rf: 9 });
    expect(byName(layers, 'arr_1').slices).toMatchObject({ layout: 'oihw', layoutSource: 'shape', out: 128, in: 64 });
    expect(byName(layers, 'conv1d/kernel')).toMatchObject({ kind: 'conv1d', N: 64, M: 32, rf: 5, slices: { layout: 'kio', out: 64, in: 32 } });
  });
});

describe('buildLayers on Paddle / ONNX MatMul and Gemm weights', () => {
  it('reads MatMul right operands as [in, out], Gemm by transB, Gather tables as embeddings', () => {
    const layers = buildLayers(
      [
        t('linear_85.w_0', [120, 6625], 'F32', { consumer: { op: 'MatMul', input: 1 } }),
        t('linear_77.w_0', [120, 360], 'F32', { consumer: { op: 'MatMul', input: 1 } }),
        t('fc.w', [10, 512], 'F32', { consumer: { op: 'Gemm', input: 1, attrs: { transB: 1 } } }),
        t('fc2.w', [512, 10], 'F32', { consumer: { op: 'Gemm', input: 1 } }),
        t('emb', [30000, 256], 'F32', { consumer: { op: 'Gather', input: 0 } }),
      ],
      'onnx',
    );
    expect(byName(layers, 'linear_85.w_0')).toMatchObject({ kind: 'dense', N: 6625, M: 120, rf: 1, num_evals: 120, analyzable: true, slices: { layout: 'io', layoutSource: 'consumer', in: 120, out: 6625, op: 'MatMul' } });
    expect(byName(layers, 'linear_77.w_0')).toMatchObject({ N: 360, M: 120, Q: 3 });
    expect(byName(layers, 'fc.w').slices).toMatchObject({ layout: 'oi', out: 10, in: 512 });
    expect(byName(layers, 'fc2.w').slices).toMatchObject({ layout: 'io', out: 10, in: 512 });
    expect(byName(layers, 'emb')).toMatchObject({ kind: 'embedding', N: 30000, M: 256 });
  });
});

describe('buildLayers on dtypes it cannot analyse', () => {
  it('skips integer tensors and undecodable quant types with a reason, keeps int8 weights of quantized ops', () => {
    const layers = buildLayers(
      [
        t('position_ids', [1, 512], 'I64'),
        t('blk.0.attn_q.weight', [4096, 4096], 'Q9_X', { decodable: false, note: 'GGUF type 99 is not decoded' }),
        t('blk.1.attn_q.weight', [4096, 4096], 'Q4_K'),
        t('w_quant', [256, 128], 'I8', { consumer: { op: 'DequantizeLinear', input: 0 } }),
      ],
      'gguf',
    );
    expect(byName(layers, 'position_ids').skipReason).toBe('dtype I64 is not a float weight');
    expect(byName(layers, 'blk.0.attn_q.weight').skipReason).toBe('dtype Q9_X cannot be decoded (GGUF type 99 is not decoded)');
    expect(byName(layers, 'blk.1.attn_q.weight')).toMatchObject({ analyzable: true, block: 1, blockPath: 'blk.1', name: 'blk.1.attn_q' });
    expect(byName(layers, 'w_quant').analyzable).toBe(true);
  });
});

describe('layerNameOf', () => {
  it('strips the weight / kernel suffix only', () => {
    expect(layerNameOf('model.layers.0.mlp.up_proj.weight')).toBe('model.layers.0.mlp.up_proj');
    expect(layerNameOf('dense_1/kernel:0')).toBe('dense_1');
    expect(layerNameOf('weight')).toBe('weight');
    expect(layerNameOf('conv2d_107.w_0')).toBe('conv2d_107.w_0');
    expect(layerNameOf('/model/layers.0/self_attn/q_proj/weight')).toBe('/model/layers.0/self_attn/q_proj');
  });
});

describe('layers skipped only by the size limits', () => {
  it('are marked `limited`, so a user can analyze them past the limits', () => {
    const t = (name: string, shape: number[], dtype = 'F32') => ({ name, shape, dtype, byteLength: shape.reduce((a, b) => a * b, 1) * 4, decodable: true });
    const layers = buildLayers(
      [t('wte.weight', [50257, 768]), t('h.0.mlp.c_fc.weight', [768, 3072]), t('tiny.weight', [3, 3]), t('ids', [4, 4], 'I64')],
      'safetensors',
    );
    const by = (n: string) => layers.find((l) => l.tensor.name === n)!;
    expect(by('wte.weight').analyzable).toBe(false);
    expect(by('wte.weight').limited).toBe(true);
    expect(by('tiny.weight').limited).toBe(true);
    expect(by('h.0.mlp.c_fc.weight').analyzable).toBe(true);
    expect(by('h.0.mlp.c_fc.weight').limited).toBeUndefined();
    expect(by('ids').analyzable).toBe(false);
    expect(by('ids').limited).toBeUndefined();
  });
});
