import { describe, expect, it } from 'vitest';
import { farmsAnalyze } from '../../../lib/analysis/spectra/farms';
import { Rng } from '../../../lib/base/rng';
import { buildLayers } from '../../../lib/model/build-layers';

/** FARMS windows the [out, in] matrix whatever the storage layout: [in, out] storage gives the same ESD. */
describe('FARMS on [in, out] storage', () => {
  const out = 230;
  const inC = 410;
  const rng = new Rng(11);
  const w = Float32Array.from({ length: out * inC }, () => rng.normal());
  const wt = new Float32Array(out * inC);
  for (let o = 0; o < out; o++) for (let i = 0; i < inC; i++) wt[i * out + o] = w[o * inC + i]!;
  const info = (name: string, shape: number[]) => ({ name, shape, dtype: 'F32', byteLength: out * inC * 4, decodable: true });
  // GPT-2's Conv1D stores [in, out]; a PyTorch Linear stores [out, in].
  const [io] = buildLayers([info('h.0.mlp.c_fc.weight', [inC, out])], 'safetensors');
  const [oi] = buildLayers([info('layers.0.fc.weight', [out, inC])], 'safetensors');

  for (const kernel of ['wasm', 'ts'] as const) {
    it(`gives bit-identical pooled eigenvalues and α (${kernel} kernel)`, () => {
      expect(io!.slices.layout).toBe('io');
      expect(oi!.slices.layout).toBe('oi');
      const a = farmsAnalyze(io!, wt, { kernel })!;
      const b = farmsAnalyze(oi!, w, { kernel })!;
      expect(a.windows).toBe(b.windows);
      expect(Array.from(a.evals)).toEqual(Array.from(b.evals));
      expect(a.alpha).toBe(b.alpha);
    });
  }
});
