/** Plain-text helpers for the CLI's tables: human numbers and left/right-aligned columns. */

export function fmtCount(n: number): string {
  if (n < 1e3) return String(n);
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [v, u] of units) if (n >= v) return `${(n / v).toFixed(n / v >= 100 ? 0 : n / v >= 10 ? 1 : 2)}${u}`;
  return String(n);
}

export function fmtSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units: [number, string][] = [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']];
  for (const [v, u] of units) if (bytes >= v) return `${(bytes / v).toFixed(bytes / v >= 100 ? 0 : 1)} ${u}`;
  return `${bytes} B`;
}

/** Columns whose header starts with '>' are right-aligned (numbers). */
export function table(headers: string[], rows: string[][], indent = '  '): string {
  const right = headers.map((h) => h.startsWith('>'));
  const head = headers.map((h) => h.replace(/^>/, ''));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => {
        const last = i === cells.length - 1;
        if (right[i]) return c.padStart(widths[i]!);
        return last ? c : c.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** A number for a table cell: 4 significant digits, exponent form when very large or small. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** RFC 4180 CSV: full-precision numbers, empty cells for null, quotes only where needed. */
export function csv(headers: readonly string[], rows: readonly (readonly (number | string | null)[])[]): string {
  const cell = (v: number | string | null) => {
    if (v === null) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [headers.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}
