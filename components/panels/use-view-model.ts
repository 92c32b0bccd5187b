'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import { fileIdentityOf, formatFileIdentity, isModelUrl, parseFileIdentity, type FileIdentity } from '@/lib/state/model-identity';
import { useModels, type OpenModel } from '@/lib/state/models-store';
import type { DemoModel } from './DemoModels';

/** A demo model is open when one of the open models was fetched from its URL. */
export function demoOf(m: OpenModel, demos: readonly DemoModel[]): DemoModel | undefined {
  if (m.spec.kind !== 'url') return undefined;
  const url = m.spec.url;
  return demos.find((d) => url.endsWith(d.url));
}

/**
 * The model an analysis view (/spectra, /quantize, …) shows, from the `model` URL parameter:
 * an open model by id; a demo by id (opened on demand); a model URL (opened on demand); a local
 * file's identity `file:name:size:hash` (matched against the open files; when none matches, the
 * view asks for the file — `request` — and checks it before showing anything); else the active tab.
 * Once known, the model's permalink name (demo id, URL or file identity) goes to `onName`.
 */
export function useViewModel(wanted: string | null | undefined, ready: boolean, onName: (name: string) => void) {
  const [demos, setDemos] = useState<DemoModel[] | null>(null);
  const models = useModels((s) => s.models);
  const activeId = useModels((s) => s.activeId);
  const openModel = useModels((s) => s.open);
  const opening = useRef(new Set<string>());
  // File identities of the open local models, computed once each (a 64 KB read and a hash).
  const [fileIds, setFileIds] = useState<Record<string, string>>({});

  useEffect(() => {
    fetch('/models/manifest.json')
      .then((r) => (r.ok ? r.json() : { models: [] }))
      .then((m: { models: DemoModel[] }) => setDemos(m.models))
      .catch(() => setDemos([]));
  }, []);

  useEffect(() => {
    for (const m of models) {
      if (m.spec.kind !== 'files' || fileIds[m.id]) continue;
      void fileIdentityOf(m.spec).then((id) => id && setFileIds((s) => ({ ...s, [m.id]: formatFileIdentity(id) })));
    }
  }, [models, fileIds]);

  const model = useMemo(() => {
    if (!ready) return undefined;
    if (wanted) {
      const byId = models.find((m) => m.id === wanted);
      if (byId) return byId;
      const demo = demos?.find((d) => d.id === wanted);
      if (demo) return models.find((m) => demoOf(m, [demo]));
      if (isModelUrl(wanted)) return models.find((m) => m.spec.kind === 'url' && m.spec.url === wanted);
      if (wanted.startsWith('file:')) return models.find((m) => fileIds[m.id] === wanted);
      return undefined;
    }
    return models.find((m) => m.id === activeId);
  }, [ready, wanted, models, activeId, demos, fileIds]);

  useEffect(() => {
    if (!wanted || model || !demos) return;
    const demo = demos.find((d) => d.id === wanted);
    const url = demo ? new URL(demo.url, window.location.href).href : isModelUrl(wanted) ? wanted : null;
    if (!url || opening.current.has(wanted)) return;
    opening.current.add(wanted);
    void openModel({ kind: 'url', url, ...(demo ? { label: demo.file } : {}) });
  }, [wanted, model, demos, openModel]);

  const name = useMemo(() => {
    if (!model || !demos) return null;
    const demo = demoOf(model, demos);
    if (demo) return demo.id;
    if (model.spec.kind === 'url') return model.spec.url;
    return fileIds[model.id] ?? null;
  }, [model, demos, fileIds]);
  useEffect(() => {
    // Name the model in the URL once known (and replace a tab id, which a fresh tab could not use).
    if (!ready || !name || wanted === name) return;
    if (wanted && !models.some((m) => m.id === wanted)) return;
    onName(name);
  }, [ready, name, wanted, models, onName]);

  const request: FileIdentity | null = !model && wanted ? parseFileIdentity(wanted) : null;
  const pendingDemo = Boolean(wanted && !request && (!demos || demos.some((d) => d.id === wanted) || isModelUrl(wanted)));
  return { model, models, demos, pendingDemo, request };
}
