import { formatBytes, formatCount } from '@/lib/charts/format-number';
import type { ModelSummary } from '@/lib/model';

export function ModelSummaryPanel({ summary, name, source }: { summary: ModelSummary; name: string; source?: string }) {
  const totalBytes = summary.tensorBytes || 1;
  return (
    <section className="summary" data-testid="model-summary">
      <div className="summary-title">
        <h2 title={source ?? name}>{name}</h2>
        <span className="badge" data-testid="model-format">
          {summary.format}
        </span>
      </div>
      <dl className="summary-grid">
        <div>
          <dt>Parameters</dt>
          <dd data-testid="summary-params">{formatCount(summary.params)}</dd>
        </div>
        <div>
          <dt>Tensors</dt>
          <dd data-testid="summary-tensors">{summary.tensors.toLocaleString('en-US')}</dd>
        </div>
        <div>
          <dt>Layers (analyzable)</dt>
          <dd data-testid="summary-layers">
            {summary.layers} ({summary.analyzable})
          </dd>
        </div>
        <div>
          <dt>Tensor bytes</dt>
          <dd>{formatBytes(summary.tensorBytes)}</dd>
        </div>
        {summary.fileBytes !== undefined && (
          <div>
            <dt>File size</dt>
            <dd>{formatBytes(summary.fileBytes)}</dd>
          </div>
        )}
      </dl>
      <div className="dtype-mix" data-testid="dtype-mix">
        <div className="dtype-bar">
          {summary.dtypes.map((d, i) => (
            <span key={d.dtype} className={`dtype-seg c${i % 6}`} style={{ width: `${(100 * d.bytes) / totalBytes}%` }} title={`${d.dtype}: ${formatBytes(d.bytes)}`} />
          ))}
        </div>
        <ul className="dtype-legend">
          {summary.dtypes.map((d, i) => (
            <li key={d.dtype}>
              <span className={`swatch c${i % 6}`} />
              {d.dtype} · {d.tensors} tensors · {formatCount(d.params)} params · {formatBytes(d.bytes)}
            </li>
          ))}
        </ul>
        {summary.kinds.length > 0 && (
          <p className="muted">
            {summary.kinds.map((k) => `${k.kind}: ${k.layers}${k.analyzable !== k.layers ? ` (${k.analyzable} analyzable)` : ''}`).join(' · ')}
          </p>
        )}
      </div>
    </section>
  );
}
