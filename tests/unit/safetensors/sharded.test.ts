import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeSafetensors } from '@/lib/formats/write-safetensors';
import { readSafetensors } from '@/lib/formats/read-safetensors';
import { openModel, pickPrimary } from '@/lib/formats/registry';
import { openNodeModel } from '@/lib/io/node/node-file-source';
import { memorySource, modelFromSources, type ByteSource } from '@/lib/io/byte-source';
import type { TensorSource } from '@/lib/formats/types';

const SHARDS = ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors'];

// Tensor i holds values i*100 + k, so a value read back says which tensor it came from.
const layout: { name: string; shard: number; shape: number[]; dtype: string }[] = [
  { name: 'embed.weight', shard: 0, shape: [8, 4], dtype: 'F32' },
  { name: 'layers.0.attn.weight', shard: 0, shape: [4, 4], dtype: 'BF16' },
  { name: 'layers.0.mlp.weight', shard: 1, shape: [4, 6], dtype: 'F16' },
  { name: 'layers.1.attn.weight', shard: 1, shape: [4, 4], dtype: 'F32' },
  { name: 'layers.1.mlp.weight', shard: 2, shape: [4, 6], dtype: 'F16' },
  { name: 'lm_head.weight', shard: 2, shape: [8, 4], dtype: 'F32' },
];
const valuesOf = (i: number, n: number) => new Float32Array(n).map((_, k) => i * 100 + k);
const countOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function buildShards(): Uint8Array[] {
  return SHARDS.map((_, s) =>
    writeSafetensors(
      layout
        .map((t, i) => ({ ...t, i }))
        .filter((t) => t.shard === s)
        .map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype, data: valuesOf(t.i, countOf(t.shape)) })),
      { format: 'pt' },
    ),
  );
}

function indexJson(map = Object.fromEntries(layout.map((t) => [t.name, SHARDS[t.shard]!]))): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 1234 }, weight_map: map }));
}

async function expectAllTensors(src: TensorSource) {
  expect(src.tensors.map((t) => t.name).sort()).toEqual(layout.map((t) => t.name).sort());
  for (const [i, t] of layout.entries()) {
    const info = src.tensors.find((x) => x.name === t.name)!;
    expect(info).toMatchObject({ shape: t.shape, dtype: t.dtype, file: SHARDS[t.shard], decodable: true });
    expect(Array.from(await src.read(t.name))).toEqual(Array.from(valuesOf(i, countOf(t.shape))));
  }
}

describe('sharded safetensors on disk', () => {
  let dir: string;
  let noIndexDir: string;
  const shardBytes = buildShards();
  const index = indexJson();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wl-sharded-'));
    noIndexDir = path.join(dir, 'no-index');
    await mkdir(noIndexDir);
    for (const [i, name] of SHARDS.entries()) {
      await writeFile(path.join(dir, name), shardBytes[i]!);
      await writeFile(path.join(noIndexDir, name), shardBytes[i]!);
    }
    await writeFile(path.join(dir, 'model.safetensors.index.json'), index);
    await writeFile(path.join(dir, 'config.json'), '{"model_type": "test"}');
    await writeFile(path.join(noIndexDir, 'model.fp16.safetensors'), writeSafetensors([{ name: 'other', shape: [1], dtype: 'F32', data: new Float32Array(1) }]));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens the folder through its index with readSafetensors and with openModel', async () => {
    const input = await openNodeModel(dir, pickPrimary);
    try {
      expect(input.primary.name).toBe('model.safetensors.index.json');
      for (const src of [await readSafetensors(input), await openModel(input)]) {
        expect(src.format).toBe('safetensors-sharded');
        expect(src.metadata).toMatchObject({ format: 'pt', total_size: 1234 });
        expect(src.totalBytes).toBe(index.byteLength + shardBytes.reduce((s, b) => s + b.byteLength, 0));
        await expectAllTensors(src);
      }
    } finally {
      await input.close();
    }
  });

  it('opens a folder of shards without an index, ignoring unrelated checkpoints', async () => {
    const input = await openNodeModel(noIndexDir, pickPrimary);
    try {
      expect(input.primary.name).toBe(SHARDS[0]);
      const src = await openModel(input);
      expect(src.format).toBe('safetensors-sharded');
      await expectAllTensors(src);
      expect(src.tensors.some((t) => t.name === 'other')).toBe(false);
    } finally {
      await input.close();
    }
  });

  it('a single shard opened on its own is just that file', async () => {
    const input = await openNodeModel(path.join(noIndexDir, SHARDS[1]!), pickPrimary);
    try {
      const src = await openModel(input);
      expect(src.format).toBe('safetensors');
      expect(src.tensors.map((t) => t.name)).toEqual(['layers.0.mlp.weight', 'layers.1.attn.weight']);
    } finally {
      await input.close();
    }
  });
});

describe('hostile sharded models', () => {
  const shardBytes = buildShards();
  const shardSources = (): ByteSource[] => SHARDS.map((n, i) => memorySource(shardBytes[i]!, n));
  const withIndex = (idx: Uint8Array, shards: ByteSource[] = shardSources()) => {
    const primary = memorySource(idx, 'model.safetensors.index.json');
    return modelFromSources([primary, ...shards], primary);
  };

  it('a shard missing from an index', async () => {
    await expect(readSafetensors(withIndex(indexJson(), shardSources().slice(0, 2)))).rejects.toMatchObject({
      kind: 'FormatError',
      code: 'missing-file',
      message: 'model.safetensors.index.json: shard "model-00003-of-00003.safetensors" (holds tensor "layers.1.mlp.weight") is not there',
    });
  });

  it('the weight_map names a tensor its shard lacks', async () => {
    const map = Object.fromEntries(layout.map((t) => [t.name, SHARDS[t.shard]!]));
    map['lm_head.weight'] = SHARDS[0]!; // really in shard 3
    map['ghost.weight'] = SHARDS[1]!;
    await expect(readSafetensors(withIndex(indexJson(map)))).rejects.toMatchObject({
      kind: 'FormatError',
      code: 'bad-header',
      message: expect.stringMatching(/index\.json: weight_map puts tensor "(lm_head|ghost)\.weight" in model-0000[12]-of-00003\.safetensors, which does not contain it/),
    });
  });

  it('duplicate tensor names across shards', async () => {
    const dup = writeSafetensors([{ name: 'embed.weight', shape: [1], dtype: 'F32', data: new Float32Array(1) }]);
    const shards = shardSources();
    shards[2] = memorySource(dup, SHARDS[2]!);
    const err = { kind: 'FormatError', code: 'bad-header', message: expect.stringContaining('"embed.weight" appears in both model-00001-of-00003.safetensors and model-00003-of-00003.safetensors') };
    await expect(readSafetensors(withIndex(indexJson(), shards))).rejects.toMatchObject(err);
    // Folder without an index: same check.
    await expect(readSafetensors(modelFromSources(shards, shards[0]!))).rejects.toMatchObject(err);
  });

  it('a folder series with a shard missing', async () => {
    const shards = shardSources();
    await expect(readSafetensors(modelFromSources([shards[0]!, shards[2]!], shards[0]!))).rejects.toMatchObject({
      kind: 'FormatError',
      code: 'missing-file',
      message: expect.stringContaining('shard 2 is not in the folder'),
    });
  });

  it('index without weight_map, invalid index JSON, index over its limit', async () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    await expect(readSafetensors(withIndex(enc('{"metadata": {}}')))).rejects.toMatchObject({ code: 'bad-header', message: expect.stringContaining('weight_map') });
    await expect(readSafetensors(withIndex(enc('{"weight_map": ')))).rejects.toMatchObject({ code: 'invalid-json', message: expect.stringContaining('model.safetensors.index.json') });
    await expect(readSafetensors(withIndex(indexJson()), undefined, { maxIndexJsonBytes: 100 })).rejects.toMatchObject({
      kind: 'LimitError',
      message: expect.stringContaining('model.safetensors.index.json'),
    });
  });

  it('a bad shard header names the shard', async () => {
    const shards = shardSources();
    shards[1] = memorySource(new Uint8Array([9, 9]), SHARDS[1]!);
    await expect(readSafetensors(withIndex(indexJson(), shards))).rejects.toMatchObject({ code: 'truncated', message: expect.stringContaining(SHARDS[1]!) });
  });
});
