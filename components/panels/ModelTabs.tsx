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
          tabIndex={m.id === activeId ? 0 : -1}
          onKeyDown={(e) => {
            const i = models.findIndex((x) => x.id === m.id);
            const j = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? models.length - 1 : null;
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault();
              setActive(m.id);
            } else if (j !== null && models[(j + models.length) % models.length]) {
              e.preventDefault();
              const next = models[(j + models.length) % models.length]!;
              setActive(next.id);
              (e.currentTarget.parentElement?.children[(j + models.length) % models.length] as HTMLElement | undefined)?.focus();
            }
          }}
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
