import { describe, expect, it } from 'vitest';
import { alphaDepthChart, depthPositions } from '../../../lib/charts/spectra/alpha-depth-chart';
import { alphaQChart } from '../../../lib/charts/spectra/alpha-q-chart';
import { fitCandidates } from '../../../lib/charts/spectra/fit-candidates';
import { fitRobustnessChart } from '../../../lib/charts/spectra/fit-robustness-chart';
import { spectraRunKey, parseSpectraParams, writeSpectraParams, DEFAULT_SPECTRA_SETTINGS } from '../../../lib/state/spectra-settings';

describe('alphaDepthChart', () => {
  it('spreads a block’s layers inside the block and gives block-less layers their own slot, in catalog order', () => {
    const layers = [
      { name: 'wte', order: 0, block: null, alpha: 3, farmsAlpha: 3.1 },
      { name: 'h.0.attn', order: 1, block: 0, alpha: 2.5, farmsAlpha: 2.9 },
      { name: 'h.0.mlp', order: 2, block: 0, alpha: 4, farmsAlpha: null },
      { name: 'h.1.attn', order: 3, block: 1, alpha: null, farmsAlpha: null },
      { name: 'lm_head', order: 4, block: null, alpha: 7, farmsAlpha: 5 },
    ];
    const { pos, groups } = depthPositions(layers);
    expect(groups.map((g) => [g.label, g.block])).toEqual([
      ['', false],
      ['0', true],
      ['1', true],
      ['', false],
    ]);
    expect(pos.get('wte')).toBe(0.5);
    expect(pos.get('h.0.attn')).toBe(1.25);
    expect(pos.get('h.0.mlp')).toBe(1.75);
    expect(pos.get('h.1.attn')).toBe(2.5);
    expect(pos.get('lm_head')).toBe(3.5);
    const m = alphaDepthChart(layers, 600, 240);
    expect(m.xLabel).toBe('block');
    expect(m.xTicks.map((t) => t.label)).toEqual(['0', '1']);
    // Raw points for the 4 layers with α, FARMS points for the 3 with a FARMS α; higher α is higher up.
    expect(m.points.filter((p) => p.series === 'raw').length).toBe(4);
    expect(m.points.filter((p) => p.series === 'farms').length).toBe(3);
    const y = (n: string) => m.points.find((p) => p.name === n && p.series === 'raw')!.y;
    expect(y('lm_head')).toBeLessThan(y('h.0.attn'));
    expect(m.refLines[0]!.y).toBeGreaterThan(m.refLines[1]!.y);
  });

  it('uses catalog order when no layer has a block', () => {
    const layers = Array.from({ length: 12 }, (_, i) => ({ name: `conv${i}`, order: i, block: null, alpha: 2 + i / 4, farmsAlpha: null }));
    const m = alphaDepthChart(layers, 600, 240);
    expect(m.xLabel).toContain('order');
    const xs = m.points.map((p) => p.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
  });
});

describe('alphaQChart', () => {
  it('places points on a log Q axis', () => {
    const m = alphaQChart(
      [
        { name: 'a', Q: 1, alpha: 2, farmsAlpha: 2.2 },
        { name: 'b', Q: 10, alpha: 4, farmsAlpha: null },
        { name: 'c', Q: 100, alpha: 5, farmsAlpha: null },
      ],
      600,
      240,
    );
    const x = (n: string) => m.points.find((p) => p.name === n && p.series === 'raw')!.x;
    expect(x('b') - x('a')).toBeCloseTo(x('c') - x('b'), 6);
    expect(m.points.length).toBe(4);
  });
});

describe('fitRobustnessChart', () => {
  it('marks the D minimum at the lowest D point and the chosen xmin', () => {
    const x = Float64Array.from({ length: 200 }, (_, i) => (i + 1) ** 1.7 / 100);
    const c = fitCandidates(x, { thresh: 0 });
    const m = fitRobustnessChart(c, { xmin: c.xmin[c.best]!, alpha: c.alpha[c.best]! }, 500, 240);
    expect(m.empty).toBe(false);
    expect(m.best!.D).toBe(Math.min(...c.D));
    expect(m.chosen!.x).toBeCloseTo(m.best!.x, 9);
    expect(m.alphaPath.startsWith('M')).toBe(true);
    expect(m.dPath.startsWith('M')).toBe(true);
  });
});

describe('spectra URL settings', () => {
  it('round-trips through the query string, writing only what differs from the defaults', () => {
    const q = new URLSearchParams('cpu=1&testhooks=1');
    const p = { model: 'paddleocr-det', layer: 'conv2d_107.w_0', esd: 'ccdf' as const, forceGpu: true, allLayers: true, settings: { ...DEFAULT_SPECTRA_SETTINGS, fit: 'xmin_peak' as const, farmsNr: 50 } };
    writeSpectraParams(q, p);
    expect(q.get('cpu')).toBe('1');
    expect(q.get('fit')).toBe('xmin_peak');
    expect(q.get('farms_nr')).toBe('50');
    expect(q.has('farms')).toBe(false);
    expect(q.get('gpu')).toBe('1');
    expect(q.get('limits')).toBe('off');
    expect(parseSpectraParams(q)).toEqual(p);
    expect(parseSpectraParams(new URLSearchParams('')).allLayers).toBe(false);
    expect(parseSpectraParams(new URLSearchParams('fit=bogus&farms_ops=-3&mp=0')).settings).toEqual({ ...DEFAULT_SPECTRA_SETTINGS, mpFit: false });
  });

  it('keys runs by model, settings and backend choice', () => {
    const a = spectraRunKey('m1', DEFAULT_SPECTRA_SETTINGS, false);
    expect(spectraRunKey('m1', { ...DEFAULT_SPECTRA_SETTINGS }, false)).toBe(a);
    expect(spectraRunKey('m1', { ...DEFAULT_SPECTRA_SETTINGS, farmsOps: 5 }, false)).not.toBe(a);
    expect(spectraRunKey('m1', DEFAULT_SPECTRA_SETTINGS, true)).not.toBe(a);
    expect(spectraRunKey('m2', DEFAULT_SPECTRA_SETTINGS, false)).not.toBe(a);
    expect(spectraRunKey('m1', DEFAULT_SPECTRA_SETTINGS, false, true)).not.toBe(a);
  });
});
