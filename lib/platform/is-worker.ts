/** True inside a dedicated/shared worker (no DOM, `importScripts` exists on the global). */
export function isWorker(): boolean {
  const g = globalThis as { WorkerGlobalScope?: unknown; document?: unknown };
  return typeof g.WorkerGlobalScope !== 'undefined' && typeof g.document === 'undefined';
}
