'use client';
import { useEffect } from 'react';
import { useModels } from '@/lib/state/models-store';
import { installTestHooks } from '../test-hooks';
import { ModelTabs } from './ModelTabs';
import { ModelView } from './ModelView';
import { OpenPanel } from './OpenPanel';
import { StoredResults } from '../ui/StoredResults';

export function LandingView() {
  const models = useModels((s) => s.models);
  const activeId = useModels((s) => s.activeId);
  const active = models.find((m) => m.id === activeId);
  useEffect(() => installTestHooks(), []);
  return (
    <div className="landing">
      <OpenPanel />
      <ModelTabs />
      {active ? (
        <ModelView key={active.id} model={active} />
      ) : (
        <p className="muted empty-hint">Open a model to see its summary, a treemap of its parameters and a table of its tensors and layers.</p>
      )}
      <StoredResults />
    </div>
  );
}
