'use client';
import { useCallback, useEffect, useState } from 'react';
import { clearStored, onStoredChange, storedSummary, type StoredSummary } from '@/lib/state/result-cache';

function mb(bytes: number): string {
  const x = bytes / 2 ** 20;
  return x < 0.1 ? '< 0.1 MB' : `${x < 10 ? x.toFixed(1) : Math.round(x)} MB`;
}

/**
 * What this browser keeps of earlier analyses (IndexedDB), with buttons to clear it all or one
 * model's. Shown on the landing page; the header links to it from every view.
 */
export function StoredResults() {
  // undefined: still reading; null: storage unavailable.
  const [summary, setSummary] = useState<StoredSummary | null | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const refresh = useCallback(() => {
    void storedSummary().then(setSummary);
  }, []);
  useEffect(() => {
    refresh();
    return onStoredChange(refresh);
  }, [refresh]);
  const clear = (model?: string) => {
    setBusy(true);
    void clearStored(model).finally(() => {
      setBusy(false);
      refresh();
    });
  };

  let body;
  if (summary === undefined) body = <p className="muted small">Reading stored results…</p>;
  else if (summary === null) body = <p className="muted small">This browser does not allow storage here (IndexedDB unavailable), so results are computed each time.</p>;
  else if (summary.entries === 0) body = <p className="muted small">No stored results. Finished analyses are kept in this browser, so a reload shows them without recomputing.</p>;
  else {
    body = (
      <>
        <p className="small" data-testid="stored-results-total">
          {summary.entries} result{summary.entries === 1 ? '' : 's'} stored in this browser, about {mb(summary.bytes)}.{' '}
          <button type="button" className="btn btn-small" onClick={() => clear()} disabled={busy} data-testid="stored-results-clear" title="Clear every stored result, of every model">
            Clear stored results
          </button>
        </p>
        <ul className="small" aria-label="Stored results by model">
          {summary.models.map((m) => (
            <li key={m.model} data-testid="stored-results-model" data-model={m.model}>
              <span className="mono">{m.label}</span> <span className="muted">· {m.entries} result{m.entries === 1 ? '' : 's'} · {mb(m.bytes)}</span>{' '}
              <button type="button" className="btn btn-small" onClick={() => clear(m.model)} disabled={busy} aria-label={`Clear stored results of ${m.label}`}>
                Clear
              </button>
            </li>
          ))}
        </ul>
      </>
    );
  }
  return (
    <section className="card stored-results" id="stored-results" aria-labelledby="stored-results-title" data-testid="stored-results" data-entries={summary?.entries ?? ''} data-bytes={summary?.bytes ?? ''} data-available={summary === null ? '0' : '1'}>
      <h4 id="stored-results-title">Stored results</h4>
      {body}
    </section>
  );
}

/** Marks results shown from this browser's storage instead of computed now. */
export function StoredMarker({ count, of }: { count?: number; of?: string }) {
  return (
    <span className="badge stored-marker" data-testid="stored-marker" data-source="stored" data-count={count ?? ''} title="Computed earlier with the same model and settings and kept in this browser; clear it under Stored results on the Models page.">
      Restored from this browser’s storage{count !== undefined && of ? ` · ${count} ${of}` : ''}
    </span>
  );
}
