/**
 * A table as text for pasting elsewhere: GitHub-flavoured Markdown (pipes escaped, line breaks
 * turned into spaces) or tab-separated values (tabs and line breaks turned into spaces), and as
 * minimal HTML (text escaped) for the report.
 */

export interface TextTable {
  header: readonly string[];
  rows: readonly (readonly string[])[];
  /** Columns holding numbers: right-aligned in Markdown and HTML. */
  numeric?: readonly boolean[];
}

const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');

export function toMarkdown(t: TextTable): string {
  const cell = (s: string) => oneLine(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
  const line = (cells: readonly string[]) => `| ${t.header.map((_, i) => cell(cells[i] ?? '')).join(' | ')} |`;
  const rule = `| ${t.header.map((_, i) => (t.numeric?.[i] ? '---:' : '---')).join(' | ')} |`;
  return [line(t.header), rule, ...t.rows.map(line)].join('\n');
}

export function toTsv(t: TextTable): string {
  return [t.header, ...t.rows].map((r) => t.header.map((_, i) => oneLine(r[i] ?? '')).join('\t')).join('\n');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function toHtmlTable(t: TextTable): string {
  const cls = (i: number) => (t.numeric?.[i] ? ' class="num"' : '');
  const head = `<thead><tr>${t.header.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('')}</tr></thead>`;
  const body = `<tbody>${t.rows.map((r) => `<tr>${t.header.map((_, i) => `<td${cls(i)}>${escapeHtml(r[i] ?? '')}</td>`).join('')}</tr>`).join('')}</tbody>`;
  return `<table>${head}${body}</table>`;
}
