'use client';
import type { ReactNode } from 'react';
import type { Layer } from '@/lib/model/layer';
import type { OpenModel } from '@/lib/state/models-store';

/**
 * An analysis view's heading: its title, the model shown, a model picker when several are open,
 * a layer picker when the view has layers, then the view's own controls (`children`). Picker test
 * ids are `<testId>-model` and `<testId>-layer`.
 */
export function ViewHead({
  title, model, models, onModel, layers, layer, onLayer, testId, children,
}: {
  title: string;
  model: OpenModel | undefined;
  models: readonly OpenModel[];
  onModel(id: string): void;
  layers?: readonly Layer[];
  layer?: Layer | null;
  onLayer?(name: string): void;
  testId: string;
  children?: ReactNode;
}) {
  return (
    <div className="sp-head">
      <h2>{title}</h2>
      {model && <span className="mono">{model.label}</span>}
      {models.length > 1 && (
        <select value={model?.id ?? ''} onChange={(e) => onModel(e.target.value)} aria-label="Model" data-testid={`${testId}-model`}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
      )}
      {layers && layers.length > 0 && onLayer && (
        <select value={layer?.name ?? ''} onChange={(e) => onLayer(e.target.value)} aria-label="Layer" data-testid={`${testId}-layer`}>
          {layers.map((l) => (
            <option key={l.name} value={l.name}>
              {l.name} [{l.tensor.shape.join('×')}]
            </option>
          ))}
        </select>
      )}
      {children}
    </div>
  );
}
