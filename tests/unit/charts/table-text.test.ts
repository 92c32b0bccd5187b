import { describe, expect, it } from 'vitest';
import { toHtmlTable, toMarkdown, toTsv } from '../../../lib/charts/table-text';

const t = { header: ['layer', 'alpha'], rows: [['h.0 | attn', '3.21'], ['line\nbreak\tand tab', '—']], numeric: [false, true] };

describe('table text', () => {
  it('writes GitHub Markdown with pipes escaped, one line per row and numbers right-aligned', () => {
    expect(toMarkdown(t)).toBe(['| layer | alpha |', '| --- | ---: |', '| h.0 \\| attn | 3.21 |', '| line break and tab | — |'].join('\n'));
  });
  it('writes TSV with no stray tabs or line breaks inside cells', () => {
    const out = toTsv(t).split('\n');
    expect(out).toEqual(['layer\talpha', 'h.0 | attn\t3.21', 'line break and tab\t—']);
    for (const l of out) expect(l.split('\t')).toHaveLength(2);
  });
  it('writes HTML with text escaped (nothing in a cell becomes markup)', () => {
    const html = toHtmlTable({ header: ['a'], rows: [['<img src=x onerror=alert(1)>']] });
    expect(html).toBe('<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;img src=x onerror=alert(1)&gt;</td></tr></tbody></table>');
  });
  it('pads short rows to the header', () => {
    expect(toTsv({ header: ['a', 'b'], rows: [['1']] })).toBe('a\tb\n1\t');
  });
});
