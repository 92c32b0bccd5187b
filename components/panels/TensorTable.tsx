'use client';
import { useMemo, useRef, useState } from 'react';
import { useRowKeys } from '@/components/charts/use-chart-keys';
import { formatBytes, formatCount, formatShape } from '@/lib/charts/format-number';
import type { TensorInfo } from '@/lib/formats/types';
import type { Layer } from '@/lib/model';
import { tensorParams } from '@/lib/model';

/** Rows drawn at once; the filter narrows big models (10^5 tensors) to what matters. */
const MAX_ROWS = 1000;

interface Row {
  t: TensorInfo;
  params: number;
  layer?: Layer;
}

type SortKey = 'name' | 'shape' | 'dtype' | 'params' | 'kind' | 'N' | 'M' | 'rf' | 'Q' | 'block' | 'status';

const COLUMNS: { key: SortKey; label: string; num?: boolean; title?: string }[] = [
  { key: 'name', label: 'Tensor' },
  { key: 'shape', label: 'Shape' },
  { key: 'dtype', label: 'DType' },
  { key: 'params', label: 'Params', num: true },
  { key: 'kind', label: 'Kind' },
  { key: 'N', label: 'N', num: true, title: 'rows of each slice matrix (N ≥ M)' },
  { key: 'M', label: 'M', num: true, title: 'columns of each slice matrix' },
  { key: 'rf', label: 'rf', num: true, title: 'receptive field: slice matrices per layer' },
  { key: 'Q', label: 'Q', num: true, title: 'aspect ratio N / M' },
  { key: 'block', label: 'Block', num: true },
  { key: 'status', label: 'Analysis' },
];

function sortValue(r: Row, k: SortKey): number | string {
  const l = r.layer;
  switch (k) {
    case 'name':
      return r.t.name;
    case 'shape':
      return r.t.shape.length * 1e15 + r.params;
    case 'dtype':
      return r.t.dtype;
    case 'params':
      return r.params;
    case 'kind':
      return l?.kind ?? '';
    case 'N':
      return l?.N ?? -1;
    case 'M':
      return l?.M ?? -1;
    case 'rf':
      return l?.rf ?? -1;
    case 'Q':
      return l?.Q ?? -1;
    case 'block':
      return l?.block ?? -1;
    case 'status':
      return l ? (l.analyzable ? 'analyzable' : `skip ${l.skipReason ?? ''}`) : '';
  }
}

export function TensorTable({
  tensors,
  layers,
  selected,
  onSelect,
  pathFilter,
  onClearPath,
}: {
  tensors: TensorInfo[];
  layers: Layer[];
  selected: string | null;
  onSelect: (name: string) => void;
  pathFilter: string;
  onClearPath: () => void;
}) {
  const [text, setText] = useState('');
  const [layersOnly, setLayersOnly] = useState(false);
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'name', dir: 1 });
  const rows = useMemo<Row[]>(() => {
    const byTensor = new Map(layers.map((l) => [l.tensor.name, l]));
    return tensors.map((t, i) => ({ t, params: tensorParams(t.shape), layer: byTensor.get(t.name), i }));
  }, [tensors, layers]);
  const shown = useMemo(() => {
    const q = text.trim().toLowerCase();
    const pathRe = pathFilter ? new RegExp(`^${pathFilter.split('.').map(escapeRe).join('[./]')}([./]|$)`) : null;
    const filtered = rows.filter(
      (r) =>
        (!q || r.t.name.toLowerCase().includes(q) || r.t.dtype.toLowerCase() === q || r.layer?.kind === q) &&
        (!layersOnly || r.layer !== undefined) &&
        (!pathRe || pathRe.test(r.t.name.replace(/^\//, ''))),
    );
    if (sort.key !== 'name' || sort.dir !== 1) {
      filtered.sort((a, b) => {
        const x = sortValue(a, sort.key);
        const y = sortValue(b, sort.key);
  return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sort.dir;
      });
    }
    return filtered;
  }, [rows, text, layersOnly, sort, pathFilter]);
  const toggleSort = (key: SortKey) => setSort((s) => ({ key, dir: s.key === key ? (s.dir === 1 ? -1 : 1) : COLUMNS.find((c) => c.key === key)?.num ? -1 : 1 }));
  const analyzable = layers.filter((l) => l.analyzable).length;
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const names = useMemo(() => shown.slice(0, MAX_ROWS).map((r) => r.t.name), [shown]);
  const keys = useRowKeys(names, selected, onSelect, scrollRef);

  return (
    <section className="card tensor-table-card">
      <div className="card-head">
        <h3>Tensors and layers</h3>
        <span className="muted" data-testid="tensor-count" data-count={tensors.length} data-layers={layers.length}>
          {tensors.length} tensors · {layers.length} layers · {analyzable} analyzable
        </span>
      </div>
      <div className="table-tools">
        <input type="search" placeholder="Filter by name, dtype or kind…" value={text} onChange={(e) => setText(e.target.value)} data-testid="tensor-filter" aria-label="Filter tensors" />
        <label className="toggle small">
          <input type="checkbox" checked={layersOnly} onChange={(e) => setLayersOnly(e.target.checked)} data-testid="layers-only" />
          <span>layers only</span>
        </label>
        {pathFilter && (
          <button type="button" className="chip" onClick={onClearPath} data-testid="path-filter">
            in {pathFilter} ×
          </button>
        )}
        <span className="muted" data-testid="rows-shown" data-count={shown.length}>
          {shown.length > MAX_ROWS ? `first ${MAX_ROWS} of ${shown.length}` : `${shown.length} shown`}
        </span>
      </div>
      <div className="table-scroll" ref={scrollRef}>
        <table className="tensor-table" data-testid="tensor-table" aria-label="Tensors (arrow keys move the selection)">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} className={c.num ? 'num' : undefined} title={c.title} aria-sort={sort.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" onClick={() => toggleSort(c.key)} data-testid={`sort-${c.key}`}>
                    {c.label}
                    {sort.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody onKeyDown={keys.onKeyDown}>
            {shown.slice(0, MAX_ROWS).map((r) => {
              const l = r.layer;
              return (
                <tr
                  key={r.t.name}
                  className={r.t.name === selected ? 'selected' : undefined}
                  onClick={() => onSelect(r.t.name)}
                  tabIndex={keys.tabIndexOf(r.t.name)}
                  aria-selected={r.t.name === selected}
                  data-testid="tensor-row"
                  data-name={r.t.name}
                  title={r.t.note}
                >
                  <td className="name">{r.t.name}</td>
                  <td className="mono">{formatShape(r.t.shape)}</td>
                  <td className="mono">{r.t.dtype}</td>
                  <td className="num" title={formatBytes(r.t.byteLength)}>
                    {formatCount(r.params)}
                  </td>
                  <td>{l?.kind ?? ''}</td>
                  <td className="num">{l?.N ?? ''}</td>
                  <td className="num">{l?.M ?? ''}</td>
                  <td className="num">{l?.rf ?? ''}</td>
                  <td className="num">{l ? l.Q.toFixed(2) : ''}</td>
                  <td className="num">{l?.block ?? ''}</td>
                  <td className={l ? (l.analyzable ? 'ok' : 'skip') : 'muted'}>{l ? (l.analyzable ? 'analyzable' : (l.skipReason ?? 'skipped')) : r.t.decodable ? '' : (r.t.note ?? 'not decodable')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
