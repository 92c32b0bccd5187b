'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useModels, type OpenModel } from '@/lib/state/models-store';
import type { DemoModel } from './DemoModels';

/** A demo model is open when one of the open models was fetched from its URL. */
export function demoOf(m: OpenModel, demos: readonly DemoModel[]): DemoModel | undefined {
  if (m.spec.kind !== 'url') return undefined;
  const url = m.spec.url;
  return demos.find((d) => url.endsWith(d.url));
}

/**
 * The model an analysis view (/spectra, /quantize, …) shows: an open model by id, a demo by id
 * (opened on demand, so a permalink naming a demo works in a fresh tab), else the active tab.
 * Once known, the model's permalink name (demo id, else tab id) is passed to `onName` for the URL.
 */
export function useViewModel(wanted: string | null | undefined, ready: boolean, onName: (name: string) => void) {
  const [demos, setDemos] = useState<DemoModel[] | null>(null);
  const models = useModels((s) => s.models);
  const activeId = useModels((s) => s.activeId);
  const openModel = useModels((s) => s.open);
  const opening = useRef(new Set<string>());

  useEffect(() => {
    fetch('/models/manifest.json')
      .then((r) => (r.ok ? r.json() : { models: [] }))
      .then((m: { models: DemoModel[] }) => setDemos(m.models))
      .catch(() => setDemos([]));
  }, []);

  const model = useMemo(() => {
    if (!ready) return undefined;
    if (wanted) {
      const byId = models.find((m) => m.id === wanted);
      if (byId) return byId;
      const demo = demos?.find((d) => d.id === wanted);
      if (demo) return models.find((m) => demoOf(m, [demo]));
      return undefined;
    }
    return models.find((m) => m.id === activeId);
  }, [ready, wanted, models, activeId, demos]);

  useEffect(() => {
    if (!wanted || model || !demos) return;
    const demo = demos.find((d) => d.id === wanted);
    if (!demo || opening.current.has(demo.id)) return;
    opening.current.add(demo.id);
    void openModel({ kind: 'url', url: new URL(demo.url, window.location.href).href, label: demo.file });
  }, [wanted, model, demos, openModel]);

  useEffect(() => {
    if (!ready || wanted || !model || !demos) return;
    onName(demoOf(model, demos)?.id ?? model.id);
  }, [ready, wanted, model, demos, onName]);

  const pendingDemo = Boolean(wanted && (!demos || demos.some((d) => d.id === wanted)));
  return { model, models, demos, pendingDemo };
}
