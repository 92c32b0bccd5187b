'use client';
import { ViewHead } from '../ViewHead';
import { useCallback, useDeferredValue, useEffect, useMemo, useRef } from 'react';
import type { EsdMode } from '@/lib/charts/spectra/esd-chart';
import { getComputePool } from '@/lib/jobs/compute-client';
import type { SpectraSettings } from '@/lib/jobs/job-types';
import type { Layer } from '@/lib/model/layer';
import { useSettings } from '@/lib/state/settings-store';
import { parseSpectraParams, spectraRunKey, writeSpectraParams } from '@/lib/state/spectra-settings';
import { useSpectra } from '@/lib/state/spectra-store';
import { AlphaDepthChart } from '../../charts/AlphaDepthChart';
import { AlphaQChart } from '../../charts/AlphaQChart';
import { useUrlParams } from '../use-url-params';
import { ExportCaptionProvider, settingsText } from '../../ui/export-caption';
import { useViewModel } from '../use-view-model';
import { ModelGate } from '../ModelGate';
import { CompareView } from './CompareView';
import { LayerDetail } from './LayerDetail';
import { LayerMetricsTable } from './LayerMetricsTable';
import { matchLayers } from './match-layers';
import type { SpectraRow } from './spectra-columns';
import { SpectraControls } from './SpectraControls';
import { SpectraProgress } from './SpectraProgress';
import { StoredMarker } from '@/components/ui/StoredResults';

const NO_LAYERS: Layer[] = [];

/**
 * /spectra: every analyzable layer of one open model analyzed in the worker pool, streamed into a
 * metrics table and charts. The URL holds the model (open model id or demo id), the selected layer,
 * the ESD view and the analysis settings, so the page is a permalink.
 */
/** A weight matrix the catalog skipped only for WeightWatcher's size limits, so it can still be analyzed. */
function pastLimitsOnly(l: Layer): boolean {
  return !l.analyzable && l.limited === true;
}

export function SpectraView() {
  const [params, update] = useUrlParams(parseSpectraParams, writeSpectraParams);
  const forceCpu = useSettings((s) => s.forceCpu);
  const start = useSpectra((s) => s.start);
  const cancel = useSpectra((s) => s.cancel);




  const onModelName = useCallback((m: string) => update({ model: m }), [update]);
  const { model, models, demos, pendingDemo, request } = useViewModel(params?.model, params !== null, onModelName);
  // ?compare=…: the second model, resolved like `model` (only when asked for: with no name the hook
  // would fall back to the active tab).
  const onCompareName = useCallback((m: string) => update({ compare: m }), [update]);
  const compareWanted = params?.compare ?? null;
  const { model: cmpModel } = useViewModel(compareWanted, params !== null && compareWanted !== null, onCompareName);

  const allLayers = params?.allLayers ?? false;
  const layers = useMemo(
    () => (model?.status === 'ready' ? (model.layers ?? []).filter((l) => l.analyzable || (allLayers && pastLimitsOnly(l))) : NO_LAYERS),
    [model, allLayers],
  );
  const pastLimits = useMemo(() => (model?.status === 'ready' ? (model.layers ?? []).filter(pastLimitsOnly).length : 0), [model]);
  const settings = params?.settings;
  const forceGpu = params?.forceGpu ?? false;
  const key = model && settings ? spectraRunKey(model.id, settings, forceCpu, forceGpu) : null;
  const run = useSpectra((s) => (key ? s.runs[key] : undefined));
  // The table and charts draw from deferred copies: React renders them as interruptible background
  // work (yielding every few ms), so a streamed batch never becomes one long main-thread task.
  // The progress bar reads `run` directly and stays current.
  const shownRun = useDeferredValue(run, undefined);
  const shownLayers = useDeferredValue(layers, NO_LAYERS);

  useEffect(() => {
    if (!model || model.status !== 'ready' || !settings || layers.length === 0) return;
    start({ modelId: model.id, spec: model.spec }, layers, settings, forceCpu, forceGpu);
    // Only a new model, new settings, a backend switch or a wider layer set start a run; cancelling
    // must not restart it.
  }, [model?.id, model?.status, key, allLayers]);

  const cmpLayers = useMemo(
    () => (cmpModel?.status === 'ready' ? (cmpModel.layers ?? []).filter((l) => l.analyzable || (allLayers && pastLimitsOnly(l))) : NO_LAYERS),
    [cmpModel, allLayers],
  );
  const cmpKey = cmpModel && settings ? spectraRunKey(cmpModel.id, settings, forceCpu, forceGpu) : null;
  const cmpRun = useSpectra((s) => (cmpKey ? s.runs[cmpKey] : undefined));
  const matched = useMemo(() => matchLayers(layers, cmpLayers), [layers, cmpLayers]);
  // The store keeps one run live, and starting one stops the other: the comparison's run starts once
  // the main one is done, so both complete (a settings change stops it, and it resumes after).
  const mainDone = run?.status === 'done';
  useEffect(() => {
    if (!mainDone || !cmpModel || cmpModel.status !== 'ready' || !settings || cmpLayers.length === 0) return;
    start({ modelId: cmpModel.id, spec: cmpModel.spec }, cmpLayers, settings, forceCpu, forceGpu);
  }, [mainDone, cmpModel?.id, cmpModel?.status, cmpKey, allLayers]);

  // Select the first layer to arrive when the URL names none.
  const firstArrived = run ? Object.keys(run.results)[0] : undefined;
  const byTensor = useMemo(() => new Map(layers.map((l) => [l.tensor.name, l])), [layers]);
  useEffect(() => {
    if (params && !params.layer && firstArrived) {
      const l = byTensor.get(firstArrived);
      if (l) update({ layer: l.name });
    }
  }, [params, firstArrived, byTensor, update]);

  // Rows keep their identity while their result is unchanged, so memoised table rows skip re-rendering.
  const rowCache = useRef(new Map<string, SpectraRow>());
  const rows = useMemo<SpectraRow[]>(
    () =>
      shownLayers.map((l) => {
        const result = shownRun?.results[l.tensor.name];
        const error = shownRun?.errors[l.tensor.name];
        const old = rowCache.current.get(l.tensor.name);
        if (old && old.layer === l && old.result === result && old.error === error) return old;
        const row = { layer: l, result, error };
        rowCache.current.set(l.tensor.name, row);
        return row;
      }),
    [shownLayers, shownRun?.results, shownRun?.errors],
  );
  const depthInput = useMemo(
    () =>
      rows.map((r) => {
        const s = r.result?.spectrum;
        return {
          name: r.layer.name,
          order: r.layer.id,
          block: r.layer.block,
          Q: r.layer.Q,
          alpha: s?.ok && s.status === 'ok' ? s.alpha : null,
          farmsAlpha: s?.ok && s.farms ? s.farms.alpha : null,
        };
      }),
    [rows],
  );

  const selectLayerCb = useCallback((n: string) => update({ layer: n }), [update]);
  const onEsd = useCallback((esd: EsdMode) => update({ esd }), [update]);

  if (!params) return null;
  const name = (model?.label ?? model?.info?.name ?? 'model').replace(/[^\w.-]+/g, '_');
  const selectLayer = selectLayerCb;

  let body;
  const gate = <ModelGate model={model} wanted={params.model} pendingDemo={pendingDemo} request={request} />;
  if (!model || model.status !== 'ready') {
    body = gate;
  } else if (layers.length === 0) {
    body = <p className="muted">{model.label} has no analyzable layers (see the Models page for why each was skipped).</p>;
  } else {
    const selected = layers.find((l) => l.name === params.layer);
    body = (
      <>
        {run && <SpectraProgress run={run} workers={Math.min(getComputePool().size, layers.length)} onCancel={cancel} onResume={() => start({ modelId: model.id, spec: model.spec }, layers, params.settings, forceCpu, forceGpu)} />}
        {run && run.restored.length > 0 && <StoredMarker count={run.restored.length} of={run.restored.length === 1 ? 'layer' : 'layers'} />}
        {pastLimits > 0 && (
          <label className="sp-limits" data-testid="spectra-limits">
            <input type="checkbox" checked={params.allLayers} onChange={(e) => update({ allLayers: e.target.checked })} data-testid="spectra-limits-off" />
            Also analyze the {pastLimits} layer{pastLimits === 1 ? '' : 's'} WeightWatcher skips by default (min_evals 10, max_evals 15000, max_N 50000)
          </label>
        )}
        <LayerMetricsTable rows={rows} selected={params.layer} onSelect={selectLayer} model={model.label} />
        {params.compare &&
          (cmpModel?.status === 'ready' ? (
            <CompareView matched={matched} runA={shownRun} runB={cmpRun} labelA={model.label} labelB={cmpModel.label} selected={params.layer} onSelect={selectLayer} esd={params.esd} onEsd={onEsd} name={`${name}-vs-${cmpModel.label.replace(/[^\w.-]+/g, '_')}`} />
          ) : (
            <p className="muted" data-testid="compare-opening">
              {cmpModel?.status === 'error' ? `Could not open ${cmpModel.label} to compare.` : `Opening ${params.compare} to compare…`}
            </p>
          ))}
        {selected ? (
          <LayerDetail key={selected.name} layer={selected} result={shownRun?.results[selected.tensor.name]} esd={params.esd} onEsd={onEsd} name={`${name}-${selected.name.replace(/[^\w.-]+/g, '_')}`} />
        ) : (
          <p className="muted">Select a layer in the table to see its spectrum.</p>
        )}
        <div className="sp-overview">
          <AlphaDepthChart layers={depthInput} selected={params.layer} onSelect={selectLayer} name={name} />
          <AlphaQChart layers={depthInput} selected={params.layer} onSelect={selectLayer} name={name} />
        </div>
      </>
    );
  }

  return (
    <div
      className="spectra-view"
      data-testid="spectra-view"
      data-model={model?.id ?? ''}
      data-status={run?.status ?? 'idle'}
      data-first-layer-ms={run?.firstLayerMs ?? ''}
      data-started-at={run?.startedAt ?? ''}
    >
      <ViewHead title="Spectra" model={model} models={models} onModel={(id) => update({ model: id, layer: null })} testId="spectra">
        <select value={params.compare ?? ''} onChange={(e) => update({ compare: e.target.value || null })} aria-label="Compare with" data-testid="spectra-compare">
          <option value="">Compare with…</option>
          {models
            .filter((m) => m.id !== model?.id)
            .map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          {(demos ?? []).map((d) => (
            <option key={d.id} value={d.id}>
              demo: {d.id}
            </option>
          ))}
          {params.compare && !models.some((m) => m.id === params.compare) && !(demos ?? []).some((d) => d.id === params.compare) && <option value={params.compare}>{params.compare}</option>}
        </select>
        <SpectraControls settings={params.settings} onChange={(s: SpectraSettings) => update({ settings: s })} />
      </ViewHead>
      <ExportCaptionProvider model={model?.label ?? params.model ?? ''} settings={[params.layer ? `layer ${params.layer}` : '', `ESD ${params.esd}`, settingsText(params.settings)].filter(Boolean).join(' · ')}>{body}</ExportCaptionProvider>
    </div>
  );
}
