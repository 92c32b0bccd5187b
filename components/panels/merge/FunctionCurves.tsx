'use client';
import { useRef, useState } from 'react';
import { toErrorInfo } from '@/lib/base/errors';
import { lossBarrier } from '@/lib/charts/merge/line-chart';
import { getComputePool } from '@/lib/jobs/compute-client';
import { getInferencePool } from '@/lib/jobs/inference-client';
import type { ModelMetrics } from '@/lib/jobs/inference-types';
import type { MergeJobSpec, MergeWeightSets, ModelRef } from '@/lib/jobs/job-types';
import { LineChart } from '../../charts/LineChart';
import { AddTableToReport } from '../../ui/AddTableToReport';

interface Curve {
  alphas: number[];
  loss: number[];
  accuracy: number[];
  barrier: { barrier: number; at: number };
  ms: number;
}

interface Outcome {
  naive: Curve | null;
  matched: Curve | null;
  merged: (ModelMetrics & { role: string })[];
}

async function evaluateSets(spec: MergeJobSpec, graph: ModelRef, data: ModelRef, alphas: number[], match: boolean, withMerged: boolean, signal: AbortSignal, onLabel: (s: string) => void) {
  onLabel(`${match ? 'matched' : 'naive'}: weights`);
  const w = (await getComputePool().run({ kind: 'merge-weights', model: spec.a, ...spec, match, alphas, withMerged }, { signal })).data as MergeWeightSets;
  onLabel(`${match ? 'matched' : 'naive'}: evaluating ${w.sets.length} models`);
  const ev = await getInferencePool().run(
    { kind: 'evaluate', model: graph, evalSet: data, models: w.sets.map((s) => ({ label: s.label, base: spec.a, overrides: s.tensors })) },
    { signal },
  );
  return { sets: w.sets, metrics: ev.data.models };
}

/**
 * Function space: loss and accuracy of θ(α) along the path A → B, naive and after weight matching
 * (barrier annotated), and the merged model next to A and B with per-class accuracy (the MNIST
 * fine-tunes: each on its own digits).
 */
export function FunctionCurves({ spec, graph, data, name, taskMethod }: { spec: MergeJobSpec | null; graph: ModelRef | null; data: ModelRef | null; name: string; taskMethod: boolean }) {
  const [state, setState] = useState<{ status: 'idle' | 'running' | 'done' | 'cancelled' | 'error'; label: string; out: Outcome | null; error: string | null }>({ status: 'idle', label: '', out: null, error: null });
  const ctrl = useRef<AbortController | null>(null);
  const tableRef = useRef<HTMLTableElement>(null);
  const run = async () => {
    if (!spec || !graph || !data) return;
    ctrl.current?.abort();
    const c = new AbortController();
    ctrl.current = c;
    setState({ status: 'running', label: '', out: null, error: null });
    const onLabel = (label: string) => setState((s) => ({ ...s, label }));
    try {
      const curve = async (match: boolean): Promise<Curve> => {
        const t0 = performance.now();
        // No α list: the worker takes the grid of spec.points (alphaGrid) and labels each set with its α.
        const r = await evaluateSets(spec, graph, data, [], match, false, c.signal, onLabel);
        const alphas = r.sets.map((st) => st.alpha ?? NaN);
        const loss = r.metrics.map((m) => m.loss);
        return { alphas, loss, accuracy: r.metrics.map((m) => m.accuracy), barrier: lossBarrier(alphas, loss), ms: performance.now() - t0 };
      };
      const naive = await curve(false);
      setState((s) => ({ ...s, out: { naive, matched: null, merged: [] } }));
      const matched = spec.match ? await curve(true) : null;
      setState((s) => ({ ...s, out: { naive, matched, merged: [] } }));
      onLabel('merged model');
      const ends = await evaluateSets(spec, graph, data, [0, 1], false, !taskMethod || Boolean(spec.base), c.signal, onLabel);
      const merged = ends.metrics.map((m, i) => ({ ...m, role: i === 0 ? 'A' : i === 1 ? 'B' : `merged (${spec.method.kind})` }));
      setState({ status: 'done', label: '', out: { naive, matched, merged }, error: null });
    } catch (e) {
      const info = toErrorInfo(e);
      setState((s) => ({ ...s, status: c.signal.aborted || info.kind === 'CancelledError' ? 'cancelled' : 'error', error: c.signal.aborted ? null : info.message }));
    }
  };
  const out = state.out;
  const series = (key: 'loss' | 'accuracy') => [
    ...(out?.naive ? [{ name: 'naive', xs: out.naive.alphas, ys: out.naive[key] }] : []),
    ...(out?.matched ? [{ name: 'weight-matched', xs: out.matched.alphas, ys: out.matched[key], dashed: true }] : []),
  ];
  const classes = out?.merged[0]?.perClass.n.length ?? 0;
  const halves = classes === 10;
  const acc = (m: ModelMetrics, cs: number[]) => {
    let n = 0;
    let c = 0;
    for (const k of cs) {
      n += m.perClass.n[k] ?? 0;
      c += m.perClass.correct[k] ?? 0;
    }
    return n ? c / n : NaN;
  };
  return (
    <section
      className="card"
      data-testid="merge-function"
      data-status={state.status}
      data-barrier-naive={out?.naive?.barrier.barrier ?? ''}
      data-barrier-matched={out?.matched?.barrier.barrier ?? ''}
      data-naive-ms={out?.naive?.ms ?? ''}
    >
      <div className="card-head">
        <h4>Function space</h4>
        {state.status === 'running' ? (
          <>
            <span className="muted small">{state.label}</span>
            <button type="button" className="btn btn-small" onClick={() => ctrl.current?.abort()} data-testid="merge-function-cancel">
              Cancel
            </button>
          </>
        ) : (
          <button type="button" className="btn btn-small" disabled={!spec || !graph || !data} onClick={() => void run()} data-testid="merge-function-run">
            Loss and accuracy along the path
          </button>
        )}
        {(!graph || !data) && <span className="muted small">needs an ONNX graph taking the weights as inputs and an evaluation set (pick them above)</span>}
        {state.error && <span className="sp-err small">{state.error}</span>}
      </div>
      {out && (
        <div className="q-charts">
          <LineChart
            title="Loss along the path"
            series={series('loss')}
            xLabel="α (0 = A, 1 = B)"
            yLabel="cross-entropy"
            name={name}
            testId="merge-loss"
            note={[out.naive ? `barrier ${out.naive.barrier.barrier.toFixed(4)} naive` : '', out.matched ? `${out.matched.barrier.barrier.toFixed(4)} matched` : ''].filter(Boolean).join(' · ')}
            extra={(m) => (
              <>
                {[out.naive, out.matched].map((c, i) =>
                  c && Number.isFinite(c.barrier.at) ? (
                    <line key={i} x1={m.x(c.barrier.at)} x2={m.x(c.barrier.at)} y1={m.plot.y1} y2={m.plot.y0} className="q-dead" strokeDasharray={i ? '2 3' : '5 3'} />
                  ) : null,
                )}
              </>
            )}
          />
          <LineChart title="Accuracy along the path" series={series('accuracy')} xLabel="α (0 = A, 1 = B)" yLabel="accuracy" name={name} testId="merge-accuracy" yDomain={[0, 1]} />
        </div>
      )}
      {out && out.merged.length > 0 && <AddTableToReport tableRef={tableRef} title={`Merged model against A and B (${spec?.method.kind ?? ''})`} />}
      {out && out.merged.length > 0 && (
        <table className="q-table" data-testid="merge-eval-table" ref={tableRef}>
          <thead>
            <tr>
              <th>model</th>
              <th>loss</th>
              <th>accuracy</th>
              {halves && (
                <>
                  <th>digits 0–4</th>
                  <th>digits 5–9</th>
                </>
              )}
            </tr>
          </thead>
          <tbody>
            {out.merged.map((m) => (
              <tr key={m.role} data-role={m.role} data-accuracy={m.accuracy} data-low={halves ? acc(m, [0, 1, 2, 3, 4]) : ''} data-high={halves ? acc(m, [5, 6, 7, 8, 9]) : ''}>
                <td>{m.role}</td>
                <td>{m.loss.toFixed(4)}</td>
                <td>{(m.accuracy * 100).toFixed(2)}%</td>
                {halves && (
                  <>
                    <td>{(acc(m, [0, 1, 2, 3, 4]) * 100).toFixed(2)}%</td>
                    <td>{(acc(m, [5, 6, 7, 8, 9]) * 100).toFixed(2)}%</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
