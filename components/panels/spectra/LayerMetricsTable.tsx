'use client';
import { useRowKeys } from '@/components/charts/use-chart-keys';
import { memo, useMemo, useRef, useState } from 'react';
import { TableActions } from '@/components/ui/TableActions';
import { formatCell, SPECTRA_COLUMNS, spectraTextTable, type SpectraRow } from './spectra-columns';

/** Fixed row height (CSS .sp-table td) so only the rows in view need to exist in the DOM. */
const ROW_PX = 24;
/** Rows drawn above and below the visible ones, so fast scrolling never shows a gap. */
const OVERSCAN_ROWS = 12;
const VIEW_PX = 360;

/**
 * Every metric of every analyzable layer; sortable, filterable, rows coloured by WeightWatcher's
 * warning. Windowed: a model with thousands of layers still renders ~40 rows, which keeps each
 * streamed update a short main-thread task.
 */
export function LayerMetricsTable({ rows, selected, onSelect, model }: { rows: SpectraRow[]; selected: string | null; onSelect: (name: string) => void; model: string }) {
  const [text, setText] = useState('');
  const [kind, setKind] = useState('');
  const [block, setBlock] = useState('');
  const [sort, setSort] = useState<{ key: string; dir: 1 | -1 } | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const scrollFrame = useRef(0);
  const kinds = useMemo(() => [...new Set(rows.map((r) => r.layer.kind))].sort(), [rows]);
  const blocks = useMemo(() => [...new Set(rows.map((r) => r.layer.block).filter((b): b is number => b !== null))].sort((a, b) => a - b), [rows]);
  const shown = useMemo(() => {
    const q = text.trim().toLowerCase();
    const out = rows.filter(
      (r) =>
        (!q || r.layer.name.toLowerCase().includes(q)) &&
        (!kind || r.layer.kind === kind) &&
        (!block || (block === 'none' ? r.layer.block === null : String(r.layer.block) === block)),
    );
    if (sort) {
      const col = SPECTRA_COLUMNS.find((c) => c.key === sort.key)!;
      out.sort((a, b) => {
        const x = col.value(a);
        const y = col.value(b);
        // Missing values (pending layers, failed fits) always sink to the bottom.
        if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1;
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sort.dir;
      });
    }
    return out;
  }, [rows, text, kind, block, sort]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_PX) - OVERSCAN_ROWS);
  const last = Math.min(shown.length, Math.ceil((scrollTop + VIEW_PX) / ROW_PX) + OVERSCAN_ROWS);
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const names = useMemo(() => shown.map((r) => r.layer.name), [shown]);
  const keys = useRowKeys(names, selected, onSelect, scrollRef, (i) => {
    const el = scrollRef.current;
    if (!el) return;
    const top = i * ROW_PX;
    const head = ROW_PX; // the sticky header row
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_PX + head > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_PX + head - el.clientHeight;
    setScrollTop(el.scrollTop);
  });
  const toggle = (key: string, num: boolean) => setSort((s) => (s?.key === key ? { key, dir: s.dir === 1 ? -1 : 1 } : { key, dir: num ? -1 : 1 }));
  return (
    <section className="card sp-table-card">
      <div className="table-tools">
        <input type="search" placeholder="Filter layers by name…" value={text} onChange={(e) => setText(e.target.value)} data-testid="spectra-filter" aria-label="Filter layers by name" />
        <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="spectra-kind" aria-label="Filter by kind">
          <option value="">all kinds</option>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        {blocks.length > 0 && (
          <select value={block} onChange={(e) => setBlock(e.target.value)} data-testid="spectra-block" aria-label="Filter by block">
            <option value="">all blocks</option>
            <option value="none">no block</option>
            {blocks.map((b) => (
              <option key={b} value={String(b)}>
                block {b}
              </option>
            ))}
          </select>
        )}
        <span className="muted" data-testid="spectra-rows-shown" data-count={shown.length}>
          {shown.length} of {rows.length} layers
        </span>
        <TableActions table={(use) => spectraTextTable(shown, use === 'tsv')} title={`Layer metrics: ${model}`} testId="spectra-table-actions" />
        <span className="sp-legend-inline muted small">
          <span className="sp-swatch over" /> over-trained (α &lt; 2) <span className="sp-swatch under" /> under-trained (α &gt; 6)
        </span>
      </div>
      <div
        ref={scrollRef}
        className="table-scroll sp-table-scroll"
        style={{ maxHeight: VIEW_PX }}
        onScroll={(e) => {
          const el = e.currentTarget;
          cancelAnimationFrame(scrollFrame.current);
          scrollFrame.current = requestAnimationFrame(() => setScrollTop(el.scrollTop));
        }}
      >
        <table className="tensor-table sp-table" data-testid="spectra-table" aria-label="Layer metrics (arrow keys move the selection)">
          <thead>
            <tr>
              {SPECTRA_COLUMNS.map((c) => (
                <th key={c.key} className={c.num ? 'num' : undefined} title={c.title} aria-sort={sort?.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" onClick={() => toggle(c.key, c.num)} data-testid={`spectra-sort-${c.key}`}>
                    {c.label}
                    {sort?.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody onKeyDown={keys.onKeyDown}>
            {first > 0 && <tr style={{ height: first * ROW_PX }} aria-hidden />}
            {shown.slice(first, last).map((r) => (
              <SpectraTableRow key={r.layer.tensor.name} row={r} selected={r.layer.name === selected} onSelect={onSelect} tabIndex={keys.tabIndexOf(r.layer.name)} />
            ))}
            {last < shown.length && <tr style={{ height: (shown.length - last) * ROW_PX }} aria-hidden />}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/**
 * One row, memoised: while a model streams in, a batch of results re-renders only the rows whose
 * result arrived (rows keep their object identity otherwise), keeping the main thread's tasks short.
 */
const SpectraTableRow = memo(function SpectraTableRow({ row: r, selected, onSelect, tabIndex }: { row: SpectraRow; selected: boolean; onSelect: (name: string) => void; tabIndex: number }) {
  const s = r.result?.spectrum;
  const status = r.error || (s && !s.ok) ? 'error' : r.result ? 'done' : 'pending';
  const warning = s?.ok ? s.warning : '';
  const alpha = s?.ok && s.status === 'ok' ? s.alpha : undefined;
  return (
    <tr
      className={[selected ? 'selected' : '', warning === 'over-trained' ? 'sp-over' : warning === 'under-trained' ? 'sp-under' : '', status].join(' ')}
      onClick={() => onSelect(r.layer.name)}
      tabIndex={tabIndex}
      aria-selected={selected}
      data-testid="spectra-row"
      data-name={r.layer.name}
      data-status={status}
      data-alpha={alpha}
      data-farms-alpha={s?.ok ? s.farms?.alpha : undefined}
      data-warning={warning}
      title={r.error?.message ?? (s && !s.ok ? s.error.message : s?.ok && s.notes.length ? s.notes.join('; ') : undefined)}
    >
      {SPECTRA_COLUMNS.map((c) => {
        const v = c.value(r);
        return (
          <td key={c.key} className={c.key === 'name' ? 'name' : c.num ? 'num' : undefined}>
            {c.key === 'warning' && status === 'pending' ? <span className="muted">…</span> : formatCell(v, c.digits)}
          </td>
        );
      })}
    </tr>
  );
});
