import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { eigvalsh } from '../../../lib/math/eigvalsh';
import { gram } from '../../../lib/math/gram';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import { openNodeModel } from '../../../lib/io/node/node-file-source';

/**
 * The eigenvalue engine against float64 LAPACK: tests/fixtures/lapack/ holds float32 weights (an
 * .npz read by WeightLens's own reader) and the squared singular values numpy's LAPACK (gesdd)
 * computed for them in float64 (make-lapack-fixtures.py). Target from the Weight-spectra issue:
 * relative error ≤ 1e-6 for every λ ≥ 1e-6·λmax, with both CPU kernels.
 */
const dir = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'lapack');
const ref = JSON.parse(readFileSync(path.join(dir, 'lapack-evals.json'), 'utf8')) as { evals: Record<string, number[]> };

describe('eigenvalues vs float64 LAPACK', async () => {
  const input = await openNodeModel(path.join(dir, 'lapack-weights.npz'), pickPrimary);
  const src = await openModel(input);
  for (const name of ['gauss', 'heavy', 'graded']) {
    for (const kernel of ['ts', 'wasm'] as const) {
      it(`${name} (${kernel} kernel)`, async () => {
        const info = src.tensors.find((t) => t.name === name)!;
        const [rows, cols] = info.shape as [number, number];
        const w = await src.read(name);
        const { g, k } = gram(w, rows, cols, { kernel });
        const ev = eigvalsh(g, k, { kernel });
        const want = ref.evals[name]!;
        expect(ev.length).toBe(want.length);
        const lmax = want[want.length - 1]!;
        let checked = 0;
        for (let i = 0; i < want.length; i++) {
          if (want[i]! < 1e-6 * lmax) continue;
          expect(Math.abs(ev[i]! - want[i]!) / want[i]!, `${name} λ[${i}] = ${want[i]}`).toBeLessThanOrEqual(1e-6);
          checked++;
        }
        // The graded matrix spans 1e-6..1e4 in λ: the check covers all but its smallest values.
        expect(checked).toBeGreaterThan(want.length / 2);
      });
    }
  }
});
