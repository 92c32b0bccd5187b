'use client';
import Link from 'next/link';
import { useEffect, useMemo, useState } from 'react';
import { useReport, watchReportStorage, type ReportItem } from '@/lib/state/report-store';
import { buildReportHtml, reportFileName } from './report-html';
import { sanitizeSvg, sanitizeTableHtml, svgDataUrl } from './sanitize-report';

/**
 * Charts are shown as <img src="data:image/svg+xml;base64,…">: an image is sandboxed (no script
 * runs, no style leaks in or out, ids of different charts cannot collide) and renders the same
 * file a user downloads with SVG. The exported HTML inlines the markup instead (report-html.ts).
 */
function ChartFigure({ item }: { item: ReportItem }) {
  const src = useMemo(() => {
    const svg = item.svg ? sanitizeSvg(item.svg) : null;
    return svg ? svgDataUrl(svg) : null;
  }, [item.svg]);
  if (!src) return <p className="muted">This chart could not be read.</p>;
  return <img className="report-chart" src={src} alt={item.title} data-testid="report-chart" />;
}

function TableFigure({ item }: { item: ReportItem }) {
  // Cleaned again on the way out: what is in localStorage is not trusted.
  const html = useMemo(() => (item.html ? sanitizeTableHtml(item.html) : null), [item.html]);
  if (!html) return <p className="muted">This table could not be read.</p>;
  return <div className="report-table" data-testid="report-table" dangerouslySetInnerHTML={{ __html: html }} />;
}

function ItemCard({ item, index, count }: { item: ReportItem; index: number; count: number }) {
  const { move, remove, setNote } = useReport.getState();
  return (
    <li className="card report-item" data-testid="report-item" data-kind={item.kind} data-id={item.id}>
      <div className="card-head">
        <h3 className="report-item-title">{item.title}</h3>
        <div className="report-item-actions no-print">
          <button type="button" className="btn btn-small" onClick={() => move(item.id, -1)} disabled={index === 0} aria-label={`Up: move “${item.title}” earlier`} data-testid="report-up">
            <span aria-hidden>↑</span> Up
          </button>
          <button type="button" className="btn btn-small" onClick={() => move(item.id, 1)} disabled={index === count - 1} aria-label={`Down: move “${item.title}” later`} data-testid="report-down">
            <span aria-hidden>↓</span> Down
          </button>
          <button type="button" className="btn btn-small" onClick={() => remove(item.id)} aria-label={`Remove “${item.title}” from the report`} data-testid="report-remove">
            Remove
          </button>
        </div>
      </div>
      {item.caption && <p className="report-caption muted">{item.caption}</p>}
      <figure className="report-figure">{item.kind === 'chart' ? <ChartFigure item={item} /> : <TableFigure item={item} />}</figure>
      <label className="report-note-edit no-print">
        <span className="muted small">Note</span>
        <textarea value={item.note} onChange={(e) => setNote(item.id, e.target.value)} rows={2} placeholder="What this shows, for the reader" aria-label={`Note for “${item.title}”`} data-testid="report-note" />
      </label>
      {item.note.trim() && <p className="report-note-print print-only">{item.note}</p>}
    </li>
  );
}

/** The report page: the collected items in order, with notes, reordering, HTML export and print. */
export function ReportView() {
  const { title, items, loaded } = useReport();
  const [confirmClear, setConfirmClear] = useState(false);
  const [message, setMessage] = useState('');
  useEffect(() => {
    useReport.getState().load();
    return watchReportStorage();
  }, []);

  const onExport = () => {
    const html = buildReportHtml(title, items, new Date());
    const url = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = reportFileName(title);
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    setMessage(`Saved ${a.download}`);
  };

  return (
    <div className="report-view" data-testid="report-view" data-loaded={loaded ? '1' : '0'} data-count={items.length}>
      <div className="report-toolbar no-print">
        <label className="report-title-edit">
          <span className="muted small">Report title</span>
          <input type="text" value={title} onChange={(e) => useReport.getState().setTitle(e.target.value)} data-testid="report-title" />
        </label>
        <button type="button" className="btn btn-primary" onClick={onExport} disabled={items.length === 0} data-testid="report-export-html" title="Export the report as one self-contained HTML file">
          Export HTML
        </button>
        <button type="button" className="btn" onClick={() => window.print()} disabled={items.length === 0} data-testid="report-print" title="Print the report or save it as PDF">
          Print / PDF
        </button>
        {confirmClear ? (
          <>
            <button
              type="button"
              className="btn"
              onClick={() => {
                useReport.getState().clear();
                setConfirmClear(false);
              }}
              data-testid="report-clear-confirm"
            >
              Remove all {items.length}
            </button>
            <button type="button" className="btn" onClick={() => setConfirmClear(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" className="btn" onClick={() => setConfirmClear(true)} disabled={items.length === 0} data-testid="report-clear">
            Clear all
          </button>
        )}
        {message && (
          <span className="muted small" role="status">
            {message}
          </span>
        )}
      </div>
      <h1 className="report-heading">{title}</h1>
      {loaded && items.length === 0 && (
        <div className="card report-empty" data-testid="report-empty">
          <p>The report is empty.</p>
          <p className="muted">
            Every chart has a <b>+ Report</b> button next to SVG, PNG and Copy, and tables such as the quantization settings have one too. Add what you want to show in{' '}
            <Link href="/spectra">Spectra</Link>, <Link href="/quantize">Quantize</Link>, <Link href="/prune">Prune</Link> or <Link href="/merge">Merge</Link>; it is
            kept in this browser until you remove it. Then come back here to write notes, reorder, export one HTML file or print to PDF.
          </p>
        </div>
      )}
      <ol className="report-items" data-testid="report-items">
        {items.map((it, i) => (
          <ItemCard key={it.id} item={it} index={i} count={items.length} />
        ))}
      </ol>
    </div>
  );
}
