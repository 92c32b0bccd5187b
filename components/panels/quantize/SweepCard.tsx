'use client';
import { JobProgress } from '../../ui/JobProgress';
import { TableActions } from '../../ui/TableActions';
import { useMemo, useState } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import type { SweepInput } from '@/lib/charts/quant/sweep-chart';
import type { Layer } from '@/lib/model/layer';
import type { SweepState } from '@/lib/state/quant-store';
import { SweepChart } from './SweepChart';
import { ExportModelButton } from '../../ui/ExportModelButton';
import { StoredMarker } from '../../ui/StoredResults';
import type { ModelRef, QuantSettings } from '@/lib/jobs/job-types';

/** Pooled whole-model error: Σ err² / Σ w² over every quantized weight (not a mean of per-layer ratios). */
export function pooledSqnr(sweep: SweepState): { sqnrDb: number; bpw: number; weights: number } | null {
  let err = 0;
  let sig = 0;
  let bits = 0;
  let weights = 0;
  for (const l of Object.values(sweep.layers)) {
    const n = l.rows * l.cols;
    const e = l.error.mse * n;
    err += e;
    sig += l.error.relFrobenius > 0 ? e / l.error.relFrobenius ** 2 : 0;
    bits += l.bits.total * n;
    weights += n;
  }
  if (weights === 0) return null;
  return { sqnrDb: err === 0 ? Infinity : -10 * Math.log10(err / sig), bpw: bits / weights, weights };
}

/** The whole-model sweep: every layer (matching a filter) quantized with the current settings. */
export function SweepCard({
  layers, sweep, selected, onSelect, onRun, onCancel, name, model, settings,
}: {
  model: ModelRef | null;
  settings: QuantSettings | undefined;
  layers: readonly Layer[];
  sweep: SweepState | undefined;
  selected: string | null;
  onSelect(n: string): void;
  onRun(layers: Layer[]): void;
  onCancel(): void;
  name: string;
}) {
  const [filter, setFilter] = useState('');
  const matching = useMemo(() => {
    try {
      const re = new RegExp(filter, 'i');
      return layers.filter((l) => re.test(l.name));
    } catch {
      return layers.filter((l) => l.name.includes(filter));
    }
  }, [layers, filter]);
  const input = useMemo<SweepInput[]>(
    () =>
      layers
        .filter((l) => sweep?.layers[l.tensor.name])
        .map((l) => {
          const r = sweep!.layers[l.tensor.name]!;
          return { name: l.name, order: l.id, sqnrDb: r.error.sqnrDb, rtnSqnrDb: r.rtnAtEqualBits?.error.sqnrDb ?? null, relFrobenius: r.error.relFrobenius };
        }),
    [layers, sweep],
  );
  const pooled = sweep ? pooledSqnr(sweep) : null;
  const errors = sweep ? Object.entries(sweep.errors) : [];
  return (
    <section className="card" data-testid="quant-sweep" data-status={sweep?.status ?? 'idle'} data-done={sweep?.done ?? 0} data-pooled-sqnr={pooled?.sqnrDb ?? ''} data-errors={errors.map(([t, e]) => `${t}: ${e.message}`).join('\n')}>
      <div className="card-head">
        <h4>Whole-model sweep</h4>
        {sweep?.status === 'done' && sweep.source === 'stored' && <StoredMarker count={sweep.done} of="layers" />}
        <input className="q-filter" placeholder="layer filter (regex)" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Layers to sweep" />
        {sweep?.status === 'running' ? (
          <JobProgress value={sweep.done} max={sweep.total} label={`${sweep.done}/${sweep.total}`} onCancel={onCancel} cancelTestId="quant-sweep-cancel" />
        ) : (
          <button type="button" className="btn btn-small" onClick={() => onRun(matching)} disabled={matching.length === 0} data-testid="quant-sweep-run">
            Quantize {matching.length} layer{matching.length === 1 ? '' : 's'}
          </button>
        )}
        <ExportModelButton job={model && settings ? { kind: 'export-quantized', model, settings, layers: filter || null } : null} label="Download packed + dequantized" testId="quant-export" />
        {pooled && (
          <span className="small">
            whole model: <b>{formatStat(pooled.sqnrDb)} dB</b> at {formatStat(pooled.bpw)} bpw
          </span>
        )}
      </div>
      {input.length > 0 && <SweepChart layers={input} overall={pooled?.sqnrDb ?? null} selected={selected} onSelect={onSelect} name={name} />}
      {sweep && input.length > 0 && (
        <div className="table-tools">
          <TableActions
            table={(use) => {
              const f = (v: number | null | undefined) => (v === null || v === undefined ? '' : use === 'tsv' ? String(v) : formatStat(v));
              return {
                header: ['layer', 'rows × cols', 'SQNR (dB)', 'rel. Frobenius', 'bits/weight', 'RTN bits', 'RTN SQNR (dB)'],
                numeric: [false, false, true, true, true, true, true],
                rows: [
                  ...layers
                    .filter((l) => sweep.layers[l.tensor.name])
                    .map((l) => {
                      const r = sweep.layers[l.tensor.name]!;
                      return [l.name, `${r.rows} × ${r.cols}`, f(r.error.sqnrDb), f(r.error.relFrobenius), f(r.bits.total), f(r.rtnAtEqualBits?.bits), f(r.rtnAtEqualBits?.error.sqnrDb)];
                    }),
                  ...(pooled ? [['whole model (pooled)', `${pooled.weights} weights`, f(pooled.sqnrDb), '', f(pooled.bpw), '', '']] : []),
                ],
              };
            }}
            title={`Whole-model sweep: ${name}`}
            testId="quant-sweep-table"
          />
        </div>
      )}
      {errors.length > 0 && (
        <details>
          <summary className="small">{errors.length} layer{errors.length === 1 ? '' : 's'} not quantized with these settings</summary>
          <ul className="small">
            {errors.map(([t, e]) => (
              <li key={t}>
                <span className="mono">{t}</span>: {e.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
