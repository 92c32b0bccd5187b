import { contentIdentity } from './model-content-id';
import { useModels } from './models-store';

/**
 * Glue between the result stores and the stored-results cache: the content identity of an open
 * model by its tab id, and a count of the compute jobs the stores started (the browser tests read
 * it to prove a restored result ran no job).
 */

export interface StoredModel {
  /** Content identity (model-content-id.ts). */
  id: string;
  /** The model's label, shown in the list of stored results. */
  label: string;
}

/** The content identity of an open, ready model, or null (not open, not ready, or not identifiable). */
export async function storedModelOf(modelId: string): Promise<StoredModel | null> {
  const m = useModels.getState().models.find((x) => x.id === modelId);
  if (!m?.info) return null;
  const id = await contentIdentity(m.spec, m.info);
  return id ? { id, label: m.label } : null;
}

/** Compute jobs started by the result stores, by kind (spectra, quantize-layer, quantize-sweep, merge-analyze). */
export const jobsStarted: Record<string, number> = {};

export function countJob(kind: string): void {
  jobsStarted[kind] = (jobsStarted[kind] ?? 0) + 1;
}
