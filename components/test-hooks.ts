import { getComputePool } from '@/lib/jobs/compute-client';
import { hasWebGPU } from '@/lib/platform';
import { useModels } from '@/lib/state/models-store';
import { storedSummary } from '@/lib/state/result-cache';
import { jobsStarted } from '@/lib/state/stored-results';

/**
 * Browser tests read exact numbers through window.__weightlensTest, which exists only when the
 * page is loaded with ?testhooks=1 (never in normal use). It runs jobs exactly as the UI does.
 */
export function installTestHooks(): void {
  if (typeof window === 'undefined') return;
  if (new URLSearchParams(window.location.search).get('testhooks') !== '1') return;
  (window as unknown as Record<string, unknown>).__weightlensTest = {
    models: () => useModels.getState().models.map((m) => ({ id: m.id, label: m.label, status: m.status, tensors: m.info?.tensors.length ?? 0 })),
    async tensorStats(modelId: string, tensor: string, forceCpu: boolean, bins = 64) {
      const m = useModels.getState().models.find((x) => x.id === modelId);
      if (!m) throw new Error(`no open model ${modelId}`);
      const r = await getComputePool().run({ kind: 'tensor-stats', model: { modelId, spec: m.spec }, tensor, bins, forceCpu });
      return { ...r.data, histogram: Array.from(r.data.histogram), backend: r.backend };
    },
    /** Compute jobs the result stores started in this page, by kind (a restored result starts none). */
    jobsStarted: () => ({ ...jobsStarted }),
    storedSummary,
    async gpuAvailable() {
      if (!hasWebGPU()) return false;
      try {
        return (await navigator.gpu.requestAdapter()) !== null;
      } catch {
        return false;
      }
    },
  };
}
