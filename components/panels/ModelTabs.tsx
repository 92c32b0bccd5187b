'use client';
import { useModels } from '@/lib/state/models-store';

export function ModelTabs() {
  const models = useModels((s) => s.models);
  const activeId = useModels((s) => s.activeId);
  const setActive = useModels((s) => s.setActive);
  const close = useModels((s) => s.close);
  if (models.length === 0) return null;
  return (
    <div className="model-tabs" role="tablist" data-testid="model-tabs">
      {models.map((m) => (
        <div
          key={m.id}
          role="tab"
          aria-selected={m.id === activeId}
          className={`model-tab ${m.status}${m.id === activeId ? ' active' : ''}`}
          data-testid="model-tab"
          data-status={m.status}
          data-label={m.label}
          onClick={() => setActive(m.id)}
        >
          <span className={`dot ${m.status}`} aria-hidden />
          <span className="tab-label" title={m.label}>
            {m.label.split('/').filter(Boolean).pop() ?? m.label}
          </span>
          <button
            type="button"
            className="tab-close"
            aria-label={`Close ${m.label}`}
            onClick={(e) => {
              e.stopPropagation();
              close(m.id);
            }}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
