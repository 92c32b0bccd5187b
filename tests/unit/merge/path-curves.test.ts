import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alphaGrid,
  modelSimilarity,
  pathCurveFromMoments,
  pathMoments,
  taskVectorSimilarity,
  weightPathCurves,
  type PathCurve,
} from '../../../lib/analysis/merge/path-curves';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import { memorySource, singleFileModel } from '../../../lib/io/byte-source';
import { openNodeModel } from '../../../lib/io/node/node-file-source';

/** Direct figures at one α: materialise θ(α) in float64 and measure it. */
function direct(a: ArrayLike<number>[], b: ArrayLike<number>[], t: number) {
  let dA = 0;
  let dB = 0;
  let nn = 0;
  let xa = 0;
  let xb = 0;
  let na = 0;
  let nb = 0;
  a.forEach((av, k) => {
    const bv = b[k]!;
    for (let i = 0; i < av.length; i++) {
      const x = (1 - t) * av[i]! + t * bv[i]!;
      dA += (x - av[i]!) ** 2;
      dB += (x - bv[i]!) ** 2;
      nn += x * x;
      xa += x * av[i]!;
      xb += x * bv[i]!;
      na += av[i]! ** 2;
      nb += bv[i]! ** 2;
    }
  });
  const norm = Math.sqrt(nn);
  return { distA: Math.sqrt(dA), distB: Math.sqrt(dB), norm, cosA: xa / (norm * Math.sqrt(na)), cosB: xb / (norm * Math.sqrt(nb)) };
}

function expectRel(got: number, want: number, rel: number) {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(Math.abs(want), 1e-300));
}

function checkCurve(curve: PathCurve, a: ArrayLike<number>[], b: ArrayLike<number>[], indices: number[]) {
  for (const i of indices) {
    const t = curve.alphas[i]!;
    const d = direct(a, b, t);
    if (t === 0) expect(curve.distA[i]).toBe(0);
    else expectRel(curve.distA[i]!, d.distA, 1e-9);
    if (t === 1) expect(curve.distB[i]).toBe(0);
    else expectRel(curve.distB[i]!, d.distB, 1e-9);
    expectRel(curve.norm[i]!, d.norm, 1e-10);
    expectRel(curve.cosA[i]!, d.cosA, 1e-10);
    expectRel(curve.cosB[i]!, d.cosB, 1e-10);
  }
}

describe('alphaGrid', () => {
  it('25 evenly spaced points from 0 to 1 by default; refuses fewer than 2', () => {
    const g = alphaGrid();
    expect(g).toHaveLength(25);
    expect(g[0]).toBe(0);
    expect(g[12]).toBe(0.5);
    expect(g[24]).toBe(1);
    expect(g[3]).toBeCloseTo(3 / 24, 15);
    expect(alphaGrid(3)).toEqual([0, 0.5, 1]);
    expect(() => alphaGrid(1)).toThrow(/points/);
  });
});

describe('closed-form path curves on small vectors', () => {
  it('extrapolated α and zero-norm ends', () => {
    const a = new Float32Array([1, 2, -1]);
    const b = new Float32Array([0, 1, 3]);
    const c = pathCurveFromMoments('x', pathMoments(a, b), [-0.5, 0.3, 1.5]);
    checkCurve(c, [a], [b], [0, 1, 2]);
    const z = pathCurveFromMoments('z', pathMoments(new Float32Array(3), b), [0, 0.5]);
    expect(z.cosA).toEqual([NaN, NaN]);
    expect(z.cosB[0]).toBeNaN(); // θ(0) = 0 has no direction
    expect(z.cosB[1]).toBeCloseTo(1, 12);
    expect(z.norm[1]).toBeCloseTo(0.5 * Math.hypot(0, 1, 3), 12);
  });
});

describe('weight-space curves and similarities on the MNIST demo models', () => {
  const inputs: Awaited<ReturnType<typeof openNodeModel>>[] = [];
  const m: Record<string, TensorSource> = {};
  const names = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'];
  const values = async (src: TensorSource) => Promise.all(names.map((n) => src.read(n)));
  beforeAll(async () => {
    for (const n of ['base', 'ft-low', 'ft-high', 'seed1', 'seed2']) {
      const input = await openNodeModel(`public/models/mnist/mlp-${n}.safetensors`, (x) => pickPrimary(x));
      inputs.push(input);
      m[n] = await openModel(input);
    }
  });
  afterAll(async () => {
    for (const i of inputs) await i.close();
  });

  it('seed1 → seed2: every layer and the whole model equal the direct computation at several α', async () => {
    const r = await weightPathCurves(m.seed1!, m.seed2!);
    expect(r.alphas).toEqual(alphaGrid(25));
    expect(r.layers.map((l) => l.name)).toEqual(names);
    const a = await values(m.seed1!);
    const b = await values(m.seed2!);
    const idx = [0, 6, 12, 21, 24];
    r.layers.forEach((curve, k) => checkCurve(curve, [a[k]!], [b[k]!], idx));
    checkCurve(r.model, a, b, idx);
    // Ends: cosine 1 with itself, distance ‖B − A‖ to the other end.
    expect(r.model.cosA[0]).toBeCloseTo(1, 12);
    expect(r.model.cosB[24]).toBeCloseTo(1, 12);
    expectRel(r.model.distB[0]!, r.model.distA[24]!, 1e-12);
  });

  it('base → fine-tune (nearby models, cosines near 1) stays accurate', async () => {
    const r = await weightPathCurves(m.base!, m['ft-low']!, { alphas: [0, 0.1, 0.5, 0.9, 1] });
    const a = await values(m.base!);
    const b = await values(m['ft-low']!);
    checkCurve(r.model, a, b, [0, 1, 2, 3, 4]);
    r.layers.forEach((curve, k) => checkCurve(curve, [a[k]!], [b[k]!], [1, 2, 3]));
  });

  it('layer cosine / L2 matrices between three models equal direct sums', async () => {
    const srcs = [m.seed1!, m.seed2!, m.base!];
    const r = await modelSimilarity(srcs);
    expect(r.labels).toEqual(srcs.map((s) => s.name));
    const vals = await Promise.all(srcs.map(values));
    r.layers.forEach((layer, k) => {
      for (let i = 0; i < 3; i++) {
        expect(layer.cosine[i]![i]).toBeCloseTo(1, 12);
        expect(layer.l2[i]![i]).toBe(0);
        for (let j = 0; j < 3; j++) {
          const x = vals[i]![k]!;
          const y = vals[j]![k]!;
          let dot = 0;
          let xx = 0;
          let yy = 0;
          let dd = 0;
          for (let t = 0; t < x.length; t++) {
            dot += x[t]! * y[t]!;
            xx += x[t]! ** 2;
            yy += y[t]! ** 2;
            dd += (x[t]! - y[t]!) ** 2;
          }
          expectRel(layer.cosine[i]![j]!, dot / Math.sqrt(xx * yy), 1e-12);
          expectRel(layer.l2[i]![j]!, Math.sqrt(dd), 1e-12);
          expect(layer.cosine[i]![j]).toBe(layer.cosine[j]![i]);
        }
      }
    });
    // Whole model: sums over layers.
    const dot01 = r.layers.reduce((s, l) => s + l.cosine[0]![1]! * l.norms[0]! * l.norms[1]!, 0);
    expectRel(r.model.cosine[0]![1]!, dot01 / (r.model.norms[0]! * r.model.norms[1]!), 1e-10);
    expectRel(r.model.l2[0]![1]!, Math.sqrt(r.layers.reduce((s, l) => s + l.l2[0]![1]! ** 2, 0)), 1e-12);
  });

  it('task-vector cosine of the two fine-tunes over the base equals the direct τ cosine', async () => {
    const r = await taskVectorSimilarity(m.base!, [m['ft-low']!, m['ft-high']!]);
    expect(r.labels).toEqual([m['ft-low']!.name, m['ft-high']!.name]);
    const b = await values(m.base!);
    const lo = await values(m['ft-low']!);
    const hi = await values(m['ft-high']!);
    let tdot = 0;
    let tll = 0;
    let thh = 0;
    r.layers.forEach((layer, k) => {
      let dot = 0;
      let ll = 0;
      let hh = 0;
      for (let i = 0; i < b[k]!.length; i++) {
        const u = lo[k]![i]! - b[k]![i]!;
        const v = hi[k]![i]! - b[k]![i]!;
        dot += u * v;
        ll += u * u;
        hh += v * v;
      }
      tdot += dot;
      tll += ll;
      thh += hh;
      expectRel(layer.cosine[0]![1]!, dot / Math.sqrt(ll * hh), 1e-10);
      expectRel(layer.norms[0]!, Math.sqrt(ll), 1e-12);
    });
    expectRel(r.model.cosine[0]![1]!, tdot / Math.sqrt(tll * thh), 1e-10);
    expect(Math.abs(r.model.cosine[0]![1]!)).toBeLessThan(1);
  });
});

describe('task-vector cosine on a synthetic model with known answer', () => {
  it('orthogonal task vectors give cosine 0, opposite ones −1, unmatched tensors are skipped', async () => {
    const open = (name: string, w: number[], extra = false) =>
      openModel(singleFileModel(memorySource(writeSafetensors([
        { name: 'w', shape: [2, 2], dtype: 'F32', data: new Float32Array(w) },
        ...(extra ? [{ name: 'only_here', shape: [1], dtype: 'F32', data: new Float32Array([1]) }] : []),
      ]), name)));
    const base = await open('base.safetensors', [1, 1, 1, 1]);
    const t1 = await open('t1.safetensors', [2, 1, 1, 1], true);
    const t2 = await open('t2.safetensors', [1, 3, 1, 1]);
    const t3 = await open('t3.safetensors', [0, 1, 1, 1]);
    const r = await taskVectorSimilarity(base, [t1, t2, t3]);
    expect(r.pairing.unmatched.map((u) => u.name)).toEqual(['only_here']);
    expect(r.layers).toHaveLength(1);
    expect(r.model.cosine[0]![1]).toBe(0);
    expect(r.model.cosine[0]![2]).toBe(-1);
    expect(r.model.norms).toEqual([1, 2, 1]);
    expect(r.model.l2[0]![1]).toBeCloseTo(Math.sqrt(5), 12);
  });
});
