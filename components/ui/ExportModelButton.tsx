'use client';
import { useRef, useState } from 'react';
import { toErrorInfo } from '@/lib/base/errors';
import { getComputePool } from '@/lib/jobs/compute-client';
import type { ExportFiles, Job } from '@/lib/jobs/job-types';

/**
 * Builds model files in a compute worker (the same bytes the command line writes) and downloads
 * them, with progress and cancel. `job` is an export-quantized, export-pruned or export-merged job.
 */
export function ExportModelButton({ job, label, testId }: { job: Extract<Job, { kind: 'export-quantized' | 'export-pruned' | 'export-merged' }> | null; label: string; testId: string }) {
  const [state, setState] = useState<{ running: boolean; progress: string; error: string | null; done: string | null }>({ running: false, progress: '', error: null, done: null });
  const ctrl = useRef<AbortController | null>(null);
  const start = async () => {
    if (!job) return;
    const c = new AbortController();
    ctrl.current = c;
    setState({ running: true, progress: 'starting', error: null, done: null });
    try {
      const reply = await getComputePool().run(job, { signal: c.signal, onProgress: (p) => setState((s) => ({ ...s, progress: `${p.label ?? ''} ${p.total ? Math.round((100 * p.done) / p.total) : 0}%` })) });
      const out = reply.data as ExportFiles;
      for (const f of out.files) {
        const url = URL.createObjectURL(new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
        const a = document.createElement('a');
        a.href = url;
        a.download = f.name;
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      }
      setState({ running: false, progress: '', error: null, done: `${out.files.map((f) => `${f.name} (${(f.bytes.byteLength / 2 ** 20).toFixed(2)} MB)`).join(', ')}` });
    } catch (e) {
      const info = toErrorInfo(e);
      setState({ running: false, progress: '', error: info.kind === 'CancelledError' ? null : info.message, done: null });
    }
  };
  return (
    <span className="export-model" data-testid={testId} data-status={state.running ? 'running' : state.error ? 'error' : state.done ? 'done' : 'idle'}>
      {state.running ? (
        <>
          <span className="muted small">{state.progress}</span>
          <button type="button" className="btn btn-small" onClick={() => ctrl.current?.abort()}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" className="btn btn-small" disabled={!job} onClick={() => void start()} data-testid={`${testId}-run`}>
          {label}
        </button>
      )}
      {state.done && <span className="muted small"> {state.done}</span>}
      {state.error && <span className="sp-err small"> {state.error}</span>}
    </span>
  );
}
