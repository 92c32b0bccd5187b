import { WorkerPool, type WorkerLike } from './worker-pool';

/**
 * The app's one compute pool, created on first use. The `new Worker(new URL(...), { type: 'module' })`
 * form must stay literal: it is how Turbopack/webpack find and bundle workers/compute.worker.ts.
 * Hosts without that worker (tests, other shells) pass their own factory first.
 */

let factory: (() => WorkerLike) | undefined;
let pool: WorkerPool | undefined;

function browserWorker(): WorkerLike {
  return new Worker(new URL('../../workers/compute.worker.ts', import.meta.url), { type: 'module', name: 'weightlens-compute' }) as unknown as WorkerLike;
}

export function configureComputePool(f: () => WorkerLike): void {
  if (pool) throw new Error('configureComputePool must run before the pool is first used');
  factory = f;
}

export function getComputePool(): WorkerPool {
  pool ??= new WorkerPool(factory ?? browserWorker);
  return pool;
}
