'use client';
import { useEffect, useMemo, useState } from 'react';
import type { ModelRef } from '@/lib/jobs/job-types';
import { useModels, type OpenModel } from '@/lib/state/models-store';
import type { DemoModel } from './DemoModels';
import { demoOf } from './use-view-model';

/** The demo manifest (public/models/manifest.json), [] until loaded or when missing. */
export function useDemos(): DemoModel[] {
  const [demos, setDemos] = useState<DemoModel[]>([]);
  useEffect(() => {
    fetch('/models/manifest.json')
      .then((r) => (r.ok ? r.json() : { models: [] }))
      .then((m: { models: DemoModel[] }) => setDemos(m.models))
      .catch(() => setDemos([]));
  }, []);
  return demos;
}

/** A model reference by id: an open tab's model, or a demo (opened by URL in the worker). */
export function refOf(id: string, demos: readonly DemoModel[], models: readonly OpenModel[]): ModelRef | null {
  const open = models.find((m) => m.id === id);
  if (open) return { modelId: open.id, spec: open.spec };
  if (/^https?:\/\//i.test(id)) return { modelId: id, spec: { kind: 'url', url: id } };
  const demo = demos.find((d) => d.id === id);
  if (demo && typeof window !== 'undefined') return { modelId: `demo:${demo.id}`, spec: { kind: 'url', url: new URL(demo.url, window.location.href).href, label: demo.file } };
  return null;
}

/** True when the open model is one of the MNIST demo MLPs (which come with a graph and an eval set). */
export function isMnistDemo(model: OpenModel | undefined, demos: readonly DemoModel[]): boolean {
  return model ? /^mnist-mlp-(?!onnx)/.test(demoOf(model, demos)?.id ?? '') : false;
}

/**
 * The ONNX graph and evaluation set a view evaluates with: the ids chosen (in its URL), defaulting
 * to the MNIST graph and eval set when the model is an MNIST demo; plus the choices for the pickers.
 */
export function useEvalRefs(model: OpenModel | undefined, onnxId: string | null, dataId: string | null) {
  const demos = useDemos();
  const models = useModels((s) => s.models);
  const mnist = isMnistDemo(model, demos);
  const graphId = onnxId ?? (mnist ? 'mnist-mlp-onnx' : null);
  const dId = dataId ?? (mnist ? 'mnist-eval' : null);
  const graph = useMemo(() => (graphId ? refOf(graphId, demos, models) : null), [graphId, demos, models]);
  const data = useMemo(() => (dId ? refOf(dId, demos, models) : null), [dId, demos, models]);
  const choices = useMemo(
    () => [...models.filter((m) => m.id !== model?.id).map((m) => ({ id: m.id, label: m.label })), ...demos.filter((d) => /onnx|eval/.test(d.id) || d.file.endsWith('.onnx')).map((d) => ({ id: d.id, label: `${d.file} (demo)` }))],
    [models, demos, model?.id],
  );
  return { demos, graph, data, graphId, dataId: dId, choices };
}
