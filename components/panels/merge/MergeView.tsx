'use client';
import { JobProgress } from '../../ui/JobProgress';
import { RefPicker } from '../RefPicker';
import { StoredMarker } from '../../ui/StoredResults';
import Link from 'next/link';
import { useEffect, useMemo } from 'react';
import type { MergeJobSpec } from '@/lib/jobs/job-types';
import { useModels } from '@/lib/state/models-store';
import { MERGE_METHODS, mergeMethodOf, parseMergeParams, writeMergeParams, type MergeMethodKind } from '@/lib/state/merge-settings';
import { useMerge } from '@/lib/state/merge-store';
import { LineChart } from '../../charts/LineChart';
import { useUrlParams } from '../use-url-params';
import { useDebounced } from '../../ui/use-debounced';
import { ExportCaptionProvider, settingsText } from '../../ui/export-caption';
import { DemoModels } from '../DemoModels';
import { ErrorPanel } from '../ErrorPanel';
import { ExportModelButton } from '../../ui/ExportModelButton';
import { refOf, useEvalRefs } from '../use-eval-refs';
import { FunctionCurves } from './FunctionCurves';
import { ConflictBars, PermutationScatter, SimilarityHeatmap } from './MergeCharts';

const METHOD_LABELS: Record<MergeMethodKind, string> = {
  linear: 'linear interpolation',
  slerp: 'SLERP',
  ta: 'task arithmetic',
  ties: 'TIES',
  dare: 'DARE',
  tsv: 'TSV-merge',
};


/**
 * /merge: two models (and a base for task vectors) compared along the straight path between them
 * — weight-space curves, per-layer cosine, the weight-matching permutation and objective, spectral
 * α along the path — and in function space with an ONNX graph and evaluation data: loss and
 * accuracy at every α, naive and after matching, and the merged model.
 */
export function MergeView() {
  const [params, update] = useUrlParams(parseMergeParams, writeMergeParams);
  const models = useModels((s) => s.models);
  const analysis = useMerge((s) => s.analysis);
  const analyze = useMerge((s) => s.analyze);
  const cancel = useMerge((s) => s.cancel);
  const modelA = models.find((m) => m.id === params?.a);
  const { demos, graph, data, graphId, dataId, choices } = useEvalRefs(modelA, params?.onnx ?? null, params?.data ?? null);
  // MNIST demo defaults: the graph and evaluation set; a task-vector method gets the base MLP.
  const aRef = useMemo(() => (params?.a ? refOf(params.a, demos, models) : null), [params?.a, demos, models]);
  const bRef = useMemo(() => (params?.b ? refOf(params.b, demos, models) : null), [params?.b, demos, models]);
  const baseRef = useMemo(() => (params?.base ? refOf(params.base, demos, models) : null), [params?.base, demos, models]);
  const graphRef = graph ?? (params?.a?.startsWith('mnist-mlp') && demos.length ? refOf(params.onnx ?? 'mnist-mlp-onnx', demos, models) : null);
  const dataRef = data ?? (params?.a?.startsWith('mnist-mlp') && demos.length ? refOf(params.data ?? 'mnist-eval', demos, models) : null);
  const taskMethod = params ? !['linear', 'slerp'].includes(params.method) : false;
  const debounced = useDebounced(params, 250);
  const spec: MergeJobSpec | null = useMemo(() => {
    if (!debounced || !aRef || !bRef) return null;
    return { a: aRef, b: bRef, base: baseRef, method: mergeMethodOf(debounced), points: debounced.points, match: debounced.match, spec: debounced.spec.trim() || null, seed: debounced.seed };
  }, [debounced, aRef, bRef, baseRef]);
  useEffect(() => {
    if (spec) analyze(spec);
  }, [spec, analyze]);

  if (!params) return null;
  const options = [...models.map((m) => ({ id: m.id, label: m.label })), ...demos.filter((d) => d.file.endsWith('.safetensors') && d.id !== 'mnist-eval').map((d) => ({ id: d.id, label: `${d.file} (demo)` }))];
  const pick = (key: 'a' | 'b' | 'base', label: string, optional = false) => (
    <label className="q-field">
      <span>{label}</span>
      <select value={params[key] ?? ''} onChange={(e) => update({ [key]: e.target.value || null })} data-testid={`merge-${key}`}>
        <option value="">{optional ? '— none —' : '— pick —'}</option>
        {options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
  const r = analysis?.result ?? null;
  const name = `${params.a ?? 'a'}-${params.b ?? 'b'}`.replace(/[^\w.-]+/g, '_');
  const group = r?.matching?.groups.find((g) => g.name === params.group) ?? r?.matching?.groups[0] ?? null;
  // Whole model, or the layer picked above the chart.
  const naiveCurve = r ? (r.path.layers.find((l) => l.name === params.layer) ?? r.path.model) : null;
  const matchedCurve = r?.pathMatched ? (r.pathMatched.layers.find((l) => l.name === params.layer) ?? r.pathMatched.model) : null;
  const wsSeries =
    r && naiveCurve
      ? [
          { name: '‖θ(α) − A‖ naive', xs: naiveCurve.alphas, ys: naiveCurve.distA },
          { name: '‖θ(α) − B‖ naive', xs: naiveCurve.alphas, ys: naiveCurve.distB },
          ...(matchedCurve ? [{ name: '‖θ(α) − A‖ matched', xs: matchedCurve.alphas, ys: matchedCurve.distA, dashed: true }, { name: '‖θ(α)‖ matched', xs: matchedCurve.alphas, ys: matchedCurve.norm, dashed: true }] : []),
          { name: '‖θ(α)‖ naive', xs: naiveCurve.alphas, ys: naiveCurve.norm },
        ]
      : [];

  const view = (
    <div className="quantize-view" data-testid="merge-view" data-status={analysis?.status ?? 'idle'}>
      <div className="sp-head">
        <h2>Merge</h2>
      </div>
      <div className="q-controls" data-testid="merge-controls">
        {pick('a', 'model A')}
        {pick('b', 'model B')}
        {pick('base', 'base (task vectors)', true)}
        <label className="q-field">
          <span>method</span>
          <select value={params.method} onChange={(e) => update({ method: e.target.value as MergeMethodKind })} data-testid="merge-method">
            {MERGE_METHODS.map((m) => (
              <option key={m} value={m}>
                {METHOD_LABELS[m]}
              </option>
            ))}
          </select>
        </label>
        {!taskMethod ? (
          <label className="q-field">
            <span>α {params.alpha}</span>
            <input type="range" min={0} max={1} step={0.05} value={params.alpha} onChange={(e) => update({ alpha: Number(e.target.value) })} data-testid="merge-alpha" />
          </label>
        ) : (
          <label className="q-field">
            <span>λ {params.lambda}</span>
            <input type="range" min={0} max={2} step={0.05} value={params.lambda} onChange={(e) => update({ lambda: Number(e.target.value) })} data-testid="merge-lambda" />
          </label>
        )}
        {params.method === 'ties' && (
          <label className="q-field">
            <span>keep {Math.round(params.keep * 100)}%</span>
            <input type="range" min={0.05} max={1} step={0.05} value={params.keep} onChange={(e) => update({ keep: Number(e.target.value) })} data-testid="merge-keep" />
          </label>
        )}
        {params.method === 'dare' && (
          <label className="q-field">
            <span>drop p {params.drop}</span>
            <input type="range" min={0} max={0.95} step={0.05} value={params.drop} onChange={(e) => update({ drop: Number(e.target.value) })} data-testid="merge-drop" />
          </label>
        )}
        {taskMethod && (
          <label className="q-field" title="Per-block λ: REGEX=λ;REGEX=λ (first match wins)">
            <span>block λ</span>
            <input type="text" defaultValue={params.blocks} onBlur={(e) => update({ blocks: e.target.value })} placeholder="fc3=0.5" data-testid="merge-blocks" />
          </label>
        )}
        <label className="toggle small">
          <input type="checkbox" checked={params.match} onChange={(e) => update({ match: e.target.checked })} data-testid="merge-match" />
          <span>weight matching (Git Re-Basin)</span>
        </label>
        {params.match && (
          <label className="q-field" title='Optional: {"groups":[{"name":"h1","size":128,"axes":[{"tensor":"fc1.weight","axis":0},{"tensor":"fc1.bias","axis":0},{"tensor":"fc2.weight","axis":1}]}]} — empty = inferred for MLP and conv chains'>
            <span>permutation spec (JSON)</span>
            <input type="text" defaultValue={params.spec} onBlur={(e) => update({ spec: e.target.value })} placeholder="inferred" data-testid="merge-spec" />
          </label>
        )}
        <RefPicker label="ONNX graph" value={graphId ?? (graphRef ? 'mnist-mlp-onnx' : '')} choices={choices} onChange={(id) => update({ onnx: id })} testId="merge-graph" />
        <RefPicker label="evaluation set" value={dataId ?? (dataRef ? 'mnist-eval' : '')} choices={choices} onChange={(id) => update({ data: id })} testId="merge-data" />
      </div>
      {!params.a || !params.b ? (
        <div className="sp-empty">
          <p className="muted">
            Pick two models with the same tensors (for example the MNIST demos <Link href="/merge?a=mnist-mlp-seed1&b=mnist-mlp-seed2">seed 1 and seed 2</Link>, or the{' '}
            <Link href="/merge?a=mnist-mlp-ft-low&b=mnist-mlp-ft-high&base=mnist-mlp-base&method=ties">two fine-tunes over their base</Link>), or open your own on the <Link href="/">Models</Link> page.
          </p>
          <DemoModels />
        </div>
      ) : (
        <>
          <div className="q-status" data-testid="merge-status" data-status={analysis?.status ?? 'idle'}>
            {analysis?.status === 'running' && (
              <JobProgress value={analysis.progress} label={analysis.label} onCancel={cancel} cancelTestId="merge-cancel" />
            )}
            {r && <span className="muted small">{(r.ms / 1000).toFixed(2)} s</span>}
            {analysis?.status === 'done' && analysis.source === 'stored' && <StoredMarker />}
            <ExportModelButton job={spec && (!taskMethod || spec.base) ? { kind: 'export-merged', model: spec.a, ...spec } : null} label={spec?.match ? 'Download merged + matched B' : 'Download merged model'} testId="merge-export" />
          </div>
          {analysis?.error && <ErrorPanel title="merge" error={analysis.error} />}
          {r && (
            <div className={analysis?.status === 'running' ? 'q-results q-stale' : 'q-results'}>
              <section className="card q-summary" data-testid="merge-summary" data-paired={r.pairing.paired} data-unmatched={r.pairing.unmatched.length} data-l2-before={r.matching?.l2Before ?? ''} data-l2-after={r.matching?.l2After ?? ''}>
                <div className="q-headline">
                  <div>
                    <b>{r.pairing.paired}</b> tensors paired{r.pairing.nonFloat ? `, ${r.pairing.nonFloat} non-float copied` : ''}
                  </div>
                  {r.matching && (
                    <div>
                      ‖A − B‖ <b>{r.matching.l2Before.toFixed(3)}</b> → <b>{r.matching.l2After.toFixed(3)}</b> after matching ({r.matching.iterations} passes{r.matching.converged ? ', converged' : ''})
                    </div>
                  )}
                </div>
                {r.pairing.unmatched.length > 0 && (
                  <table className="q-table" data-testid="merge-unmatched">
                    <thead>
                      <tr>
                        <th>unmatched tensor</th>
                        {r.labels.slice(0, 2).map((l) => (
                          <th key={l}>{l}</th>
                        ))}
                        <th>why</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.pairing.unmatched.map((u) => (
                        <tr key={u.name}>
                          <td className="mono">{u.name}</td>
                          {u.shapes.slice(0, 2).map((s, i) => (
                            <td key={i}>{s ? `[${s.join(', ')}]` : '—'}</td>
                          ))}
                          <td>{u.reason}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <FunctionCurves spec={spec} graph={graphRef} data={dataRef} name={name} taskMethod={taskMethod} />
              <div className="q-charts">
                <div>
                  <select value={params.layer ?? ''} onChange={(e) => update({ layer: e.target.value || null })} aria-label="Weight-space curves of" data-testid="merge-curve-layer">
                    <option value="">whole model</option>
                    {r.path.layers.map((l) => (
                      <option key={l.name} value={l.name}>
                        {l.name}
                      </option>
                    ))}
                  </select>
                  <LineChart title={`Weight space along the path${params.layer ? ` — ${params.layer}` : ''}`} series={wsSeries} xLabel="α" yLabel="L2" name={name} testId="merge-weight-space" />
                </div>
                <LineChart
                  title="Cosine to the ends"
                  series={[
                    { name: 'cos(θ(α), A) naive', xs: naiveCurve!.alphas, ys: naiveCurve!.cosA },
                    { name: 'cos(θ(α), B) naive', xs: naiveCurve!.alphas, ys: naiveCurve!.cosB },
                    ...(matchedCurve ? [{ name: 'cos(θ(α), B) matched', xs: matchedCurve.alphas, ys: matchedCurve.cosB, dashed: true }] : []),
                  ]}
                  xLabel="α"
                  yLabel="cosine"
                  name={name}
                  testId="merge-cosine"
                />
              </div>
              <SimilarityHeatmap analysis={r} name={name} />
              {r.matching && group && (
                <div className="q-charts">
                  <div>
                    <select value={group.name} onChange={(e) => update({ group: e.target.value })} aria-label="Permutation group" data-testid="merge-group">
                      {r.matching.groups.map((g) => (
                        <option key={g.name} value={g.name}>
                          {g.name} ({g.size})
                        </option>
                      ))}
                    </select>
                    <PermutationScatter perm={group.perm} group={group.name} name={name} />
                  </div>
                  <LineChart title="Matching objective per pass" series={[{ name: 'Σ⟨W_A, P W_B⟩', xs: r.matching.objectives.map((_, i) => i), ys: r.matching.objectives }]} xLabel="pass (0 = before)" yLabel="objective" name={name} testId="merge-objective" />
                </div>
              )}
              {r.alphaPath.layers.length > 0 && (
                <LineChart
                  title="Spectral α along the path"
                  series={r.alphaPath.layers.flatMap((l) => [{ name: `${l.name}`, xs: r.alphaPath.alphas, ys: l.naive }, ...(l.matched ? [{ name: `${l.name} matched`, xs: r.alphaPath.alphas, ys: l.matched, dashed: true }] : [])])}
                  xLabel="α"
                  yLabel="power-law α (WeightWatcher fit)"
                  name={name}
                  testId="merge-alpha-path"
                />
              )}
              {r.mergeStats?.some((st) => st.signConflictRate !== undefined) && <ConflictBars stats={r.mergeStats} name={name} />}
              {taskMethod && !params.base && <p className="muted small">Task-vector methods need a base model (θ₀): pick one above.</p>}
            </div>
          )}
        </>
      )}
    </div>
  );
  const captionModels = [params.a && `A ${params.a}`, params.b && `B ${params.b}`, params.base && `base ${params.base}`].filter(Boolean).join(' · ');
  return <ExportCaptionProvider model={captionModels} settings={[`${settingsText(mergeMethodOf(params))}`, `points ${params.points}`, `weight matching ${params.match ? 'on' : 'off'}`, params.layer ? `layer ${params.layer}` : ''].filter(Boolean).join(', ')}>{view}</ExportCaptionProvider>;
}
