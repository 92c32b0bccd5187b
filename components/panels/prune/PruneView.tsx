'use client';
import { JobProgress } from '../../ui/JobProgress';
import { ViewHead } from '../ViewHead';
import { useCallback, useEffect, useMemo } from 'react';
import type { SparsityInput } from '@/lib/charts/prune/sparsity-chart';
import { isWeightMatrix, type Layer } from '@/lib/model/layer';
import { parsePruneParams, writePruneParams } from '@/lib/state/prune-settings';
import { usePrune } from '@/lib/state/prune-store';
import { useUrlParams } from '../use-url-params';
import { useDebounced } from '../../ui/use-debounced';
import { ExportCaptionProvider, settingsText } from '../../ui/export-caption';
import { ErrorPanel } from '../ErrorPanel';
import { useViewModel } from '../use-view-model';
import { ModelGate } from '../ModelGate';
import { CompareCard } from './CompareCard';
import { MaskCard } from './MaskCard';
import { ALLOCATION_LABELS, METHOD_LABELS, PruneControls } from './PruneControls';
import { LayerSparsityChart, ProfileChart, ScoreHistogram } from './SparsityCharts';
import { EvalCard, useEvalInputs } from './EvalCard';
import { ExportModelButton } from '../../ui/ExportModelButton';

const NO_LAYERS: Layer[] = [];
/** Wait after the last slider move before pruning again. */
export const PRUNE_DEBOUNCE_MS = 150;



/**
 * /prune: masks for every layer of a model under one method, target and allocation, recomputed
 * in a worker as the slider moves; the selected layer's mask (zoomable), scores with the cut,
 * row/column profiles, a comparison with a second mask, per-layer sparsity with α, and — with an
 * ONNX graph and evaluation data — accuracy and loss against sparsity.
 */
export function PruneView() {
  const [params, update] = useUrlParams(parsePruneParams, writePruneParams);
  const preview = usePrune((s) => s.preview);
  const run = usePrune((s) => s.run);
  const cancel = usePrune((s) => s.cancel);
  const onModelName = useCallback((m: string) => update({ model: m }), [update]);
  const { model, models, pendingDemo, request } = useViewModel(params?.model, params !== null, onModelName);
  const layers = useMemo(() => (model?.status === 'ready' ? (model.layers ?? []).filter(isWeightMatrix) : NO_LAYERS), [model]);
  const layer = useMemo(() => layers.find((l) => l.name === params?.layer) ?? null, [layers, params?.layer]);
  useEffect(() => {
    if (params && !params.layer && layers[0]) update({ layer: layers[0].name });
  }, [params, layers, update]);

  const evalInputs = useEvalInputs(model, params?.onnx ?? null, params?.data ?? null);
  const settings = useDebounced(params?.settings, PRUNE_DEBOUNCE_MS);
  const compare = params?.compare ?? null;
  const modelRef = useMemo(() => (model ? { modelId: model.id, spec: model.spec } : null), [model]);
  const wantsActs = settings?.method === 'wanda' || compare?.method === 'wanda';
  useEffect(() => {
    if (!modelRef || !settings || model?.status !== 'ready' || layers.length === 0) return;
    if (wantsActs && !evalInputs.actNorms) return;
    run(modelRef, settings, layer?.tensor.name ?? null, compare, wantsActs ? (evalInputs.actNorms ?? undefined) : undefined);
  }, [modelRef, settings, layer, compare, run, model?.status, layers.length, wantsActs, evalInputs.actNorms]);

  if (!params) return null;
  const name = (model?.label ?? model?.info?.name ?? 'model').replace(/[^\w.-]+/g, '_');
  const fileName = `${name}-${(layer?.name ?? 'layer').replace(/[^\w.-]+/g, '_')}`;
  const result = preview?.result ?? null;
  const detail = result?.detail && result.detail.tensor === layer?.tensor.name ? result.detail : null;
  const row = result?.layers.find((r) => r.tensor === layer?.tensor.name);
  const bars: SparsityInput[] = (result?.layers ?? []).map((r) => ({ name: r.layer, order: r.order, target: r.target, achieved: r.achieved, alpha: r.alpha }));

  let body;
  const gate = <ModelGate model={model} wanted={params.model} pendingDemo={pendingDemo} request={request} />;
  if (!model || model.status !== 'ready') {
    body = gate;
  } else if (layers.length === 0) {
    body = <p className="muted">{model.label} has no weight matrices to prune.</p>;
  } else {
    const running = preview?.status === 'running';
    const s = params.settings;
    body = (
      <>
        <div className="q-status" data-testid="prune-status" data-status={preview?.status ?? 'idle'} data-key={preview?.key ?? ''}>
          {running && (
            <JobProgress value={preview.progress} label={preview.label} onCancel={cancel} cancelTestId="prune-cancel" />
          )}
          {preview?.status === 'cancelled' && <span className="muted small">Cancelled — change a setting to run again.</span>}
          {wantsActs && !evalInputs.actNorms && <span className="muted small" data-testid="prune-wanda-waiting">{evalInputs.reason ?? 'collecting activations…'}</span>}
        </div>
        {preview?.error && <ErrorPanel title={METHOD_LABELS[s.method]} error={preview.error} />}
        <div className={running ? 'q-results q-stale' : 'q-results'}>
          {result && (
            <section className="card q-summary" data-testid="prune-summary" data-sparsity={result.total.sparsity} data-kept={result.total.kept} data-weights={result.total.weights}>
              <div className="q-headline">
                <div>
                  <b>{(result.total.sparsity * 100).toFixed(2)}%</b> of {result.total.weights.toLocaleString('en-US')} weights removed
                </div>
                {row && (
                  <div data-testid="prune-layer-summary" data-achieved={row.achieved} data-target={row.target}>
                    {row.layer}: <b>{(row.achieved * 100).toFixed(2)}%</b> (target {(row.target * 100).toFixed(2)}%){row.alpha !== null ? `, α ${row.alpha.toFixed(3)}` : ''}
                    {row.nmViolations !== null && <span className={row.nmViolations === 0 ? 'muted' : 'sp-err'}>{row.nmViolations === 0 ? ` · valid ${s.n}:${s.m}` : ` · ${row.nmViolations} groups break ${s.n}:${s.m}`}</span>}
                  </div>
                )}
                <div className="muted small">
                  {METHOD_LABELS[s.method]}
                  {s.method === 'magnitude' && s.scope === 'global' ? ', global threshold' : ''}
                  {(s.method === 'lift' || s.method === 'wanda' || (s.method === 'magnitude' && s.scope === 'layer')) && s.allocation !== 'uniform' ? `, ${ALLOCATION_LABELS[s.allocation]} ε = ${s.epsilon}` : ''} · {(result.ms / 1000).toFixed(2)} s
                </div>
                <ExportModelButton
                  job={modelRef && settings && (settings.method !== 'wanda' || evalInputs.actNorms) ? { kind: 'export-pruned', model: modelRef, settings, ...(settings.method === 'wanda' && evalInputs.actNorms ? { actNorms: evalInputs.actNorms } : {}) } : null}
                  label="Download pruned model + masks"
                  testId="prune-export"
                />
              </div>
            </section>
          )}
          {bars.length > 0 && <LayerSparsityChart layers={bars} selected={layer?.name ?? null} onSelect={(n) => update({ layer: n, zoom: null })} name={name} />}
          {detail && (
            <>
              <MaskCard mask={detail.mask} zoom={params.zoom} onZoom={(z) => update({ zoom: z })} name={fileName} layer={detail.layer} sparsity={row?.achieved ?? 0} />
              {detail.compare && <CompareCard a={detail.mask} b={detail.compare.mask} labelA={METHOD_LABELS[s.method] + (s.allocation !== 'uniform' ? ` (${s.allocation})` : '')} labelB={METHOD_LABELS[detail.compare.method] + (detail.compare.allocation !== 'uniform' ? ` (${detail.compare.allocation})` : '')} name={fileName} />}
              <div className="q-charts">
                <ScoreHistogram counts={detail.histogram.counts} lo={detail.histogram.lo} hi={detail.histogram.hi} logScores={detail.histogram.logScores} threshold={detail.threshold} name={fileName} />
                <ProfileChart values={detail.rowSparsity} what="row" name={fileName} />
                <ProfileChart values={detail.colSparsity} what="column" name={fileName} />
              </div>
            </>
          )}
        </div>
        <EvalCard model={model} inputs={evalInputs} settings={params.settings} onPick={(p) => update(p)} name={name} />
      </>
    );
  }

  return (
    <div className="quantize-view" data-testid="prune-view" data-model={model?.id ?? ''}>
      <ViewHead
        title="Prune"
        model={model}
        models={models}
        onModel={(id) => update({ model: id, layer: null, zoom: null })}
        layers={layers}
        layer={layer}
        onLayer={(name) => update({ layer: name, zoom: null })}
        testId="prune"
      />
      <PruneControls settings={params.settings} onChange={(s) => update({ settings: s })} compare={params.compare} onCompare={(c) => update({ compare: c })} wandaReason={evalInputs.actNorms ? null : (evalInputs.reason ?? 'no activations yet')} />
      <ExportCaptionProvider model={model?.label ?? params.model ?? ''} settings={[layer ? `layer ${layer.name}` : '', settingsText(params.settings), params.compare ? `compared with ${settingsText(params.compare)}` : ''].filter(Boolean).join(' · ')}>{body}</ExportCaptionProvider>
    </div>
  );
}
