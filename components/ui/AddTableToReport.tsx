'use client';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { useReport } from '@/lib/state/report-store';
import { sanitizeTableHtml } from '../panels/report/sanitize-report';
import { useExportCaption } from './export-caption';

const ADDED_STATUS_MS = 2500;

/**
 * "+ Report" for a table: adds its rows (cleaned down to table/thead/tbody/tr/th/td and text) to
 * the report, captioned like an exported chart with the model, settings and page URL.
 */
export function AddTableToReport({ tableRef, getTable, title }: { tableRef?: RefObject<HTMLTableElement | null>; getTable?: () => string | null; title: string }) {
  const ctx = useExportCaption();
  const [status, setStatus] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  const onAdd = () => {
    // A windowed table has only the rows in view in the DOM: such tables hand over their data (getTable).
    const table = getTable ? getTable() : (tableRef?.current ?? null);
    if (!table) return;
    const html = sanitizeTableHtml(table);
    const caption = [[ctx?.model, ctx?.settings].filter(Boolean).join(' · '), window.location.href].filter(Boolean).join('\n');
    const err = html === null ? 'no table to add' : useReport.getState().add({ kind: 'table', title, caption, html });
    setStatus(err ?? 'Added to report');
    if (timer.current) clearTimeout(timer.current);
    if (!err) timer.current = setTimeout(() => setStatus((cur) => (cur === 'Added to report' ? '' : cur)), ADDED_STATUS_MS);
  };
  return (
    <>
      <button type="button" className="btn btn-small" onClick={onAdd} data-testid="table-add-report" aria-label={`Add the table “${title}” to the report`}>
        + Report
      </button>
      {status && (
        <span className="muted small" role="status" data-testid="table-report-status">
          {status}
        </span>
      )}
    </>
  );
}
