import { describe, expect, it } from 'vitest';
import type { TensorInfo } from '../../../lib/formats/types';
import { moduleTree } from '../../../lib/model/module-tree';
import { treemapLayout } from '../../../lib/charts/treemap-layout';
import { histogramChart } from '../../../lib/charts/histogram-chart';

const t = (name: string, shape: number[]): TensorInfo => ({ name, shape, dtype: 'F32', byteLength: 4 * shape.reduce((a, b) => a * b, 1), decodable: true });

describe('treemapLayout', () => {
  const tensors = [
    t('model.embed.weight', [1000, 64]),
    t('model.layers.0.attn.q.weight', [64, 64]),
    t('model.layers.0.attn.q.bias', [64]),
    t('model.layers.0.mlp.up.weight', [256, 64]),
    t('model.layers.1.attn.q.weight', [64, 64]),
    t('model.layers.1.mlp.up.weight', [256, 64]),
    t('lm_head.weight', [1000, 64]),
  ];
  const tree = moduleTree(tensors);
  const cells = treemapLayout(tree, 800, 400, { maxDepth: 6, padding: 0, minArea: 0 });

  it('gives module cells (weight + bias merged) with areas proportional to parameters', () => {
    const leaves = cells.filter((c) => c.leaf);
    const byPath = new Map(leaves.map((c) => [c.path, c]));
    expect([...byPath.keys()].sort()).toEqual(
      ['lm_head', 'model.embed', 'model.layers.0.attn.q', 'model.layers.0.mlp.up', 'model.layers.1.attn.q', 'model.layers.1.mlp.up'].sort(),
    );
    expect(byPath.get('model.layers.0.attn.q')!.params).toBe(64 * 64 + 64);
    const area = (c: { x0: number; x1: number; y0: number; y1: number }) => (c.x1 - c.x0) * (c.y1 - c.y0);
    // Group headers (paddingTop) take some space, so compare ratios loosely but in the right order.
    const big = area(byPath.get('lm_head')!);
    const small = area(byPath.get('model.layers.1.attn.q')!);
    expect(big / small).toBeGreaterThan(8);
    for (const c of cells) {
      expect(c.x0).toBeGreaterThanOrEqual(0);
      expect(c.y0).toBeGreaterThanOrEqual(0);
      expect(c.x1).toBeLessThanOrEqual(800);
      expect(c.y1).toBeLessThanOrEqual(400);
    }
  });

  it('colours cells by top-level module', () => {
    const lm = cells.find((c) => c.path === 'lm_head')!;
    const l0 = cells.find((c) => c.path === 'model.layers.0.attn.q')!;
    const l1 = cells.find((c) => c.path === 'model.layers.1.mlp.up')!;
    expect(l0.color).toBe(l1.color);
    expect(lm.color).not.toBe(l0.color);
  });

  it('returns nothing for an empty tree or a zero-size box', () => {
    expect(treemapLayout(moduleTree([]), 800, 400)).toEqual([]);
    expect(treemapLayout(tree, 0, 400)).toEqual([]);
  });
});

describe('histogramChart', () => {
  it('places one bar per bin, tallest bar at the top of the plot', () => {
    const m = histogramChart([1, 4, 2, 0], -1, 1, 400, 200);
    expect(m.bars).toHaveLength(4);
    expect(m.bars[1]!.y).toBeCloseTo(m.plot.y1, 6);
    expect(m.bars[3]!.height).toBe(0);
    expect(m.bars[0]!.lo).toBe(-1);
    expect(m.bars[3]!.hi).toBe(1);
    expect(m.bars[0]!.x).toBeCloseTo(m.plot.x0, 6);
  });
});
