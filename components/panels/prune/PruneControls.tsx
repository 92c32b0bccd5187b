'use client';
import type { PruneAllocation, PruneMethod, PruneSettings } from '@/lib/jobs/job-types';
import { formatModuleTypes, parseModuleTypes } from '@/lib/state/prune-settings';

export const METHOD_LABELS: Record<PruneMethod, string> = {
  magnitude: 'Magnitude',
  nm: 'N:M',
  lift: 'LIFT (principal weights)',
  dimap: 'DIMAP',
  wanda: 'Wanda (activations)',
};
export const ALLOCATION_LABELS: Record<PruneAllocation, string> = {
  uniform: 'uniform',
  alpha: 'AlphaPruning (raw α)',
  farms: 'AlphaPruning (FARMS α)',
};

/** Method, target sparsity, allocation and each method's own settings; the comparison picker. */
export function PruneControls({
  settings: s, onChange, compare, onCompare, wandaReason,
}: {
  settings: PruneSettings;
  onChange(s: PruneSettings): void;
  compare: { method: PruneMethod; allocation: PruneAllocation } | null;
  onCompare(c: { method: PruneMethod; allocation: PruneAllocation } | null): void;
  /** Why Wanda cannot run (no graph or data), or null when it can. */
  wandaReason: string | null;
}) {
  const set = (p: Partial<PruneSettings>) => onChange({ ...s, ...p });
  const usesAllocation = s.method === 'magnitude' ? s.scope === 'layer' : s.method === 'lift' || s.method === 'wanda';
  return (
    <div className="q-controls" data-testid="prune-controls">
      <label className="q-field">
        <span>Method</span>
        <select value={s.method} onChange={(e) => set({ method: e.target.value as PruneMethod })} data-testid="prune-method">
          {(Object.keys(METHOD_LABELS) as PruneMethod[]).map((m) => (
            <option key={m} value={m} disabled={m === 'wanda' && wandaReason !== null} title={m === 'wanda' ? (wandaReason ?? '') : ''}>
              {METHOD_LABELS[m]}
              {m === 'wanda' && wandaReason ? ' — needs a graph and data' : ''}
            </option>
          ))}
        </select>
      </label>
      {s.method === 'nm' ? (
        <label className="q-field">
          <span>pattern (keep n of m)</span>
          <select value={`${s.n}:${s.m}`} onChange={(e) => { const [n, m] = e.target.value.split(':').map(Number); set({ n: n!, m: m! }); }} data-testid="prune-nm">
            {['1:2', '2:4', '1:4', '2:8', '4:8'].map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <label className="q-field">
          <span>target sparsity {(s.sparsity * 100).toFixed(0)}%</span>
          <input type="range" min={0} max={0.95} step={0.05} value={s.sparsity} onChange={(e) => set({ sparsity: Number(e.target.value) })} data-testid="prune-sparsity" />
        </label>
      )}
      {s.method === 'magnitude' && (
        <label className="q-field">
          <span>scope</span>
          <select value={s.scope} onChange={(e) => set({ scope: e.target.value === 'global' ? 'global' : 'layer' })} data-testid="prune-scope">
            <option value="layer">per layer</option>
            <option value="global">global threshold</option>
          </select>
        </label>
      )}
      {usesAllocation && (
        <label className="q-field">
          <span>allocation</span>
          <select value={s.allocation} onChange={(e) => set({ allocation: e.target.value as PruneAllocation })} data-testid="prune-allocation">
            {(Object.keys(ALLOCATION_LABELS) as PruneAllocation[]).map((a) => (
              <option key={a} value={a}>
                {ALLOCATION_LABELS[a]}
              </option>
            ))}
          </select>
        </label>
      )}
      {usesAllocation && s.allocation !== 'uniform' && (
        <label className="q-field">
          <span>ε {s.epsilon}</span>
          <input type="range" min={0} max={0.9} step={0.05} value={s.epsilon} onChange={(e) => set({ epsilon: Number(e.target.value) })} data-testid="prune-epsilon" />
        </label>
      )}
      {s.method === 'lift' && (
        <label className="q-field">
          <span>rank r</span>
          <input type="number" min={1} max={4096} value={s.liftRank} onChange={(e) => { const v = Number(e.target.value); if (Number.isInteger(v) && v >= 1) set({ liftRank: v }); }} data-testid="prune-rank" />
        </label>
      )}
      {s.method === 'dimap' && (
        <label className="q-field" title="name=regex pairs separated by ';' — layers of one type are ranked together">
          <span>module types</span>
          <input type="text" defaultValue={formatModuleTypes(s.moduleTypes)} onBlur={(e) => set({ moduleTypes: parseModuleTypes(e.target.value) })} placeholder="attn=q_proj|k_proj;mlp=fc" data-testid="prune-types" />
        </label>
      )}
      <label className="q-field" title="Regex of layer names left dense">
        <span>keep dense</span>
        <input type="text" defaultValue={s.exclude} onBlur={(e) => set({ exclude: e.target.value })} placeholder="e.g. fc3|embed" data-testid="prune-exclude" />
      </label>
      <label className="q-field">
        <span>compare with</span>
        <select
          value={compare ? `${compare.method}/${compare.allocation}` : ''}
          onChange={(e) => {
            if (!e.target.value) return onCompare(null);
            const [method, allocation] = e.target.value.split('/') as [PruneMethod, PruneAllocation];
            onCompare({ method, allocation });
          }}
          data-testid="prune-compare-pick"
        >
          <option value="">—</option>
          {(['magnitude', 'lift', 'dimap', 'nm'] as PruneMethod[]).map((m) => (
            <option key={m} value={`${m}/uniform`}>
              {METHOD_LABELS[m]}
            </option>
          ))}
          <option value={`${s.method}/alpha`}>{METHOD_LABELS[s.method]}, raw-α allocation</option>
          <option value={`${s.method}/farms`}>{METHOD_LABELS[s.method]}, FARMS-α allocation</option>
        </select>
      </label>
    </div>
  );
}
