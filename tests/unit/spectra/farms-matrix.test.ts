import { describe, expect, it } from 'vitest';
import { farmsMatrix } from '../../../lib/analysis/spectra/farms';
import { buildLayers } from '../../../lib/model/build-layers';
import type { Layer } from '../../../lib/model/layer';

function ioLayer(shape: [number, number]): Layer {
  const [l] = buildLayers([{ name: 'w', shape, dtype: 'F32', byteLength: 4 * shape[0] * shape[1], decodable: true }], 'onnx', { minEvals: 1 });
  return { ...l!, slices: { ...l!.slices, layout: 'io' } };
}

describe('farmsMatrix of [in, out] weights', () => {
  it.each([[1, 1], [1, 33], [33, 1], [45, 70], [64, 96], [100, 31]] as const)('stored %i × %i is transposed entry by entry (tiles and their edges)', (inC, out) => {
    const data = Float32Array.from({ length: inC * out }, (_, i) => i + 0.5);
    const m = farmsMatrix(ioLayer([inC, out]), data);
    expect([m.rows, m.cols]).toEqual([out, inC]);
    for (let o = 0; o < out; o++) {
      for (let c = 0; c < inC; c++) {
        if (m.data[o * inC + c] !== data[c * out + o]) expect.fail(`m[${o}][${c}] = ${m.data[o * inC + c]}, stored w[${c}][${o}] = ${data[c * out + o]}`);
      }
    }
  });
});
