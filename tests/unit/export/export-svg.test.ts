import { describe, expect, it } from 'vitest';
import { CAPTION_FONT_PX, exportLayout, TITLE_FONT_PX, wrapText } from '../../../lib/charts/export-svg';

describe('wrapText', () => {
  it('keeps words whole and lines within the limit', () => {
    const text = 'method k-means VQ, sub-vector d 2, codewords k 16, codebooks one per layer, codebook entries fp16';
    const lines = wrapText(text, 30);
    expect(lines.join(' ')).toBe(text);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(30);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('cuts a word longer than a line (a URL) into pieces that join back to it', () => {
    const url = 'http://127.0.0.1:3100/quantize?testhooks=1&model=mnist-mlp-seed1&layer=fc2&d=2&k=16&method=vq';
    const lines = wrapText(`see ${url}`, 20);
    expect(lines[0]).toBe('see');
    expect(lines.slice(1).join('')).toBe(url);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(20);
  });

  it('gives no lines for blank text', () => {
    expect(wrapText('   ', 40)).toEqual([]);
  });
});

describe('exportLayout', () => {
  it('stacks title, chart and caption without overlap', () => {
    const caption = ['mlp-seed1.safetensors · layer fc2 · method k-means VQ, sub-vector d 2, codewords k 16', 'http://127.0.0.1:3100/quantize?model=mnist-mlp-seed1&layer=fc2&d=2&k=16'];
    const L = exportLayout(320.4, 200, 'Codeword assignment of a rather long layer name that has to wrap', caption);
    expect(L.width).toBe(321);
    expect(L.titleLines.length).toBeGreaterThan(1);
    expect(L.captionLines.length).toBeGreaterThanOrEqual(2);
    // The last title line's descenders (~0.3 em) end above the chart.
    const lastTitle = L.titleLines[L.titleLines.length - 1]!;
    expect(lastTitle.y + 0.3 * TITLE_FONT_PX).toBeLessThanOrEqual(L.chartY);
    // The first caption line's ascenders start below the chart, and the last fits in the height.
    const firstCap = L.captionLines[0]!;
    expect(firstCap.y - CAPTION_FONT_PX).toBeGreaterThanOrEqual(L.chartY + 200);
    expect(L.captionLines[L.captionLines.length - 1]!.y + 0.3 * CAPTION_FONT_PX).toBeLessThanOrEqual(L.height);
    // Lines are in order, each one line step below the last.
    for (let i = 1; i < L.captionLines.length; i++) expect(L.captionLines[i]!.y).toBeGreaterThan(L.captionLines[i - 1]!.y + CAPTION_FONT_PX);
    // Every caption character is kept.
    expect(L.captionLines.map((l) => l.text).join(' ').replace(/\s/g, '')).toBe(caption.join('').replace(/\s/g, ''));
  });

  it('is just the chart when there is no title or caption', () => {
    const L = exportLayout(100, 50, '', []);
    expect(L).toEqual({ width: 100, height: 50, chartY: 0, titleLines: [], captionLines: [] });
  });
});
