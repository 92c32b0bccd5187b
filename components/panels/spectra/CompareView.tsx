'use client';
import { useChartKeys, useRowKeys } from '@/components/charts/use-chart-keys';
import { TableActions } from '@/components/ui/TableActions';
import { useMemo, useRef, useState } from 'react';
import type { EsdMode, EsdSeriesInput } from '@/lib/charts/spectra/esd-chart';
import type { LayerSpectrumOk } from '@/lib/jobs/job-types';
import type { SpectraRun } from '@/lib/state/spectra-store';
import { EsdChart } from '../../charts/EsdChart';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';
import type { MatchedLayer } from './match-layers';

/**
 * Two models side by side (?compare=…): α_B − α_A per matched layer as bars, a table of metric
 * deltas, and the selected layer's ESD of both models on one chart. The selection is the view's
 * `layer` parameter, shared with the metrics table and the layer detail.
 */

type Metric = 'alpha' | 'alpha_weighted' | 'log_norm' | 'stable_rank' | 'lambda_max' | 'farms_alpha';
const METRICS: { key: Metric; label: string }[] = [
  { key: 'alpha', label: 'α' },
  { key: 'alpha_weighted', label: 'α̂ (weighted)' },
  { key: 'log_norm', label: 'log norm' },
  { key: 'stable_rank', label: 'stable rank' },
  { key: 'lambda_max', label: 'λmax' },
  { key: 'farms_alpha', label: 'FARMS α' },
];

function okSpectrum(run: SpectraRun | undefined, tensor: string): LayerSpectrumOk | null {
  const s = run?.results[tensor]?.spectrum;
  return s?.ok ? s : null;
}

function metric(s: LayerSpectrumOk | null, k: Metric): number | null {
  if (!s) return null;
  if (k === 'farms_alpha') return s.farms ? s.farms.alpha : null;
  // A failed power-law fit has no α (nor α̂, which is built from it).
  if ((k === 'alpha' || k === 'alpha_weighted') && s.status !== 'ok') return null;
  const v = s[k];
  return Number.isFinite(v) ? v : null;
}

const fmt = (v: number | null) => (v === null ? '—' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(3));
const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);

interface CompareRow {
  m: MatchedLayer;
  a: LayerSpectrumOk | null;
  b: LayerSpectrumOk | null;
  dAlpha: number | null;
}

/** EsdChart spaces its legend entries 170 px apart: a model's label there loses its extension and is capped. */
const legendLabel = (label: string) => {
  const base = label.replace(/\.[A-Za-z0-9]+$/, '');
  return base.length > 14 ? `${base.slice(0, 13)}…` : base;
};

const BAR_H = 220;
const PAD = { l: 48, r: 12, t: 12, b: 28 };

export function CompareView({
  matched,
  runA,
  runB,
  labelA,
  labelB,
  selected,
  onSelect,
  esd,
  onEsd,
  name,
}: {
  matched: MatchedLayer[];
  runA: SpectraRun | undefined;
  runB: SpectraRun | undefined;
  labelA: string;
  labelB: string;
  selected: string | null;
  onSelect: (layer: string) => void;
  esd: EsdMode;
  onEsd: (m: EsdMode) => void;
  name: string;
}) {
  const [sortByDelta, setSortByDelta] = useState(false);
  const rows = useMemo<CompareRow[]>(
    () =>
      matched.map((m) => {
        const a = okSpectrum(runA, m.a.tensor.name);
        const b = okSpectrum(runB, m.b.tensor.name);
        return { m, a, b, dAlpha: delta(metric(a, 'alpha'), metric(b, 'alpha')) };
      }),
    [matched, runA, runB],
  );
  const shown = useMemo(
    () => (sortByDelta ? [...rows].sort((x, y) => (y.dAlpha === null ? -1 : x.dAlpha === null ? 1 : Math.abs(y.dAlpha) - Math.abs(x.dAlpha))) : rows),
    [rows, sortByDelta],
  );
  const sel = rows.find((r) => r.m.a.name === selected);
  const tableRef = useRef<HTMLDivElement | null>(null);
  const keys = useRowKeys(useMemo(() => shown.map((r) => r.m.a.name), [shown]), selected, onSelect, tableRef);
  const textTable = (exact: boolean) => ({
    header: ['layer', ...METRICS.flatMap((c) => [`${c.label} A`, `${c.label} B`, `${c.label} B−A`])],
    numeric: [false, ...METRICS.flatMap(() => [true, true, true])],
    rows: shown.map((r) => [
      r.m.a.name,
      ...METRICS.flatMap((c) => {
        const a = metric(r.a, c.key);
        const b = metric(r.b, c.key);
        return [a, b, delta(a, b)].map((v) => (exact ? (v === null || v === undefined ? '' : String(v)) : fmt(v)));
      }),
    ]),
  });

  return (
    <section className="card sp-compare" data-testid="compare-view" data-status-a={runA?.status ?? 'idle'} data-status-b={runB?.status ?? 'idle'} data-matched={matched.length}>
      <div className="card-head">
        <h4>
          Comparison · A {labelA} vs B {labelB}
        </h4>
        <span className="muted small">
          {matched.length} layer{matched.length === 1 ? '' : 's'} matched by tensor name and shape · B: {runB ? `${Object.keys(runB.results).length}/${runB.tensors.length} ${runB.status}` : 'waiting for A'}
        </span>
      </div>
      <AlphaDeltaChart rows={rows} selected={selected} onSelect={onSelect} name={`${name}-alpha-delta`} />
      <div className="table-tools">
        <TableActions table={(use) => textTable(use === 'tsv')} title={`Metric deltas: B ${labelB} − A ${labelA}`} testId="compare-table-actions" />
      </div>
      <div className="table-scroll" style={{ maxHeight: 360 }} ref={tableRef}>
        <table className="sp-table" data-testid="compare-table" aria-label="Metrics of A and B per layer (arrow keys move the selection)">
          <thead>
            <tr>
              <th>layer</th>
              {METRICS.map((c) => (
                <th key={c.key} colSpan={3}>
                  {c.label}
                </th>
              ))}
            </tr>
            <tr>
              <th>
                <button type="button" className="link" onClick={() => setSortByDelta((v) => !v)} data-testid="compare-sort-dalpha" aria-pressed={sortByDelta}>
                  {sortByDelta ? 'sorted by |Δα| ▾' : 'sort by |Δα|'}
                </button>
              </th>
              {METRICS.map((c) => ['A', 'B', 'B−A'].map((h) => <th key={`${c.key}-${h}`}>{h}</th>))}
            </tr>
          </thead>
          <tbody onKeyDown={keys.onKeyDown}>
            {shown.map((r) => (
              <tr
                key={r.m.a.tensor.name}
                className={r.m.a.name === selected ? 'selected' : undefined}
                onClick={() => onSelect(r.m.a.name)}
                tabIndex={keys.tabIndexOf(r.m.a.name)}
                aria-selected={r.m.a.name === selected}
                data-testid="compare-row"
                data-name={r.m.a.name}
                data-tensor={r.m.a.tensor.name}
                data-alpha-a={metric(r.a, 'alpha') ?? undefined}
                data-alpha-b={metric(r.b, 'alpha') ?? undefined}
                data-dalpha={r.dAlpha ?? undefined}
              >
                <td className="mono">{r.m.a.name}</td>
                {METRICS.map((c) => {
                  const a = metric(r.a, c.key);
                  const b = metric(r.b, c.key);
                  return [a, b, delta(a, b)].map((v, i) => (
                    <td key={`${c.key}-${i}`} className="num">
                      {fmt(v)}
                    </td>
                  ));
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sel && <CompareEsd row={sel} labelA={labelA} labelB={labelB} esd={esd} onEsd={onEsd} name={`${name}-${sel.m.a.name.replace(/[^\w.-]+/g, '_')}`} />}
    </section>
  );
}

/** Bars of α_B − α_A in layer order; a click selects the layer. */
function AlphaDeltaChart({ rows, selected, onSelect, name }: { rows: CompareRow[]; selected: string | null; onSelect: (layer: string) => void; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(640);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const known = rows.map((r) => r.dAlpha).filter((d): d is number => d !== null);
  const ext = Math.max(0.1, ...known.map(Math.abs));
  const x0 = PAD.l;
  const x1 = Math.max(x0 + 10, width - PAD.r);
  const y = (v: number) => PAD.t + ((ext - v) / (2 * ext)) * (BAR_H - PAD.t - PAD.b);
  const band = (x1 - x0) / Math.max(1, rows.length);
  const keys = useChartKeys({
    names: rows.map((r) => r.m.a.name),
    selected,
    onSelect,
    describe: (n) => {
      const d = rows.find((r) => r.m.a.name === n)?.dAlpha;
      return `${n}: Δα ${d === null || d === undefined ? 'pending' : d.toFixed(3)}`;
    },
  });
  return (
    <div className="sp-chart" data-testid="compare-alpha-delta">
      <div className="card-head">
        <h4>α difference per layer (B − A)</h4>
        <ExportButtons svgRef={svgRef} name={name} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={width} height={BAR_H} role="img" aria-label="α difference per layer; arrow keys select a layer" className="sp-svg" {...keys.props}>
          <line x1={x0} x2={x1} y1={y(0)} y2={y(0)} className="axis" />
          <line x1={x0} x2={x0} y1={PAD.t} y2={BAR_H - PAD.b} className="axis" />
          {[ext, 0, -ext].map((v) => (
            <text key={v} x={x0 - 4} y={y(v) + 3} textAnchor="end" className="tick">
              {v.toFixed(2)}
            </text>
          ))}
          {rows.map((r, i) => {
            const d = r.dAlpha;
            const top = d === null ? y(0) : Math.min(y(0), y(d));
            const h = d === null ? 0 : Math.abs(y(d) - y(0));
            const isSel = r.m.a.name === selected;
            return (
              <rect
                key={r.m.a.tensor.name}
                x={x0 + i * band + band * 0.15}
                y={top}
                width={Math.max(1, band * 0.7)}
                height={Math.max(1, h)}
                style={{ fill: d === null ? 'var(--chart-missing)' : d >= 0 ? 'var(--c-pos)' : 'var(--c-neg)', stroke: isSel ? 'var(--chart-select)' : 'none', cursor: 'pointer' }}
                strokeWidth={isSel ? 2 : 0}
                onClick={() => onSelect(r.m.a.name)}
                data-testid="compare-bar"
                data-name={r.m.a.name}
                data-dalpha={d ?? undefined}
              >
                <title>{`${r.m.a.name}: Δα = ${d === null ? 'pending' : d.toFixed(3)}`}</title>
              </rect>
            );
          })}
          <text x={(x0 + x1) / 2} y={BAR_H - 6} textAnchor="middle" className="label">
            layers in model order
          </text>
        </svg>
        {keys.live}
      </div>
    </div>
  );
}

/** The selected layer's ESD of both models on one chart (EsdChart's two series styles, one per model). */
function CompareEsd({ row, labelA, labelB, esd, onEsd, name }: { row: CompareRow; labelA: string; labelB: string; esd: EsdMode; onEsd: (m: EsdMode) => void; name: string }) {
  const series = useMemo<EsdSeriesInput[]>(() => {
    const out: EsdSeriesInput[] = [];
    // The 'raw' and 'farms' keys carry EsdChart's two colour classes.
    if (row.a) out.push({ key: 'raw', label: `A ${legendLabel(labelA)}`, evals: row.a.evals, fit: row.a.status === 'ok' ? { alpha: row.a.alpha, xmin: row.a.xmin } : null });
    if (row.b) out.push({ key: 'farms', label: `B ${legendLabel(labelB)}`, evals: row.b.evals, fit: row.b.status === 'ok' ? { alpha: row.b.alpha, xmin: row.b.xmin } : null });
    return out;
  }, [row.a, row.b, labelA, labelB]);
  if (series.length === 0) return <p className="muted">Waiting for {row.m.a.name} in both models…</p>;
  return (
    <div data-testid="compare-esd" data-layer={row.m.a.name} data-series={series.length}>
      <EsdChart series={series} mp={null} mode={esd} onMode={onEsd} name={`${name}-esd-compare`} layer={row.m.a.name} height={360} />
    </div>
  );
}
