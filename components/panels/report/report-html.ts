import type { ReportItem } from '@/lib/state/report-store';
import { sanitizeSvg, sanitizeTableHtml } from './sanitize-report';

/**
 * The report as one self-contained HTML file: inline CSS, each chart's SVG inline as markup (so
 * text stays selectable and searchable, and it prints as vectors), tables as plain markup, no
 * scripts. A Content-Security-Policy forbids every network load, so the file behaves the same
 * offline as online.
 */

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A file name from the report title: lower-case words joined by dashes. */
export function reportFileName(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '-')
    .slice(0, 80);
  return `${slug || 'report'}.html`;
}

const CSS = `
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1d2939;background:#fff;margin:0 auto;max-width:960px;padding:24px}
h1{font-size:22px;margin:0 0 4px}
.meta{color:#667085;font-size:12px;margin:0 0 20px}
.item{border:1px solid #e4e7ec;border-radius:8px;padding:14px 16px;margin:0 0 16px;break-inside:avoid;page-break-inside:avoid}
.item h2{font-size:16px;margin:0 0 4px}
.caption{color:#667085;font-size:11px;margin:0 0 10px;white-space:pre-wrap;overflow-wrap:anywhere}
figure{margin:0}
figure svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:12px}
th{text-align:left;font-weight:500;padding:2px 12px 2px 0;color:#667085;vertical-align:top}
td{padding:2px 16px 2px 0;font-variant-numeric:tabular-nums}
.note{margin:10px 0 0;white-space:pre-wrap;font-size:13px;border-left:3px solid #3b5bdb;padding-left:8px}
@media print{body{max-width:none;padding:0}.item{border:none;padding:0 0 12px}}
`;

/**
 * Gives every id inside one chart a per-item prefix: inline SVGs share the page's id space, and
 * two charts' clip paths with the same id would clip each other.
 */
function prefixIds(svg: string, prefix: string): string {
  const ids = new Set(Array.from(svg.matchAll(/\sid="([^"]+)"/g), (m) => m[1]!));
  if (ids.size === 0) return svg;
  let out = svg;
  for (const id of ids) {
    const e = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out
      .replace(new RegExp(`(\\sid=")${e}"`, 'g'), `$1${prefix}${id}"`)
      .replace(new RegExp(`url\\(\\s*(['"]?)#${e}\\1\\s*\\)`, 'g'), `url(#${prefix}${id})`)
      .replace(new RegExp(`(href=")#${e}"`, 'g'), `$1#${prefix}${id}"`);
  }
  return out;
}

function itemHtml(it: ReportItem, i: number): string {
  let body = '';
  if (it.kind === 'chart' && it.svg) {
    const svg = sanitizeSvg(it.svg);
    // The XML prolog and namespace declarations are harmless inline; the markup is used as is.
    body = svg ? prefixIds(svg, `r${i}-`) : '<p>(this chart could not be read)</p>';
  } else if (it.kind === 'table' && it.html) {
    body = sanitizeTableHtml(it.html) ?? '<p>(this table could not be read)</p>';
  }
  return [
    `<section class="item">`,
    `<h2>${esc(it.title)}</h2>`,
    it.caption ? `<p class="caption">${esc(it.caption)}</p>` : '',
    `<figure>${body}</figure>`,
    it.note.trim() ? `<p class="note">${esc(it.note)}</p>` : '',
    `</section>`,
  ].join('\n');
}

export function buildReportHtml(title: string, items: readonly ReportItem[], now: Date): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="WeightLens">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">${items.length} item${items.length === 1 ? '' : 's'} · exported from WeightLens on ${esc(now.toISOString().slice(0, 16).replace('T', ' '))} UTC</p>
${items.map(itemHtml).join('\n')}
</body>
</html>
`;
}
