'use client';
import { useState } from 'react';
import { toHtmlTable, toMarkdown, toTsv, type TextTable } from '@/lib/charts/table-text';
import { AddTableToReport } from './AddTableToReport';

/**
 * Copy a table as Markdown or TSV, or add it to the report — built from the table's data (every
 * row the filters leave, not only those drawn), so windowed tables copy whole. `table` may give
 * TSV full precision (for a spreadsheet) and Markdown or the report the digits shown.
 */
export function TableActions({ table, title, testId }: { table: (use: 'markdown' | 'tsv' | 'report') => TextTable; title: string; testId: string }) {
  const [copied, setCopied] = useState('');
  const copy = (kind: 'md' | 'tsv') => {
    const t = table(kind === 'md' ? 'markdown' : 'tsv');
    const text = kind === 'md' ? toMarkdown(t) : toTsv(t);
    void navigator.clipboard?.writeText(text).then(
      () => setCopied(`${kind === 'md' ? 'Markdown' : 'TSV'} copied (${t.rows.length} rows)`),
      () => setCopied('copy refused by the browser'),
    );
  };
  return (
    <span className="table-actions" data-testid={testId}>
      <button type="button" className="btn btn-small" onClick={() => copy('md')} data-testid={`${testId}-md`}>
        Copy Markdown
      </button>
      <button type="button" className="btn btn-small" onClick={() => copy('tsv')} data-testid={`${testId}-tsv`}>
        Copy TSV
      </button>
      <AddTableToReport getTable={() => toHtmlTable(table('report'))} title={title} />
      {copied && (
        <span className="muted small" role="status">
          {copied}
        </span>
      )}
    </span>
  );
}
