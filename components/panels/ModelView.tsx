'use client';
import { useEffect, useState } from 'react';
import type { OpenModel } from '@/lib/state/models-store';
import { useSettings } from '@/lib/state/settings-store';
import { useStats } from '@/lib/state/stats-store';
import { TreemapChart } from '../charts/TreemapChart';
import { ErrorPanel } from './ErrorPanel';
import { ModelSummaryPanel } from './ModelSummaryPanel';
import { TensorStatsPanel } from './TensorStatsPanel';
import { TensorTable } from './TensorTable';

export function ModelView({ model }: { model: OpenModel }) {
  const [pathFilter, setPathFilter] = useState('');
  const forceCpu = useSettings((s) => s.forceCpu);
  const request = useStats((s) => s.request);
  const statsTensor = useStats((s) => (s.modelId === model.id ? s.tensor : null));
  const statsForceCpu = useStats((s) => s.forceCpu);

  // Toggling "Force CPU" recomputes the open tensor on the other backend.
  useEffect(() => {
    if (statsTensor && statsForceCpu !== forceCpu) void request({ modelId: model.id, spec: model.spec }, statsTensor, forceCpu);
  }, [forceCpu, statsTensor, statsForceCpu, request, model.id, model.spec]);

  if (model.status === 'opening') {
    return (
      <div className="card opening" data-testid="model-opening">
        <div className="spinner" aria-hidden /> Opening {model.label}… (reading the header only)
      </div>
    );
  }
  if (model.status === 'error' || !model.info || !model.summary || !model.tree || !model.layers) {
    return <ErrorPanel title={model.label} error={model.error ?? { kind: 'Error', code: 'internal', message: `${model.label}: failed to open` }} />;
  }
  const info = model.info;
  return (
    <div className="model-view" data-testid="model-view" data-model-id={model.id}>
      <ModelSummaryPanel summary={model.summary} name={model.label} source={info.name} />
      <TreemapChart tree={model.tree} name={info.name.replace(/[^\w.-]+/g, '_')} onSelectPath={setPathFilter} />
      <div className="split">
        <TensorTable
          tensors={info.tensors}
          layers={model.layers}
          selected={statsTensor}
          onSelect={(name) => void request({ modelId: model.id, spec: model.spec }, name, forceCpu)}
          pathFilter={pathFilter}
          onClearPath={() => setPathFilter('')}
        />
        <TensorStatsPanel modelId={model.id} />
      </div>
    </div>
  );
}
