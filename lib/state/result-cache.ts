import { openDB, type IDBPDatabase } from 'idb';
import {
  MAX_LABEL_CHARS,
  QUOTA_EVICT_FRACTION,
  RESULT_SCHEMA_VERSION,
  STORED_ENTRY_MAX_BYTES,
  STORED_RESULTS_MAX_BYTES,
  checkMeta,
  checkStoredValue,
  estimateBytes,
  groupKey,
  planEviction,
  storedKey,
  type StoredAddress,
  type StoredKind,
  type StoredMeta,
  type StoredValues,
} from './result-cache-policy';

/**
 * Analysis results kept in this browser's IndexedDB (through `idb`), so a reload shows them
 * without recomputing. Two object stores: `meta` (small index records: address, label, size, last
 * use) and `values` (the results, stored by structured clone, so typed arrays stay typed arrays).
 * Keys, the size bound, eviction and the checks of what is read back are in result-cache-policy.ts.
 *
 * Storage is an optimisation, never a dependency: where IndexedDB is missing (private modes,
 * blocked storage), fails, is slow to open, or is full, every call here resolves to "nothing
 * stored" and the app computes as it would without it. Nothing here throws.
 */

export const RESULTS_DB_NAME = 'weightlens-results';
/** IndexedDB's own version: the object stores' layout (RESULT_SCHEMA_VERSION versions the values). */
const DB_VERSION = 1;
/** An open that takes longer (another tab blocking an upgrade, a wedged profile) counts as unavailable. */
export const IDB_OPEN_TIMEOUT_MS = 3_000;
/** A read taking longer than this is treated as a miss, so a slow disk never delays a computation much. */
export const IDB_READ_TIMEOUT_MS = 3_000;

type Db = IDBPDatabase<unknown>;

let dbPromise: Promise<Db | null> | null = null;
let warned = false;

function warn(what: string, e: unknown): void {
  if (warned) return;
  warned = true;
  console.warn(`WeightLens: stored results unavailable (${what}): ${(e as Error)?.message ?? String(e)}; results are computed as usual.`);
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function db(): Promise<Db | null> {
  if (!dbPromise) {
    dbPromise = (async () => {
      try {
        if (typeof indexedDB === 'undefined' || indexedDB === null) throw new Error('no indexedDB in this browser');
        const open = openDB(RESULTS_DB_NAME, DB_VERSION, {
          upgrade(d) {
            for (const name of Array.from(d.objectStoreNames)) d.deleteObjectStore(name);
            const meta = d.createObjectStore('meta', { keyPath: 'key' });
            meta.createIndex('group', 'group');
            meta.createIndex('model', 'model');
            d.createObjectStore('values', { keyPath: 'key' });
          },
          blocking() {
            // A newer version in another tab wants to upgrade: let it, and stop using this connection.
            void dbPromise?.then((x) => x?.close());
            dbPromise = Promise.resolve(null);
          },
          terminated() {
            dbPromise = Promise.resolve(null);
          },
        });
        return await timeout(open, IDB_OPEN_TIMEOUT_MS, 'opening IndexedDB');
      } catch (e) {
        warn('open', e);
        return null;
      }
    })();
  }
  return dbPromise;
}

/** Whether stored results can be used here (IndexedDB opens); resolves once, never throws. */
export async function storageAvailable(): Promise<boolean> {
  return (await db()) !== null;
}

const listeners = new Set<() => void>();

/** Called after anything stored changes (written, evicted, cleared). */
export function onStoredChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed(): void {
  for (const fn of listeners) fn();
}

/** Deletes records (bad ones found on read, evicted ones); errors are ignored. */
async function remove(keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const d = await db();
  if (!d) return;
  try {
    const tx = d.transaction(['meta', 'values'], 'readwrite');
    for (const k of keys) {
      void tx.objectStore('meta').delete(k);
      void tx.objectStore('values').delete(k);
    }
    await tx.done;
    changed();
  } catch (e) {
    warn('delete', e);
  }
}

async function touch(keys: readonly string[]): Promise<void> {
  const d = await db();
  if (!d || keys.length === 0) return;
  try {
    const tx = d.transaction('meta', 'readwrite');
    const now = Date.now();
    await Promise.all(
      keys.map(async (k) => {
        const m = (await tx.store.get(k)) as StoredMeta | undefined;
        if (m && checkMeta(m) === null) await tx.store.put({ ...m, usedAt: now });
      }),
    );
    await tx.done;
  } catch {
    // LRU order is a hint; a failed update changes nothing else.
  }
}

/** Checks one (meta, value record) pair read back; returns the value or null. */
function validated<K extends StoredKind>(kind: K, key: string, part: string, meta: unknown, rec: unknown): StoredValues[K] | null {
  if (meta === undefined || rec === undefined || checkMeta(meta) !== null) return null;
  const m = meta as StoredMeta;
  if (m.key !== key || m.kind !== kind || m.schema !== RESULT_SCHEMA_VERSION) return null;
  if (rec === null || typeof rec !== 'object') return null;
  const r = rec as { key?: unknown; schema?: unknown; value?: unknown };
  if (r.key !== key || r.schema !== RESULT_SCHEMA_VERSION) return null;
  return checkStoredValue(kind, r.value, part) === null ? (r.value as StoredValues[K]) : null;
}

/**
 * The stored results of one run for the given parts (tensors), by part. Records that fail their
 * checks are deleted and left out. Resolves to an empty map when nothing is stored or storage fails.
 */
export async function readStoredParts<K extends StoredKind>(addr: Omit<StoredAddress, 'part'> & { kind: K }, parts: readonly string[]): Promise<Map<string, StoredValues[K]>> {
  const out = new Map<string, StoredValues[K]>();
  const d = await db();
  if (!d || parts.length === 0) return out;
  const bad: string[] = [];
  try {
    const tx = d.transaction(['meta', 'values'], 'readonly');
    const metas = (await timeout(tx.objectStore('meta').index('group').getAll(groupKey(addr)), IDB_READ_TIMEOUT_MS, 'reading stored results')) as unknown[];
    const want = new Set(parts);
    const hits: { part: string; key: string; meta: unknown }[] = [];
    for (const m of metas) {
      const part = (m as { part?: unknown })?.part;
      const key = (m as { key?: unknown })?.key;
      if (typeof part !== 'string' || typeof key !== 'string') continue;
      if (want.has(part)) hits.push({ part, key, meta: m });
    }
    const recs = await timeout(Promise.all(hits.map((h) => tx.objectStore('values').get(h.key))), IDB_READ_TIMEOUT_MS, 'reading stored results');
    hits.forEach((h, i) => {
      const v = validated(addr.kind, storedKey({ ...addr, part: h.part }), h.part, h.meta, recs[i]);
      if (v === null) bad.push(h.key);
      else out.set(h.part, v);
    });
  } catch (e) {
    warn('read', e);
    return new Map();
  }
  void remove(bad);
  void touch([...out.keys()].map((part) => storedKey({ ...addr, part })));
  return out;
}

/** One stored result, or null. */
export async function readStored<K extends StoredKind>(addr: StoredAddress & { kind: K }): Promise<StoredValues[K] | null> {
  const key = storedKey(addr);
  const d = await db();
  if (!d) return null;
  let v: StoredValues[K] | null;
  try {
    const tx = d.transaction(['meta', 'values'], 'readonly');
    const [meta, rec] = await timeout(Promise.all([tx.objectStore('meta').get(key), tx.objectStore('values').get(key)]), IDB_READ_TIMEOUT_MS, 'reading a stored result');
    if (meta === undefined && rec === undefined) return null;
    v = validated(addr.kind, key, addr.part, meta, rec);
  } catch (e) {
    warn('read', e);
    return null;
  }
  if (v === null) void remove([key]);
  else void touch([key]);
  return v;
}

export interface StoredEntry<K extends StoredKind> {
  addr: StoredAddress & { kind: K };
  value: StoredValues[K];
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string })?.name ?? '';
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || /quota/i.test(String((e as Error)?.message ?? ''));
}

async function allMetas(d: Db): Promise<StoredMeta[]> {
  const raw = (await d.getAll('meta')) as unknown[];
  // A malformed index record still takes space: keep it in the plan with its key so eviction can drop it.
  return raw.flatMap((m) => {
    if (checkMeta(m) === null) return [m as StoredMeta];
    const key = (m as { key?: unknown })?.key;
    return typeof key === 'string' ? [{ key, bytes: 0, usedAt: 0, schema: -1 } as StoredMeta] : [];
  });
}

async function putAll(d: Db, metas: StoredMeta[], values: unknown[], evict: string[]): Promise<void> {
  const tx = d.transaction(['meta', 'values'], 'readwrite');
  for (const k of evict) {
    void tx.objectStore('meta').delete(k);
    void tx.objectStore('values').delete(k);
  }
  metas.forEach((m, i) => {
    void tx.objectStore('values').put({ key: m.key, schema: RESULT_SCHEMA_VERSION, value: values[i] });
    void tx.objectStore('meta').put(m);
  });
  await tx.done;
}

/**
 * Stores finished results (one transaction), evicting the least recently used records to stay
 * under STORED_RESULTS_MAX_BYTES. Results over STORED_ENTRY_MAX_BYTES are skipped. On a quota
 * error, evicts down to QUOTA_EVICT_FRACTION of what is stored and tries once more; then gives up.
 */
export function writeStored<K extends StoredKind>(entries: readonly StoredEntry<K>[], label: string): Promise<void> {
  // One write at a time, so each eviction plan sees what the previous write left.
  const next = writes.then(() => write(entries, label));
  writes = next;
  return next;
}

let writes: Promise<void> = Promise.resolve();

async function write<K extends StoredKind>(entries: readonly StoredEntry<K>[], label: string): Promise<void> {
  const d = await db();
  if (!d || entries.length === 0) return;
  const now = Date.now();
  const metas: StoredMeta[] = [];
  const values: unknown[] = [];
  let incoming = 0;
  for (const e of entries) {
    const bytes = estimateBytes(e.value);
    if (!(bytes <= STORED_ENTRY_MAX_BYTES) || incoming + bytes > STORED_RESULTS_MAX_BYTES) continue;
    incoming += bytes;
    const key = storedKey(e.addr);
    metas.push({ ...e.addr, key, group: groupKey(e.addr), schema: RESULT_SCHEMA_VERSION, label: label.slice(0, MAX_LABEL_CHARS), bytes, storedAt: now, usedAt: now });
    values.push(e.value);
  }
  if (metas.length === 0) return;
  const keep = new Set(metas.map((m) => m.key));
  try {
    const existing = (await allMetas(d)).filter((m) => !keep.has(m.key));
    try {
      await putAll(d, metas, values, planEviction(existing, incoming, STORED_RESULTS_MAX_BYTES));
    } catch (e) {
      if (!isQuotaError(e)) throw e;
      const stored = existing.reduce((s, m) => s + (m.schema === RESULT_SCHEMA_VERSION ? m.bytes : 0), 0);
      await putAll(d, metas, values, planEviction(existing, incoming, Math.floor(stored * QUOTA_EVICT_FRACTION)));
    }
    changed();
  } catch (e) {
    warn('write', e);
  }
}

export interface StoredModelSummary {
  model: string;
  label: string;
  entries: number;
  bytes: number;
}

export interface StoredSummary {
  entries: number;
  bytes: number;
  models: StoredModelSummary[];
}

/** What is stored, by model (most recently used first); null when storage is unavailable. */
export async function storedSummary(): Promise<StoredSummary | null> {
  const d = await db();
  if (!d) return null;
  try {
    const metas = (await timeout(allMetas(d), IDB_READ_TIMEOUT_MS, 'listing stored results')).filter((m) => m.schema === RESULT_SCHEMA_VERSION);
    const by = new Map<string, StoredModelSummary & { usedAt: number }>();
    for (const m of metas) {
      const s = by.get(m.model) ?? { model: m.model, label: m.label, entries: 0, bytes: 0, usedAt: 0 };
      s.entries++;
      s.bytes += m.bytes;
      if (m.usedAt >= s.usedAt) {
        s.usedAt = m.usedAt;
        s.label = m.label;
      }
      by.set(m.model, s);
    }
    const models = [...by.values()].sort((a, b) => b.usedAt - a.usedAt).map(({ model, label, entries, bytes }) => ({ model, label, entries, bytes }));
    return { entries: metas.length, bytes: models.reduce((s, m) => s + m.bytes, 0), models };
  } catch (e) {
    warn('list', e);
    return null;
  }
}

/**
 * Deletes the stored results of one model (its identity, as storedSummary lists it; merge
 * results that involve it included), or all of them.
 */
export async function clearStored(model?: string): Promise<void> {
  const d = await db();
  if (!d) return;
  try {
    if (model === undefined) {
      const tx = d.transaction(['meta', 'values'], 'readwrite');
      await Promise.all([tx.objectStore('meta').clear(), tx.objectStore('values').clear(), tx.done]);
    } else {
      const keys = (await allMetas(d)).filter((m) => m.model === model || m.model.split('+').includes(model)).map((m) => m.key);
      await remove(keys);
    }
    changed();
  } catch (e) {
    warn('clear', e);
  }
}
