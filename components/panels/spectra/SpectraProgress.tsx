'use client';
import type { SpectraRun } from '@/lib/state/spectra-store';

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Layers done, elapsed time and ETA, the backend that ran, and cancel / resume. */
export function SpectraProgress({ run, workers, onCancel, onResume }: { run: SpectraRun; workers: number; onCancel: () => void; onResume: () => void }) {
  const total = run.tensors.length;
  const done = run.tensors.filter((t) => run.results[t]).length;
  const p = run.progress;
  const pct = run.status === 'done' ? 100 : Math.round(100 * (p ? Math.max(p.fraction, total ? done / total : 0) : total ? done / total : 0));
  const errors = Object.keys(run.errors).length;
  let text: string;
  if (run.status === 'running') {
    text = `Analyzing ${done} of ${total} layers on ${workers} worker${workers === 1 ? '' : 's'}${p ? ` · ${seconds(p.elapsedMs)}` : ''}${p?.etaMs != null ? ` · about ${seconds(p.etaMs)} left` : ''}${p?.running.length ? ` · ${p.running.join(', ')}` : ''}`;
  } else if (run.status === 'done') {
    text = `${done} of ${total} layers analyzed${run.ms != null ? ` in ${seconds(run.ms)}` : ''}`;
  } else if (run.status === 'cancelled') {
    text = `Cancelled: ${done} of ${total} layers analyzed`;
  } else {
    text = `Failed after ${done} of ${total} layers: ${run.error?.message ?? 'unknown error'}`;
  }
  return (
    <div className="sp-progress" data-testid="spectra-progress" data-status={run.status} data-done={done} data-total={total}>
      <div className="progress">
        <div className="progress-bar" style={{ width: `${pct}%` }} />
        <span data-testid="spectra-progress-text">{text}</span>
      </div>
      <div className="sp-progress-side">
        {run.backend && (
          <span className={`badge backend-${run.backend}`} data-testid="spectra-backend" data-backend={run.backend} title={run.backendNote ?? 'where the eigenvalues were computed'}>
            {run.backend === 'webgpu' ? 'WebGPU' : 'CPU'}
          </span>
        )}
        {errors > 0 && <span className="badge sp-err">{errors} failed</span>}
        {run.status === 'running' ? (
          <button type="button" className="btn btn-small" onClick={onCancel} data-testid="spectra-cancel">
            Cancel
          </button>
        ) : done < total ? (
          <button type="button" className="btn btn-small" onClick={onResume} data-testid="spectra-resume">
            Resume
          </button>
        ) : null}
      </div>
    </div>
  );
}
