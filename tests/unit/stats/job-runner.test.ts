import { describe, expect, it } from 'vitest';
import { CancelledError, FormatError, NotFoundError } from '../../../lib/base/errors';
import { createJobRunner } from '../../../lib/jobs/job-runner';
import type { Job, ModelRef, WorkerIn, WorkerOut } from '../../../lib/jobs/job-types';
import { WorkerPool, type WorkerLike } from '../../../lib/jobs/worker-pool';
import { tensorStatsSync } from '../../../lib/math/tensor-stats';

/** A safetensors file built byte by byte: 8-byte header length, JSON header, F32 data. */
function safetensors(tensors: Record<string, { shape: number[]; data: number[] }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + 4 * t.data.length] };
    off += 4 * t.data.length;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let p = 8 + json.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(Float32Array.from(t.data).buffer), p);
    p += 4 * t.data.length;
  }
  return out;
}

const W = Array.from({ length: 12 }, (_, i) => (i % 5) - 2 + i / 100);
const bytes = safetensors({ 'fc.weight': { shape: [3, 4], data: W }, 'fc.bias': { shape: [3], data: [0, 0, 1] } });

function fileRef(id: string, name: string, data: Uint8Array): ModelRef {
  return { modelId: id, spec: { kind: 'files', primary: name, files: [{ path: name, file: new File([data as BlobPart], name) }] } };
}

/**
 * The real runner behind the WorkerLike interface, in process: messages go through
 * structuredClone like postMessage, so anything not cloneable would fail here as in a browser.
 */
function inProcessWorker(): WorkerLike {
  const listeners: ((ev: MessageEvent<WorkerOut>) => void)[] = [];
  const runner = createJobRunner((msg) => {
    const copy = structuredClone(msg);
    queueMicrotask(() => listeners.forEach((l) => l({ data: copy } as MessageEvent<WorkerOut>)));
  });
  return {
    postMessage: (msg: WorkerIn) => void runner.handle(structuredClone(msg)),
    addEventListener: (type: string, fn: unknown) => {
      if (type === 'message') listeners.push(fn as (ev: MessageEvent<WorkerOut>) => void);
    },
    terminate: () => undefined,
  } as WorkerLike;
}

async function runOnce(job: Job): Promise<WorkerOut[]> {
  const out: WorkerOut[] = [];
  const runner = createJobRunner((m) => out.push(m));
  await runner.handle({ type: 'run', id: 1, job });
  return out;
}

describe('job runner', () => {
  it('opens a model from File handles and lists its tensors', async () => {
    const out = await runOnce({ kind: 'open-model', model: fileRef('m1', 'tiny.safetensors', bytes) });
    const last = out.at(-1)!;
    expect(last.type).toBe('result');
    if (last.type !== 'result') return;
    const data = last.data as { format: string; tensors: { name: string; shape: number[] }[] };
    expect(data.format).toBe('safetensors');
    expect(data.tensors.map((t) => [t.name, t.shape])).toEqual(
      expect.arrayContaining([
        ['fc.weight', [3, 4]],
        ['fc.bias', [3]],
      ]),
    );
    expect(out.some((m) => m.type === 'progress')).toBe(true);
  });

  it('computes tensor stats on the CPU when forced, equal to the reference', async () => {
    const out = await runOnce({ kind: 'tensor-stats', model: fileRef('m1', 'tiny.safetensors', bytes), tensor: 'fc.weight', bins: 16, forceCpu: true });
    const last = out.at(-1)!;
    expect(last.type).toBe('result');
    if (last.type !== 'result') return;
    expect(last.backend).toBe('cpu');
    const ref = tensorStatsSync(Float32Array.from(W), 16);
    const data = last.data as typeof ref;
    expect(data.mean).toBe(ref.mean);
    expect(data.std).toBe(ref.std);
    expect([...data.histogram]).toEqual([...ref.histogram]);
    // The first pass arrives early as a `partial`, before the result.
    const partialAt = out.findIndex((m) => m.type === 'partial');
    expect(partialAt).toBeGreaterThanOrEqual(0);
    expect(partialAt).toBeLessThan(out.length - 1);
    const partial = out[partialAt]!;
    if (partial.type === 'partial') expect(partial.data).toMatchObject({ tensor: 'fc.weight', min: ref.min, max: ref.max, mean: ref.mean, count: 12 });
  });

  it('reports a corrupt file as a FormatError naming it', async () => {
    const bad = bytes.slice(0, 40);
    const out = await runOnce({ kind: 'open-model', model: fileRef('bad', 'broken.safetensors', bad) });
    const last = out.at(-1)!;
    expect(last.type).toBe('error');
    if (last.type !== 'error') return;
    expect(last.error.kind).toBe('FormatError');
    expect(last.error.message).toContain('broken.safetensors');
  });
});

describe('worker pool', () => {
  it('runs typed jobs, reuses opened models and maps errors back to typed errors', async () => {
    const pool = new WorkerPool(inProcessWorker, 2);
    const model = fileRef('m1', 'tiny.safetensors', bytes);
    const opened = await pool.run({ kind: 'open-model', model });
    expect(opened.data.tensors).toHaveLength(2);
    const progress: number[] = [];
    const partials: unknown[] = [];
    const stats = await pool.run(
      { kind: 'tensor-stats', model, tensor: 'fc.bias', bins: 4, forceCpu: true },
      { onProgress: (p) => progress.push(p.done), onPartial: (d) => partials.push(d) },
    );
    expect(partials).toEqual([expect.objectContaining({ tensor: 'fc.bias', min: 0, max: 1 })]);
    expect(stats.backend).toBe('cpu');
    expect(stats.data.max).toBe(1);
    expect(stats.data.zeros).toBe(2);
    expect(progress.length).toBeGreaterThan(0);
    await expect(pool.run({ kind: 'tensor-stats', model, tensor: 'nope', bins: 4, forceCpu: true })).rejects.toBeInstanceOf(NotFoundError);
    await expect(pool.run({ kind: 'open-model', model: fileRef('bad', 'broken.safetensors', bytes.slice(0, 40)) })).rejects.toBeInstanceOf(FormatError);
    // the good model still works after another model failed
    const again = await pool.run({ kind: 'tensor-stats', model, tensor: 'fc.weight', bins: 4, forceCpu: true });
    expect(again.data.count).toBe(12);
    await pool.closeModel('m1');
    pool.terminate();
  });

  it('rejects a cancelled job with CancelledError and drops its late reply', async () => {
    const pool = new WorkerPool(inProcessWorker, 1);
    const ctrl = new AbortController();
    const p = pool.run({ kind: 'open-model', model: fileRef('m2', 'tiny.safetensors', bytes) }, { signal: ctrl.signal });
    ctrl.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    const ok = await pool.run({ kind: 'open-model', model: fileRef('m3', 'tiny.safetensors', bytes) });
    expect(ok.data.modelId).toBe('m3');
    pool.terminate();
  });

  it('a cancelled job does not fail another job waiting on the same model open', async () => {
    // One worker: a preview is superseded while the model is still opening, and a sweep's layer
    // job has joined that open. The sweep's job must still get its answer.
    const pool = new WorkerPool(inProcessWorker, 1);
    const model = fileRef('m4', 'tiny.safetensors', bytes);
    const ctrl = new AbortController();
    const first = pool.run({ kind: 'tensor-stats', model, tensor: 'fc.weight', bins: 4, forceCpu: true }, { signal: ctrl.signal });
    const second = pool.run({ kind: 'tensor-stats', model, tensor: 'fc.weight', bins: 4, forceCpu: true });
    ctrl.abort();
    await expect(first).rejects.toBeInstanceOf(CancelledError);
    const got = await second;
    expect(got.data.count).toBe(12);
    expect(got.data.max).toBe(Math.fround(Math.max(...W)));
    pool.terminate();
  });

  it('cancelling every job waiting on an open stops it, and the next job opens the model afresh', async () => {
    const pool = new WorkerPool(inProcessWorker, 1);
    const model = fileRef('m5', 'tiny.safetensors', bytes);
    const a = new AbortController();
    const b = new AbortController();
    const p1 = pool.run({ kind: 'tensor-stats', model, tensor: 'fc.bias', bins: 4, forceCpu: true }, { signal: a.signal });
    const p2 = pool.run({ kind: 'tensor-stats', model, tensor: 'fc.bias', bins: 4, forceCpu: true }, { signal: b.signal });
    a.abort();
    b.abort();
    await expect(p1).rejects.toBeInstanceOf(CancelledError);
    await expect(p2).rejects.toBeInstanceOf(CancelledError);
    const ok = await pool.run({ kind: 'tensor-stats', model, tensor: 'fc.bias', bins: 4, forceCpu: true });
    expect(ok.data.max).toBe(1);
    pool.terminate();
  });
});
