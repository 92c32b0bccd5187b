'use client';
import { RefPicker } from '../RefPicker';
import { seriesDash, seriesVar } from '@/lib/charts/palette';
import { useEffect, useMemo, useRef, useState } from 'react';
import { toErrorInfo, type ErrorInfo } from '@/lib/base/errors';
import { curveChart, type CurvePoint } from '@/lib/charts/prune/accuracy-chart';
import { getComputePool } from '@/lib/jobs/compute-client';
import { getInferencePool } from '@/lib/jobs/inference-client';
import type { ModelMetrics } from '@/lib/jobs/inference-types';
import type { ModelRef, PruneJobResult, PruneMethod, PruneSettings } from '@/lib/jobs/job-types';
import type { OpenModel } from '@/lib/state/models-store';
import { ChartGrid } from '../../charts/ChartGrid';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';
import { useEvalRefs } from '../use-eval-refs';
import { METHOD_LABELS } from './PruneControls';

/** Samples used to collect Wanda's activation norms (a calibration subset of the evaluation set). */
export const CALIBRATION_SAMPLES = 512;
/** Sparsities of the accuracy curve. */
export const CURVE_SPARSITIES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export interface EvalInputs {
  graph: ModelRef | null;
  data: ModelRef | null;
  graphId: string | null;
  dataId: string | null;
  /** Wanda's ‖X_j‖ per weight tensor, once collected. */
  actNorms: Record<string, Float32Array> | null;
  /** Why evaluation / Wanda is unavailable, or null. */
  reason: string | null;
  choices: { id: string; label: string }[];
}

/**
 * The ONNX graph and evaluation set for the accuracy curve and Wanda: chosen in the card (in the
 * URL as onnx= and data=), defaulting to the MNIST graph and eval set for the MNIST demo MLPs.
 * Activation norms are collected once per (model, graph, data) in the inference worker.
 */
export function useEvalInputs(model: OpenModel | undefined, onnxId: string | null, dataId: string | null): EvalInputs {
  const { graph, data, graphId, dataId: dId, choices } = useEvalRefs(model, onnxId, dataId);
  const [acts, setActs] = useState<{ key: string; norms: Record<string, Float32Array> | null; error: string | null } | null>(null);
  const key = model && graph && data ? `${model.id}|${graph.modelId}|${data.modelId}` : null;
  // One request per (model, graph, data) key; an answer for a key that is no longer current is dropped.
  const current = useRef<string | null>(null);
  current.current = key;
  const requested = useRef<string | null>(null);
  useEffect(() => {
    if (!key || !model || !graph || !data || requested.current === key) return;
    requested.current = key;
    setActs({ key, norms: null, error: null });
    getInferencePool()
      .run({ kind: 'activation-norms', model: graph, evalSet: data, weights: { label: model.label, base: { modelId: model.id, spec: model.spec } }, maxSamples: CALIBRATION_SAMPLES })
      .then((r) => {
        if (current.current !== key) return;
        const norms: Record<string, Float32Array> = {};
        for (const n of r.data.norms) norms[n.weight] = n.values;
        setActs({ key, norms, error: null });
      })
      .catch((e) => {
        if (current.current === key) setActs({ key, norms: null, error: toErrorInfo(e).message });
      });
  }, [key, model, graph, data]);
  let reason: string | null = null;
  if (!graph || !data) reason = 'Wanda and the accuracy curve need an ONNX graph that takes this model’s weights as inputs and an evaluation set (inputs, labels): pick them in the Evaluation card.';
  else if (acts?.error) reason = acts.error;
  else if (!acts?.norms) reason = 'collecting activation norms…';
  return { graph, data, graphId, dataId: dId, actNorms: acts?.key === key ? acts.norms : null, reason, choices };
}


function CurveChart({ points, what, name }: { points: CurvePoint[]; what: 'accuracy' | 'loss'; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => curveChart(points, width, 240, what === 'accuracy' ? [0, 1] : null), [points, width, what]);
  return (
    <div ref={boxRef} className="chart-box" data-testid={`prune-curve-${what}`} data-series={m.series.length}>
      <div className="card-head">
        <span className="small">{what === 'accuracy' ? 'Accuracy' : 'Loss (cross-entropy)'} against sparsity</span>
        <ExportButtons svgRef={svgRef} name={`${name}-${what}-vs-sparsity`} />
      </div>
      <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label={`${what} against sparsity`} className="sp-svg">
        <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
        <ChartGrid axis="x" ticks={m.xTicks} plot={m.plot} />
        {m.series.map((s, i) => (
          <g key={s.name}>
            <path d={s.path} fill="none" style={{ stroke: seriesVar(i) }} strokeDasharray={seriesDash(i)} strokeWidth={1.6} />
            {s.points.map((p) => (
              <circle key={p.sparsity} cx={p.x} cy={p.y} r={2.5} style={{ fill: seriesVar(i) }} data-testid="curve-point" data-series={s.name} data-sparsity={p.sparsity} data-value={p.value}>
                <title>{`${s.name}: ${(p.sparsity * 100).toFixed(1)}% → ${p.value.toFixed(4)}`}</title>
              </circle>
            ))}
            <line x1={m.plot.x0 + 3} x2={m.plot.x0 + 17} y1={m.plot.y0 - 12 - i * 13} y2={m.plot.y0 - 12 - i * 13} style={{ stroke: seriesVar(i) }} strokeDasharray={seriesDash(i)} strokeWidth={2} />
            <text x={m.plot.x0 + 18} y={m.plot.y0 - 9 - i * 13} className="tick">
              {s.name}
            </text>
          </g>
        ))}
        <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 2} textAnchor="middle" className="tick">achieved sparsity</text>
      </svg>
    </div>
  );
}

/**
 * Evaluation: the graph and data pickers, and accuracy/loss of the pruned model against sparsity
 * for each method (the masks computed in a compute worker, the pruned weights fed to the graph in
 * the inference worker).
 */
export function EvalCard({ model, inputs, settings, onPick, name }: { model: OpenModel; inputs: EvalInputs; settings: PruneSettings; onPick(p: { onnx?: string | null; data?: string | null }): void; name: string }) {
  const [state, setState] = useState<{ status: 'idle' | 'running' | 'done' | 'cancelled' | 'error'; points: (CurvePoint & { loss: number })[]; label: string; error: ErrorInfo | null }>({ status: 'idle', points: [], label: '', error: null });
  const ctrl = useRef<AbortController | null>(null);
  const run = async () => {
    if (!inputs.graph || !inputs.data) return;
    ctrl.current?.abort();
    const c = new AbortController();
    ctrl.current = c;
    setState({ status: 'running', points: [], label: '', error: null });
    const ref = { modelId: model.id, spec: model.spec };
    const methods: PruneMethod[] = ['magnitude', 'lift', 'dimap', ...(inputs.actNorms ? (['wanda'] as PruneMethod[]) : [])];
    try {
      const runs: { series: string; s: PruneSettings }[] = [];
      for (const method of methods) for (const sp of CURVE_SPARSITIES) runs.push({ series: METHOD_LABELS[method], s: { ...settings, method, sparsity: sp, scope: 'layer' } });
      runs.push({ series: `N:M ${settings.n}:${settings.m}`, s: { ...settings, method: 'nm' } });
      for (const series of [...new Set(runs.map((r) => r.series))]) {
        const group = runs.filter((r) => r.series === series);
        const overrides = [];
        const achieved: number[] = [];
        for (const g of group) {
          if (c.signal.aborted) throw new DOMException('cancelled', 'AbortError');
          setState((st) => ({ ...st, label: `${series} ${(g.s.sparsity * 100).toFixed(0)}%: masks` }));
          const reply = await getComputePool().run({ kind: 'prune', model: ref, settings: g.s, detail: null, compare: null, withWeights: true, ...(g.s.method === 'wanda' && inputs.actNorms ? { actNorms: inputs.actNorms } : {}) }, { signal: c.signal });
          const r = reply.data as PruneJobResult;
          achieved.push(r.total.sparsity);
          overrides.push({ label: `${series} ${g.s.sparsity}`, overrides: Object.entries(r.weights ?? {}).map(([tname, data]) => ({ name: tname, shape: model.info?.tensors.find((t) => t.name === tname)?.shape ?? [], data })), base: ref });
        }
        setState((st) => ({ ...st, label: `${series}: evaluating ${overrides.length} models` }));
        const ev = await getInferencePool().run({ kind: 'evaluate', model: inputs.graph, evalSet: inputs.data, models: overrides }, { signal: c.signal });
        const pts = ev.data.models.map((mm: ModelMetrics, i: number) => ({ series, sparsity: achieved[i]!, value: mm.accuracy, loss: mm.loss }));
        setState((st) => ({ ...st, points: [...st.points, ...pts] }));
      }
      setState((st) => ({ ...st, status: 'done', label: '' }));
    } catch (e) {
      const info = toErrorInfo(e);
      setState((st) => ({ ...st, status: c.signal.aborted || info.kind === 'CancelledError' ? 'cancelled' : 'error', error: c.signal.aborted ? null : info }));
    }
  };
  const loss = useMemo(() => state.points.map((p) => ({ series: p.series, sparsity: p.sparsity, value: p.loss })), [state.points]);
  return (
    <section className="card" data-testid="prune-eval" data-status={state.status} data-points={state.points.length}>
      <div className="card-head">
        <h4>Evaluation</h4>
        <RefPicker label="ONNX graph" value={inputs.graphId ?? ''} choices={inputs.choices} onChange={(id) => onPick({ onnx: id })} testId="prune-eval-graph" />
        <RefPicker label="evaluation set" value={inputs.dataId ?? ''} choices={inputs.choices} onChange={(id) => onPick({ data: id })} testId="prune-eval-data" />
        {state.status === 'running' ? (
          <>
            <span className="muted small">{state.label}</span>
            <button type="button" className="btn btn-small" onClick={() => ctrl.current?.abort()} data-testid="prune-eval-cancel">
              Cancel
            </button>
          </>
        ) : (
          <button type="button" className="btn btn-small" disabled={!inputs.graph || !inputs.data} onClick={() => void run()} data-testid="prune-eval-run">
            Accuracy vs sparsity
          </button>
        )}
      </div>
      {(!inputs.graph || !inputs.data) && <p className="muted small">{inputs.reason}</p>}
      {state.error && <p className="sp-err">{state.error.message}</p>}
      {state.points.length > 0 && (
        <div className="q-charts">
          <CurveChart points={state.points} what="accuracy" name={name} />
          <CurveChart points={loss} what="loss" name={name} />
        </div>
      )}
    </section>
  );
}
