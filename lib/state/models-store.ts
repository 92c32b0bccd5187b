import { create } from 'zustand';
import { toErrorInfo, type ErrorInfo } from '../base/errors';
import { getComputePool } from '../jobs/compute-client';
import type { ModelSpec, OpenModelResult } from '../jobs/job-types';
import { buildLayers, modelSummary, moduleTree, type Layer, type ModelSummary, type ModuleNode } from '../model';

/**
 * The open models (a tab each). Opening happens in a worker; this store keeps only what came back
 * (tensor list, metadata) plus the catalog built from it. One model failing never touches the others.
 */

export type ModelStatus = 'opening' | 'ready' | 'error';

export interface OpenModel {
  id: string;
  label: string;
  spec: ModelSpec;
  status: ModelStatus;
  error?: ErrorInfo;
  info?: OpenModelResult;
  layers?: Layer[];
  tree?: ModuleNode;
  summary?: ModelSummary;
}

export interface ModelsState {
  models: OpenModel[];
  activeId: string | null;
  open(spec: ModelSpec): Promise<string>;
  close(id: string): void;
  setActive(id: string): void;
}

let counter = 0;

function labelOf(spec: ModelSpec): string {
  if (spec.label) return spec.label;
  return spec.kind === 'url' ? spec.url : spec.primary;
}

export const useModels = create<ModelsState>((set, get) => ({
  models: [],
  activeId: null,
  async open(spec) {
    const id = `m${++counter}`;
    const label = labelOf(spec);
    set((s) => ({ models: [...s.models, { id, label, spec, status: 'opening' }], activeId: id }));
    const patch = (p: Partial<OpenModel>) => set((s) => ({ models: s.models.map((m) => (m.id === id ? { ...m, ...p } : m)) }));
    try {
      const { data } = await getComputePool().run({ kind: 'open-model', model: { modelId: id, spec } });
      if (!get().models.some((m) => m.id === id)) return id; // closed while opening
      const layers = buildLayers(data.tensors, data.format);
      patch({
        status: 'ready',
        info: data,
        layers,
        tree: moduleTree(data.tensors),
        summary: modelSummary(data.format, data.tensors, layers, data.totalBytes),
      });
    } catch (e) {
      patch({ status: 'error', error: toErrorInfo(e) });
    }
    return id;
  },
  close(id) {
    const models = get().models.filter((m) => m.id !== id);
    const activeId = get().activeId === id ? (models.at(-1)?.id ?? null) : get().activeId;
    set({ models, activeId });
    void getComputePool().closeModel(id);
  },
  setActive(id) {
    set({ activeId: id });
  },
}));
