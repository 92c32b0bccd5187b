import { schemeTableau10 } from 'd3';
import { describe, expect, it } from 'vitest';
import { contrast, deltaE, lab, minSeparation, parseHex, simulate } from '../../../lib/charts/color-vision';
import { CHART_COLORS, chartGroups, markColors, seriesDash, seriesVar, themeCss } from '../../../lib/charts/palette';

/** Smallest CIE76 ΔE between colours that share a chart, with any colour-vision deficiency. */
const MIN_DELTA_E = 15;
/** WCAG 1.4.11: graphical objects need 3:1 against what is next to them. */
const MIN_MARK_CONTRAST = 3;

describe('colour-vision simulation', () => {
  it('matches published reference points', () => {
    // White and black are fixed points of every Machado matrix (rows sum to 1).
    for (const d of ['protan', 'deutan', 'tritan'] as const) {
      expect(simulate([255, 255, 255], d).map(Math.round)).toEqual([255, 255, 255]);
      expect(simulate([0, 0, 0], d)).toEqual([0, 0, 0]);
    }
    // CIELAB of sRGB primaries (D65), as tabulated by Bruce Lindbloom's calculator.
    const red = lab([255, 0, 0]);
    expect(red[0]).toBeCloseTo(53.24, 1);
    expect(red[1]).toBeCloseTo(80.09, 0);
    expect(red[2]).toBeCloseTo(67.2, 0);
    // WCAG: black on white is 21:1; #767676 on white is the classic 4.54:1.
    expect(contrast([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 6);
    expect(contrast(parseHex('#767676'), [255, 255, 255])).toBeCloseTo(4.54, 2);
    // Red and green, far apart for normal vision, nearly merge for a deuteranope.
    const r = parseHex('#d62728');
    const g = parseHex('#2ca02c');
    expect(deltaE(r, g)).toBeGreaterThan(60);
    expect(deltaE(simulate(r, 'deutan'), simulate(g, 'deutan'))).toBeLessThan(deltaE(r, g) / 3);
  });

  it('flags palettes that are not colour-blind safe (the audit can fail)', () => {
    // d3's Tableau 10, which the treemap used before the audit: two of its colours merge for a deuteranope.
    expect(minSeparation(schemeTableau10.slice(0, 6)).deutan).toBeLessThan(MIN_DELTA_E);
    // The Spectra colours before the audit: the blue ESD and the violet Marchenko–Pastur fit.
    expect(minSeparation(['#3b5bdb', '#e8590c', '#7048e8']).deutan).toBeLessThan(MIN_DELTA_E);
  });
});

describe('chart palettes', () => {
  for (const theme of ['light', 'dark'] as const) {
    const c = CHART_COLORS[theme];
    for (const [chart, colors] of Object.entries(chartGroups(c))) {
      it(`${theme}: ${chart} stay apart with every colour-vision deficiency`, () => {
        const sep = minSeparation(colors);
        for (const v of ['normal', 'protan', 'deutan', 'tritan'] as const) expect(sep[v], `${v}: ${colors.join(' ')}`).toBeGreaterThanOrEqual(MIN_DELTA_E);
      });
    }
    it(`${theme}: every mark reaches 3:1 against the chart background`, () => {
      for (const m of markColors(c)) expect(contrast(parseHex(m), parseHex(c.bg)), `${m} on ${c.bg}`).toBeGreaterThanOrEqual(MIN_MARK_CONTRAST);
    });
  }

  it('writes both themes as CSS custom properties, the system preference included', () => {
    const css = themeCss();
    expect(css).toContain(`--s1:${CHART_COLORS.light.series[0]}`);
    expect(css).toMatch(/:root\[data-theme="dark"\]\{[^}]*--c-raw:#56b4e9/);
    expect(css).toContain('@media (prefers-color-scheme: dark){:root:not([data-theme])');
    expect(seriesVar(0)).toBe('var(--s1)');
    expect(seriesVar(CHART_COLORS.light.series.length)).toBe('var(--s1)');
    expect(seriesDash(0)).toBeUndefined();
    expect(seriesDash(CHART_COLORS.light.series.length)).toBe('6 3');
  });
});
