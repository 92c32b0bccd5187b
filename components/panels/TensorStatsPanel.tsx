'use client';
import { formatCount, formatShape, formatStat } from '@/lib/charts/format-number';
import { useStats } from '@/lib/state/stats-store';
import { HistogramChart } from '../charts/HistogramChart';

export function TensorStatsPanel({ modelId }: { modelId: string }) {
  const s = useStats();
  if (s.modelId !== modelId || !s.tensor) {
    return (
      <aside className="card stats-panel" data-testid="stats-panel" data-status="idle">
        <h3>Tensor statistics</h3>
        <p className="muted">Click a tensor in the table to compute min, max, mean, std, zeros, NaN/Inf counts and a histogram — on WebGPU when available, else on the CPU.</p>
      </aside>
    );
  }
  const r = s.result;
  const pct = s.progress && s.progress.total > 0 ? Math.round((100 * s.progress.done) / s.progress.total) : 0;
  return (
    <aside className="card stats-panel" data-testid="stats-panel" data-status={s.status} data-tensor={s.tensor}>
      <div className="card-head">
        <h3 className="stats-title" title={s.tensor}>
          {s.tensor}
        </h3>
        {s.backend && (
          <span className={`badge backend-${s.backend}`} data-testid="stats-backend" data-backend={s.backend} title={r?.adapter ?? 'CPU twin (lib/math/tensor-stats.ts)'}>
            {s.backend === 'webgpu' ? 'WebGPU' : 'CPU'}
          </span>
        )}
      </div>
      {s.status === 'running' && (
        <div className="progress" data-testid="stats-progress">
          <div className="progress-bar" style={{ width: `${pct}%` }} />
          <span className="muted">{s.progress?.label ?? 'starting'}…</span>
        </div>
      )}
      {s.status === 'running' && s.partial && (
        <dl className="stats-grid" data-testid="stats-partial">
          <Stat label="min" value={formatStat(s.partial.min)} id="partial-min" />
          <Stat label="max" value={formatStat(s.partial.max)} id="partial-max" />
          <Stat label="mean" value={formatStat(s.partial.mean)} id="partial-mean" />
        </dl>
      )}
      {s.status === 'error' && s.error && (
        <p className="error-message" data-testid="stats-error">
          {s.error.message}
        </p>
      )}
      {r && (
        <>
          <p className="muted mono">
            {formatShape(r.shape)} · {r.dtype} · {formatCount(r.count)} values{r.adapter ? ` · ${r.adapter}` : ''}
          </p>
          <dl className="stats-grid" data-testid="stats-values">
            <Stat label="min" value={formatStat(r.min)} id="min" />
            <Stat label="max" value={formatStat(r.max)} id="max" />
            <Stat label="mean" value={formatStat(r.mean)} id="mean" />
            <Stat label="std" value={formatStat(r.std)} id="std" />
            <Stat label="zeros" value={`${(100 * r.zeroFraction).toFixed(2)}%`} id="zeros" />
            <Stat label="NaN" value={String(r.nan)} id="nan" warn={r.nan > 0} />
            <Stat label="+Inf / −Inf" value={`${r.posInf} / ${r.negInf}`} id="inf" warn={r.posInf + r.negInf > 0} />
          </dl>
          {r.finite > 0 && <HistogramChart counts={r.histogram} lo={r.min} hi={r.max} name={r.tensor.replace(/[^\w.-]+/g, '_')} />}
        </>
      )}
    </aside>
  );
}

function Stat({ label, value, id, warn }: { label: string; value: string; id: string; warn?: boolean }) {
  return (
    <div className={warn ? 'warn' : undefined}>
      <dt>{label}</dt>
      <dd data-testid={`stat-${id}`}>{value}</dd>
    </div>
  );
}
