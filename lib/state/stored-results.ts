import type { ModelRef } from '../jobs/job-types';
import { contentIdentity } from './model-content-id';
import { useModels } from './models-store';
import { storageAvailable } from './result-cache';

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

/**
 * The content identity of a model: an open, ready model by its tab id, else (a model a view
 * references without opening it, like the Merge view's demos) by its spec. Null when storage is
 * unavailable (then no identity is computed at all) or the model cannot be identified.
 */
export async function storedModelOf(ref: ModelRef): Promise<StoredModel | null> {
  if (!(await storageAvailable())) return null;
  const m = useModels.getState().models.find((x) => x.id === ref.modelId);
  if (m && !m.info) return null;
  const spec = m?.spec ?? ref.spec;
  const id = await contentIdentity(spec, m?.info ?? null);
  if (!id) return null;
  const label = m?.label ?? spec.label ?? (spec.kind === 'url' ? spec.url : spec.primary);
  return { id, label };
}

/** Compute jobs started by the result stores, by kind (spectra, quantize-layer, quantize-sweep, merge-analyze). */
export const jobsStarted: Record<string, number> = {};

export function countJob(kind: string): void {
  jobsStarted[kind] = (jobsStarted[kind] ?? 0) + 1;
}
