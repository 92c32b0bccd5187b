'use client';
import Link from 'next/link';
import type { FileIdentity } from '@/lib/state/model-identity';
import type { OpenModel } from '@/lib/state/models-store';
import { DemoModels } from './DemoModels';
import { ErrorPanel } from './ErrorPanel';
import { ReopenFile } from './ReopenFile';

/**
 * What an analysis view shows until its model is ready: the file request of a local-file
 * permalink, "opening…", the demo list when nothing is open, or the open error. Null once the
 * model is ready (the view draws its own body then).
 */
export function ModelGate({ model, wanted, pendingDemo, request }: { model: OpenModel | undefined; wanted: string | null; pendingDemo: boolean; request: FileIdentity | null }) {
  if (!model) {
    if (request) return <ReopenFile want={request} />;
    if (pendingDemo) {
      return (
        <div className="card opening" data-testid="model-opening">
          <div className="spinner" aria-hidden /> Opening {wanted}…
        </div>
      );
    }
    return (
      <div className="sp-empty">
        {wanted && <p className="sp-err">No open model “{wanted}” (model ids last as long as the tab; demo models open by name).</p>}
        <p className="muted">
          Pick a demo model, or open your own on the <Link href="/">Models</Link> page and come back.
        </p>
        <DemoModels />
      </div>
    );
  }
  if (model.status === 'opening') {
    return (
      <div className="card opening" data-testid="model-opening">
        <div className="spinner" aria-hidden /> Opening {model.label}…
      </div>
    );
  }
  if (model.status === 'error') return <ErrorPanel title={model.label} error={model.error ?? { kind: 'Error', code: 'internal', message: `${model.label}: failed to open` }} />;
  return null;
}
