import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJobRunner } from '../../../lib/jobs/job-runner';
import type { Job, ModelRef, OpenModelResult, QuantLayerResult, SpectraLayerResult, WorkerOut } from '../../../lib/jobs/job-types';
import { DEFAULT_QUANT_SETTINGS } from '../../../lib/analysis/quant/quantize-layer';
import { DEFAULT_SPECTRA_SETTINGS } from '../../../lib/state/spectra-settings';
import { SAMPLE_BYTES, computeContentIdentity, sampleRanges, structureLine, urlFilesOf } from '../../../lib/state/model-content-id';
import {
  MAX_LABEL_CHARS,
  MAX_STORED_DEPTH,
  RESULT_SCHEMA_VERSION,
  checkMeta,
  checkStoredValue,
  estimateBytes,
  groupKey,
  planEviction,
  storedKey,
  type StoredMeta,
} from '../../../lib/state/result-cache-policy';

/**
 * The pure half of the stored-results cache: keys, the size estimate, the LRU eviction plan, the
 * checks of records read back (on real worker results for the MNIST MLP, cloned as IndexedDB
 * would clone them, then damaged), and the model content identity (same-size fine-tunes differ).
 * IndexedDB itself is exercised in the browser (tests/browser/persistence.test.ts).
 */

const DIR = 'public/models/mnist';
const read = (f: string) => new Uint8Array(readFileSync(`${DIR}/${f}`));
const fileRef = (id: string, name: string, bytes: Uint8Array, lastModified = 1_700_000_000_000): ModelRef => ({
  modelId: id,
  spec: { kind: 'files', primary: name, files: [{ path: name, file: new File([bytes as BlobPart], name, { lastModified }) }] },
});

async function runJob(job: Job): Promise<WorkerOut[]> {
  const out: WorkerOut[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const runner = createJobRunner((msg) => {
    out.push(structuredClone(msg));
    if (msg.type === 'result' || msg.type === 'error') done();
  });
  void runner.handle({ type: 'run', id: 1, job });
  await finished;
  return out;
}

const ref = fileRef('m1', 'mlp-seed1.safetensors', read('mlp-seed1.safetensors'));
let info: OpenModelResult;
let spectra: SpectraLayerResult;
let preview: QuantLayerResult;

beforeAll(async () => {
  const open = (await runJob({ kind: 'open-model', model: ref })).at(-1)!;
  if (open.type !== 'result') throw new Error('open failed');
  info = open.data as OpenModelResult;
  const sp = await runJob({ kind: 'spectra', model: ref, tensors: ['fc2.weight'], settings: DEFAULT_SPECTRA_SETTINGS, forceCpu: true });
  const part = sp.find((m) => m.type === 'partial');
  if (part?.type !== 'partial') throw new Error('no spectra layer');
  spectra = part.data as SpectraLayerResult;
  const q = (await runJob({ kind: 'quantize-layer', model: ref, tensor: 'fc2.weight', settings: { ...DEFAULT_QUANT_SETTINGS, d: 2, k: 16 }, forceCpu: true })).at(-1)!;
  if (q.type !== 'result') throw new Error('quantize failed');
  preview = q.data as QuantLayerResult;
}, 60_000);

describe('record keys', () => {
  const a = { model: 'f:abc', kind: 'spectra-layer' as const, settings: 'auto|mp|farms:100:2:10:xmin_mid|auto', part: 'fc1.weight' };
  it('are the same for the same address and differ in every component', () => {
    expect(storedKey(a)).toBe(storedKey({ ...a }));
    const others = [{ ...a, model: 'f:abd' }, { ...a, kind: 'quant-preview' as const }, { ...a, settings: a.settings.replace('auto', 'cpu') }, { ...a, part: 'fc2.weight' }];
    expect(new Set([a, ...others].map(storedKey)).size).toBe(5);
  });
  it('cannot collide by moving text between components', () => {
    expect(storedKey({ ...a, settings: 's|x', part: 'y' })).not.toBe(storedKey({ ...a, settings: 's', part: 'x|y' }));
  });
  it('put every layer of a run in one group', () => {
    expect(storedKey(a).startsWith(groupKey(a))).toBe(true);
    expect(groupKey(a)).toBe(groupKey({ ...a, part: 'other' } as typeof a));
  });
});

describe('estimateBytes', () => {
  it('counts typed arrays by their bytes (the bulk of a result)', () => {
    expect(estimateBytes(new Float64Array(1000))).toBeGreaterThanOrEqual(8000);
    expect(estimateBytes({ x: new Float32Array(1000) })).toBeLessThan(4200);
    const sp = estimateBytes(spectra);
    expect(sp).toBeGreaterThan(spectra.spectrum.ok ? spectra.spectrum.evals.byteLength : 0);
  });
  it('is Infinity for what cannot be stored: functions, cycles, absurd nesting', () => {
    expect(estimateBytes({ f: () => 1 })).toBe(Infinity);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(estimateBytes(cyc)).toBe(Infinity);
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_STORED_DEPTH + 1; i++) deep = [deep];
    expect(estimateBytes(deep)).toBe(Infinity);
  });
  it('counts a shared (not cyclic) object each time it appears', () => {
    const shared = { v: new Uint8Array(100) };
    expect(estimateBytes([shared, shared])).toBeGreaterThan(2 * 100);
  });
});

describe('planEviction', () => {
  const m = (key: string, bytes: number, usedAt: number, schema = RESULT_SCHEMA_VERSION) => ({ key, bytes, usedAt, schema });
  it('evicts nothing while everything fits', () => {
    expect(planEviction([m('a', 10, 1), m('b', 10, 2)], 10, 30)).toEqual([]);
  });
  it('evicts the least recently used first, only as many as needed', () => {
    expect(planEviction([m('new', 10, 3), m('old', 10, 1), m('mid', 10, 2)], 15, 30)).toEqual(['old', 'mid']);
    expect(planEviction([m('new', 10, 3), m('old', 10, 1), m('mid', 10, 2)], 5, 30)).toEqual(['old']);
  });
  it('drops records of another schema version whatever their age', () => {
    expect(planEviction([m('v0', 1, 99, 0), m('a', 10, 1)], 1, 100)).toEqual(['v0']);
  });
  it('never evicts the record being written, and survives damaged sizes and times', () => {
    expect(planEviction([m('same', 50, 0), m('b', 10, 1)], 50, 60, 'same')).toEqual([]);
    expect(planEviction([m('nan', NaN, NaN), m('neg', -5, 2), m('c', 20, 3)], 20, 30)).toEqual(['nan', 'neg', 'c']);
  });
  it('evicts everything when the incoming result alone fills the budget', () => {
    expect(planEviction([m('a', 1, 1), m('b', 1, 2)], 100, 100)).toEqual(['a', 'b']);
  });
});

describe('checks of records read back', () => {
  const clone = <T>(x: T): T => structuredClone(x);

  it('accept real worker results after a structured clone (typed arrays stay typed)', () => {
    const sp = clone(spectra);
    expect(sp.spectrum.ok && sp.spectrum.evals).toBeInstanceOf(Float64Array);
    expect(checkStoredValue('spectra-layer', sp, 'fc2.weight')).toBeNull();
    const q = clone(preview);
    expect(q.maps?.error).toBeInstanceOf(Float32Array);
    expect(checkStoredValue('quant-preview', q, 'fc2.weight')).toBeNull();
    expect(checkStoredValue('quant-sweep', { layers: { 'fc2.weight': q } }, '')).toBeNull();
  });

  it('reject a result stored under another tensor', () => {
    expect(checkStoredValue('spectra-layer', clone(spectra), 'fc1.weight')).toMatch(/not fc1\.weight/);
    expect(checkStoredValue('quant-preview', clone(preview), 'fc1.weight')).toMatch(/not fc1\.weight/);
    expect(checkStoredValue('quant-sweep', { layers: { 'fc1.weight': clone(preview) } }, '')).toMatch(/fc1\.weight/);
  });

  it('reject damaged or hostile values', () => {
    const bad: [Parameters<typeof checkStoredValue>[0], unknown][] = [
      ['spectra-layer', null],
      ['spectra-layer', 'a string'],
      ['spectra-layer', [spectra]],
      ['spectra-layer', { ...clone(spectra), spectrum: { ...clone(spectra.spectrum), evals: Array.from(spectra.spectrum.ok ? spectra.spectrum.evals : []) } }],
      ['spectra-layer', { ...clone(spectra), backend: 'quantum' }],
      ['spectra-layer', { ...clone(spectra), spectrum: { ok: true, name: 'x', N: -1, M: 2 } }],
      ['quant-preview', { ...clone(preview), maps: { ...clone(preview.maps), error: new Float32Array(3) } }],
      ['quant-preview', { ...clone(preview), error: { sqnrDb: '12' } }],
      ['quant-preview', { ...clone(preview), sortedCounts: [1, 2, 3] }],
      ['quant-sweep', { layers: [] }],
      ['quant-sweep', { layers: { 'fc2.weight': { tensor: 'fc2.weight' } } }],
      ['merge', { ms: 1 }],
      ['merge', Object.create({ polluted: true }) as unknown],
    ];
    for (const [kind, v] of bad) expect(checkStoredValue(kind, v, 'fc2.weight'), `${kind}: ${JSON.stringify(v)?.slice(0, 80)}`).not.toBeNull();
  });

  it('check the index record against its own address', () => {
    const addr = { model: 'f:1', kind: 'quant-preview' as const, settings: 's', part: 'fc2.weight' };
    const meta: StoredMeta = { ...addr, key: storedKey(addr), group: groupKey(addr), schema: RESULT_SCHEMA_VERSION, label: 'mlp', bytes: 10, storedAt: 1, usedAt: 1 };
    expect(checkMeta(meta)).toBeNull();
    expect(checkMeta({ ...meta, part: 'fc1.weight' })).toMatch(/does not match/);
    expect(checkMeta({ ...meta, kind: 'shell' })).toMatch(/kind/);
    expect(checkMeta({ ...meta, bytes: Infinity })).toMatch(/bytes/);
    expect(checkMeta({ ...meta, label: 'x'.repeat(MAX_LABEL_CHARS + 1) })).toMatch(/label/);
    expect(checkMeta(undefined)).not.toBeNull();
  });
});

describe('model content identity', () => {
  it('samples the head, and the tail when it does not overlap', () => {
    expect(sampleRanges(100)).toEqual([[0, 100]]);
    expect(sampleRanges(SAMPLE_BYTES + 10)).toEqual([[0, SAMPLE_BYTES], [SAMPLE_BYTES, SAMPLE_BYTES + 10]]);
    expect(sampleRanges(10 * SAMPLE_BYTES)).toEqual([[0, SAMPLE_BYTES], [9 * SAMPLE_BYTES, 10 * SAMPLE_BYTES]]);
  });

  it('reads shards and external data next to a URL, not entries inside an archive', () => {
    const t = (file?: string) => ({ name: 'w', shape: [1], dtype: 'F32' as const, byteLength: 4, decodable: true, ...(file ? { file } : {}) });
    expect(urlFilesOf('https://h/m/model.safetensors.index.json', { format: 'safetensors-sharded', tensors: [t('a.safetensors'), t('b.safetensors'), t('a.safetensors')] })).toEqual([
      'https://h/m/a.safetensors',
      'https://h/m/b.safetensors',
      'https://h/m/model.safetensors.index.json',
    ]);
    expect(urlFilesOf('https://h/m/model.pt', { format: 'pytorch', tensors: [t('archive/data/0')] })).toEqual(['https://h/m/model.pt']);
  });

  it('tells apart same-size, same-architecture models and same bytes under another name; agrees on identical files', async () => {
    const id = (r: ModelRef) => computeContentIdentity(r.spec, info);
    const seed1 = await id(ref);
    expect(seed1).toMatch(/^f:[0-9a-f]{32}$/);
    expect(await id(fileRef('m9', 'mlp-seed1.safetensors', read('mlp-seed1.safetensors')))).toBe(seed1);
    const seed2 = read('mlp-seed2.safetensors');
    expect(seed2.byteLength).toBe(read('mlp-seed1.safetensors').byteLength);
    // (info is seed1's table: the bytes alone must make the difference)
    expect(await id(fileRef('m2', 'mlp-seed1.safetensors', seed2))).not.toBe(seed1);
    expect(await id(fileRef('m3', 'renamed.safetensors', read('mlp-seed1.safetensors')))).not.toBe(seed1);
    expect(await id(fileRef('m4', 'mlp-seed1.safetensors', read('mlp-seed1.safetensors'), 1))).not.toBe(seed1);
  });

  it('identifies a model not opened on the page only when one file holds all its bytes', async () => {
    // Returns before any request: an ONNX file may have external data, an index names shards.
    expect(await computeContentIdentity({ kind: 'url', url: 'https://h/m/model.onnx' }, null)).toBeNull();
    expect(await computeContentIdentity({ kind: 'url', url: 'https://h/m/model.safetensors.index.json' }, null)).toBeNull();
    const bare = await computeContentIdentity(ref.spec, null);
    expect(bare).toMatch(/^f:[0-9a-f]{32}$/);
    expect(bare).not.toBe(await computeContentIdentity(ref.spec, info));
  });

  it('covers the tensor table and metadata', () => {
    const line = structureLine(info);
    expect(line).toContain('fc2.weight');
    expect(structureLine({ ...info, tensors: info.tensors.map((t) => (t.name === 'fc2.weight' ? { ...t, shape: [...t.shape, 1] } : t)) })).not.toBe(line);
    expect(structureLine({ ...info, metadata: { changed: 1 } })).not.toBe(line);
  });
});
