'use client';
import { useEffect, useState } from 'react';
import { formatBytes } from '@/lib/charts/format-number';
import { useModels } from '@/lib/state/models-store';

/** One entry of public/models/manifest.json (written by scripts/prepare-demo.mjs). */
export interface DemoModel {
  id: string;
  title: string;
  description: string;
  url: string;
  file: string;
  bytes: number;
  origin: string;
  originLicense: string;
  upstream: string;
  upstreamLicense: string;
}

/** Demo ids already opened from the page URL (React may run effects twice in development). */
const openedFromUrl = new Set<string>();

/** `/?model=<demo id>` opens that demo model: a link a user can share. */
function openDemoFromUrl(models: DemoModel[], open: ReturnType<typeof useModels.getState>['open']): void {
  const wanted = new URLSearchParams(window.location.search).get('model');
  const demo = wanted ? models.find((m) => m.id === wanted) : undefined;
  if (!demo || openedFromUrl.has(demo.id)) return;
  openedFromUrl.add(demo.id);
  const url = new URL(demo.url, window.location.href).href;
  if (useModels.getState().models.some((m) => m.spec.kind === 'url' && m.spec.url === url)) return;
  void open({ kind: 'url', url, label: demo.file });
}

export function DemoModels() {
  const open = useModels((s) => s.open);
  const [models, setModels] = useState<DemoModel[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    fetch('/models/manifest.json')
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((m: { models: DemoModel[] }) => {
        setModels(m.models);
        openDemoFromUrl(m.models, open);
      })
      .catch((e: Error) => setFailed(`No demo manifest (${e.message}); run node scripts/prepare-demo.mjs`));
  }, [open]);
  return (
    <div className="demo-models" data-testid="demo-models">
      <h3>Demo models</h3>
      {failed && <p className="muted">{failed}</p>}
      {!models && !failed && <p className="muted">Loading…</p>}
      <ul>
        {models?.map((m) => (
          <li key={m.id}>
            <button
              type="button"
              className="demo-open"
              data-testid={`demo-${m.id}`}
              onClick={() => void open({ kind: 'url', url: new URL(m.url, window.location.href).href, label: m.file })}
            >
              <span className="demo-title">{m.title}</span>
              <span className="demo-meta">
                {m.file} · {formatBytes(m.bytes)}
              </span>
            </button>
            <span className="demo-origin" title={m.description}>
              {m.origin} ({m.originLicense}) · from {m.upstream} ({m.upstreamLicense})
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
