'use client';
import { useEffect } from 'react';
import { loadSettingsFromUrl, useSettings } from '@/lib/state/settings-store';

/** "Force CPU": run the CPU twin even where WebGPU is granted (persisted as ?cpu=1). */
export function ForceCpuToggle() {
  const forceCpu = useSettings((s) => s.forceCpu);
  const setForceCpu = useSettings((s) => s.setForceCpu);
  useEffect(() => loadSettingsFromUrl(), []);
  return (
    <label className="toggle" title="Compute on the CPU even when WebGPU is available">
      <input type="checkbox" checked={forceCpu} onChange={(e) => setForceCpu(e.target.checked)} data-testid="force-cpu" />
      <span>Force CPU</span>
    </label>
  );
}
