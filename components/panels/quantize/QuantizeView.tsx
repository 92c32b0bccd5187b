'use client';
import { JobProgress } from '../../ui/JobProgress';
import { ViewHead } from '../ViewHead';
import { useCallback, useEffect, useMemo } from 'react';
import { codewordColors } from '@/lib/charts/quant/codeword-colors';
import { errorScale } from '@/lib/charts/quant/map-image';
import { formatStat } from '@/lib/charts/format-number';
import type { QuantSettings } from '@/lib/jobs/job-types';
import { isWeightMatrix, type Layer } from '@/lib/model/layer';
import { parseQuantParams, quantSettingsRows, writeQuantParams } from '@/lib/state/quant-settings';
import { rdKey, sweepKey, useQuant } from '@/lib/state/quant-store';
import { useSettings } from '@/lib/state/settings-store';
import { useUrlParams } from '../use-url-params';
import { useDebounced } from '../../ui/use-debounced';
import { ExportCaptionProvider } from '../../ui/export-caption';
import { ErrorPanel } from '../ErrorPanel';
import { StoredMarker } from '../../ui/StoredResults';
import { useViewModel } from '../use-view-model';
import { ModelGate } from '../ModelGate';
import { ProjectionChart } from './ProjectionChart';
import { QuantControls } from './QuantControls';
import { QuantMapCard } from './QuantMapCard';
import { QuantSummary } from './QuantSummary';
import { RdChart } from './RdChart';
import { SweepCard } from './SweepCard';
import { UsageChart } from './UsageChart';

/** Wait after the last settings change before quantizing (a dragged slider starts one job, not twenty). */
export const SETTINGS_DEBOUNCE_MS = 250;

const NO_LAYERS: Layer[] = [];



/**
 * /quantize: one layer quantized with the chosen method and settings, recomputed in the workers
 * as settings change (stale answers dropped), shown as metrics, aligned maps, codeword usage, a
 * projection, the rate–distortion plot and a whole-model sweep. The URL holds everything.
 */
export function QuantizeView() {
  const [params, update] = useUrlParams(parseQuantParams, writeQuantParams);
  const forceCpu = useSettings((s) => s.forceCpu);
  const preview = useQuant((s) => s.preview);
  const runPreview = useQuant((s) => s.runPreview);
  const cancelPreview = useQuant((s) => s.cancelPreview);
  const runRd = useQuant((s) => s.runRd);
  const cancelRd = useQuant((s) => s.cancelRd);
  const runSweep = useQuant((s) => s.runSweep);
  const cancelSweep = useQuant((s) => s.cancelSweep);

  const onModelName = useCallback((m: string) => update({ model: m }), [update]);
  const { model, models, pendingDemo, request } = useViewModel(params?.model, params !== null, onModelName);

  const layers = useMemo(() => (model?.status === 'ready' ? (model.layers ?? []).filter(isWeightMatrix) : NO_LAYERS), [model]);
  const layer = useMemo(() => layers.find((l) => l.name === params?.layer) ?? null, [layers, params?.layer]);
  useEffect(() => {
    if (params && !params.layer && layers[0]) update({ layer: layers[0].name });
  }, [params, layers, update]);

  const settings = useDebounced(params?.settings, SETTINGS_DEBOUNCE_MS);
  const forceGpu = params?.forceGpu ?? false;
  const modelRef = useMemo(() => (model ? { modelId: model.id, spec: model.spec } : null), [model]);
  useEffect(() => {
    if (!modelRef || !layer || !settings || model?.status !== 'ready') return;
    runPreview(modelRef, layer.tensor.name, settings, forceCpu, forceGpu);
  }, [modelRef, layer, settings, forceCpu, forceGpu, runPreview, model?.status]);

  // The RD sweep of the layer starts once its first preview is in (it shares the worker pool).
  const result = preview?.result && preview.result.tensor === layer?.tensor.name ? preview.result : null;
  const rd = useQuant((s) => (model && layer && settings ? s.rd[rdKey(model.id, layer.tensor.name, settings)] : undefined));
  useEffect(() => {
    if (modelRef && layer && settings && result && preview?.status === 'done') runRd(modelRef, layer.tensor.name, settings, forceCpu);
  }, [modelRef, layer, settings, result, preview?.status, runRd, forceCpu]);
  const sweep = useQuant((s) => (model && settings ? s.sweep[sweepKey(model.id, settings)] : undefined));
  const restoreSweep = useQuant((s) => s.restoreSweep);
  useEffect(() => {
    if (modelRef && settings && model?.status === 'ready') restoreSweep(modelRef, settings, forceCpu);
  }, [modelRef, settings, forceCpu, restoreSweep, model?.status]);

  const colors = useMemo(() => (result?.projection ? codewordColors(result.projection.codewords, result.projection.codewords.length / 2, result.projection.mode) : null), [result]);
  const scale = useMemo(() => (result?.maps ? errorScale(result.maps) : null), [result]);

  if (!params) return null;
  const name = (model?.label ?? model?.info?.name ?? 'model').replace(/[^\w.-]+/g, '_');
  const fileName = `${name}-${(layer?.name ?? 'layer').replace(/[^\w.-]+/g, '_')}`;
  const setSettings = (s: QuantSettings) => update({ settings: s });

  let body;
  const gate = <ModelGate model={model} wanted={params.model} pendingDemo={pendingDemo} request={request} />;
  if (!model || model.status !== 'ready') {
    body = gate;
  } else if (layers.length === 0) {
    body = <p className="muted">{model.label} has no weight matrices to quantize.</p>;
  } else {
    const running = preview?.status === 'running';
    const maps = result?.maps;
    body = (
      <>
        <div className="q-status" data-testid="quant-status" data-status={preview?.status ?? 'idle'} data-key={preview?.key ?? ''}>
          {running && (
            <JobProgress value={preview.progress} label={preview.label} onCancel={cancelPreview} cancelTestId="quant-cancel" />
          )}
          {preview?.status === 'done' && preview.source === 'stored' && <StoredMarker />}
          {preview?.status === 'cancelled' && <span className="muted small">Cancelled — change a setting or press Run to quantize again.</span>}
          {preview?.status === 'cancelled' && modelRef && layer && settings && (
            <button type="button" className="btn btn-small" onClick={() => runPreview(modelRef, layer.tensor.name, settings, forceCpu, forceGpu)} data-testid="quant-rerun">
              Run
            </button>
          )}
          {result && <span className="muted small">{result.backend === 'webgpu' ? `WebGPU · ${result.adapter ?? ''}` : `CPU${result.backendNote ? ` · ${result.backendNote}` : ''}`} · {formatStat(result.ms / 1000)} s</span>}
        </div>
        {preview?.error && <ErrorPanel title={layer?.name ?? 'layer'} error={preview.error} />}
        <div className={running ? 'q-results q-stale' : 'q-results'}>
          {result && <QuantSummary result={result} model={model.label} />}
          {maps && scale && (
            <div className="q-maps">
              {maps.assign && (
                <QuantMapCard kind="assign" maps={maps} colors={colors} scale={scale} zoom={params.zoom} onZoom={(z) => update({ zoom: z })} name={fileName} layer={result.layer} legend="colour = codeword (its place in the projection)" />
              )}
              <QuantMapCard kind="error" maps={maps} colors={colors} scale={scale} zoom={params.zoom} onZoom={(z) => update({ zoom: z })} name={fileName} layer={result.layer} legend={`‖w − ŵ‖² per ${result.subLen === 1 ? 'weight' : 'sub-vector'}, log scale 10^${scale.lo.toFixed(1)}…10^${scale.hi.toFixed(1)}`} />
              {maps.ratio && (
                <QuantMapCard kind="ambiguity" maps={maps} colors={colors} scale={scale} zoom={params.zoom} onZoom={(z) => update({ zoom: z })} name={fileName} layer={result.layer} legend="bright = nearly equidistant from two codewords" />
              )}
            </div>
          )}
          <div className="q-charts">
            {result?.sortedCounts && result.usage && <UsageChart sortedCounts={result.sortedCounts} entropyBits={result.usage.entropyBits} perplexity={result.usage.perplexity} dead={result.usage.dead} name={fileName} />}
            {result?.projection && <ProjectionChart projection={result.projection} colors={colors} name={fileName} />}
          </div>
          {rd && <RdChart rd={rd} current={result ? { bpw: result.bits.total, sqnrDb: result.error.sqnrDb } : null} name={fileName} onCancel={cancelRd} />}
        </div>
        <SweepCard
          layers={layers}
          sweep={sweep}
          selected={layer?.name ?? null}
          onSelect={(n) => update({ layer: n, zoom: null })}
          onRun={(ls) => modelRef && settings && runSweep(modelRef, ls, settings, forceCpu)}
          onCancel={cancelSweep}
          name={name}
          model={modelRef}
          settings={settings}
        />
      </>
    );
  }

  return (
    <div className="quantize-view" data-testid="quantize-view" data-model={model?.id ?? ''}>
      <ViewHead
        title="Quantize"
        model={model}
        models={models}
        onModel={(id) => update({ model: id, layer: null, zoom: null })}
        layers={layers}
        layer={layer}
        onLayer={(name) => update({ layer: name, zoom: null })}
        testId="quant"
      />
      <QuantControls settings={params.settings} cols={result && layer && result.tensor === layer.tensor.name ? result.cols : layer ? layer.slices.in * layer.slices.kh * layer.slices.kw : null} onChange={setSettings} />
      <ExportCaptionProvider model={model?.label ?? params.model ?? ''} settings={[layer ? `layer ${layer.name}` : '', quantSettingsRows(params.settings).map(([k, v]) => `${k} ${v}`).join(', ')].filter(Boolean).join(' · ')}>{body}</ExportCaptionProvider>
    </div>
  );
}
