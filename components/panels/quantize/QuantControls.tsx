'use client';
import type { QuantMethod, QuantSettings } from '@/lib/jobs/job-types';

const METHODS: { id: QuantMethod; label: string }[] = [
  { id: 'vq', label: 'k-means VQ' },
  { id: 'rvq', label: 'Residual VQ' },
  { id: 'pvq', label: 'Pyramid VQ' },
  { id: 'rtn', label: 'Scalar RTN' },
];
const POW2_K = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

function NumberField({ label, value, min, max, step = 1, onChange, testId, title }: { label: string; value: number; min: number; max: number; step?: number; onChange(v: number): void; testId: string; title?: string }) {
  return (
    <label className="q-field" title={title}>
      <span>{label}</span>
      <input
        type="number"
        value={value}
        min={min}
        max={max}
        step={step}
        data-testid={testId}
        onChange={(e) => {
          const v = Number(e.target.value);
          if (Number.isFinite(v) && v >= min && v <= max) onChange(v);
        }}
      />
    </label>
  );
}

/** Method and settings of the Quantize view; every change re-runs the preview (debounced by the view). */
export function QuantControls({ settings: s, cols, onChange }: { settings: QuantSettings; cols: number | null; onChange(s: QuantSettings): void }) {
  const set = (p: Partial<QuantSettings>) => onChange({ ...s, ...p });
  const vector = s.method !== 'rtn';
  const dOk = (d: number) => cols === null || cols % d === 0;
  return (
    <div className="q-controls" data-testid="quant-controls">
      <label className="q-field">
        <span>Method</span>
        <select value={s.method} onChange={(e) => set({ method: e.target.value as QuantMethod })} data-testid="quant-method">
          {METHODS.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
      </label>
      {s.method === 'rtn' && (
        <>
          <label className="q-field">
            <span>Bits {s.bits}</span>
            <input type="range" min={2} max={8} value={s.bits} onChange={(e) => set({ bits: Number(e.target.value) })} data-testid="quant-bits" />
          </label>
          <label className="q-field">
            <span>Group</span>
            <select value={String(s.group)} onChange={(e) => set({ group: e.target.value === 'channel' ? 'channel' : Number(e.target.value) })} data-testid="quant-group">
              {['32', '64', '128', '256', 'channel'].map((g) => (
                <option key={g} value={g}>
                  {g === 'channel' ? 'per channel' : g}
                </option>
              ))}
            </select>
          </label>
          <label className="toggle small">
            <input type="checkbox" checked={s.symmetric} onChange={(e) => set({ symmetric: e.target.checked })} data-testid="quant-symmetric" />
            <span>symmetric</span>
          </label>
        </>
      )}
      {vector && (
        <label className="q-field" title="Sub-vector length: d consecutive input weights share one index">
          <span>d</span>
          <select value={s.d} onChange={(e) => set({ d: Number(e.target.value) })} data-testid="quant-d">
            {[1, 2, 3, 4, 5, 6, 7, 8].map((d) => (
              <option key={d} value={d} disabled={!dOk(d)}>
                {d}
                {dOk(d) ? '' : ' (does not divide the row)'}
              </option>
            ))}
          </select>
        </label>
      )}
      {(s.method === 'vq' || s.method === 'rvq') && (
        <>
          <label className="q-field">
            <span>k {s.k}</span>
            <input type="range" min={1} max={16} value={Math.round(Math.log2(s.k))} onChange={(e) => set({ k: POW2_K[Number(e.target.value) - 1] ?? 256, candidates: Math.min(s.candidates, POW2_K[Number(e.target.value) - 1] ?? 256) })} data-testid="quant-k" />
          </label>
          {s.method === 'rvq' && (
            <label className="q-field">
              <span>k₂ {s.k2}</span>
              <input type="range" min={1} max={16} value={Math.round(Math.log2(s.k2))} onChange={(e) => set({ k2: POW2_K[Number(e.target.value) - 1] ?? 256 })} data-testid="quant-k2" />
            </label>
          )}
          <NumberField label="iterations" value={s.iters} min={0} max={1000} onChange={(v) => set({ iters: v })} testId="quant-iters" />
          <NumberField label="seed" value={s.seed} min={0} max={2 ** 31 - 1} onChange={(v) => set({ seed: v })} testId="quant-seed" />
          <NumberField label="rows / codebook" value={s.rowGroup} min={0} max={1 << 24} onChange={(v) => set({ rowGroup: v })} testId="quant-row-group" title="0 = one codebook for the whole layer" />
          <NumberField label="fit sample" value={s.sample} min={0} max={1 << 30} step={1024} onChange={(v) => set({ sample: v })} testId="quant-sample" title="Fit the codebook on this many sampled sub-vectors (0 = all), then assign every sub-vector" />
          <NumberField label="candidates" value={s.candidates} min={1} max={Math.min(4, s.k)} onChange={(v) => set({ candidates: v })} testId="quant-candidates" title="VQ4DiT candidate codewords per sub-vector" />
          <label className="q-field">
            <span>codebook</span>
            <select value={s.codebookBits} onChange={(e) => set({ codebookBits: Number(e.target.value) === 32 ? 32 : 16 })} data-testid="quant-cb-bits">
              <option value={16}>fp16</option>
              <option value={32}>fp32</option>
            </select>
          </label>
        </>
      )}
      {s.method === 'pvq' && (
        <>
          <NumberField label="pulses K" value={s.pulses} min={1} max={64} onChange={(v) => set({ pulses: v })} testId="quant-pulses" />
          <NumberField label="gain bits" value={s.gainBits} min={1} max={16} onChange={(v) => set({ gainBits: v })} testId="quant-gain-bits" />
        </>
      )}
    </div>
  );
}
