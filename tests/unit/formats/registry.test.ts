import { describe, expect, it } from 'vitest';
import { openModel, pickPrimary, sniffFormat } from '../../../lib/formats/registry';
import { memorySource, singleFileModel } from '../../../lib/io/byte-source';
import { FormatError, UnsupportedError } from '../../../lib/base/errors';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('format registry', () => {
  it('sniffs formats from magic bytes, not only names', () => {
    expect(sniffFormat('a.bin', bytes(0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0))).toBe('gguf');
    expect(sniffFormat('a', bytes(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0))).toBe('npy');
    expect(sniffFormat('w.npz', bytes(0x50, 0x4b, 3, 4))).toBe('npz');
    expect(sniffFormat('w.pt', bytes(0x50, 0x4b, 3, 4))).toBe('zip');
    expect(sniffFormat('old.pt', bytes(0x80, 2, 0x8a, 0x0a))).toBe('pickle');
    expect(sniffFormat('noext', bytes(2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d))).toBe('safetensors');
    expect(sniffFormat('m.onnx', bytes(8, 7, 0x12, 3))).toBe('onnx');
    expect(sniffFormat('model.safetensors.index.json', bytes(0x7b))).toBe('safetensors-sharded');
    expect(sniffFormat('notes.txt', bytes(0x68, 0x69))).toBeUndefined();
  });

  it('picks the index of a sharded folder before its shards', () => {
    expect(
      pickPrimary(['config.json', 'model-00002-of-00002.safetensors', 'model-00001-of-00002.safetensors', 'model.safetensors.index.json']),
    ).toBe('model.safetensors.index.json');
    expect(pickPrimary(['b.onnx', 'a.onnx'])).toBe('a.onnx');
    expect(pickPrimary(['README.md'])).toBeUndefined();
  });

  it('gives a typed error naming the file for unknown bytes and legacy pickles', async () => {
    await expect(openModel(singleFileModel(memorySource(new TextEncoder().encode('hello world'), 'notes.txt')))).rejects.toSatisfy(
      (e: unknown) => e instanceof FormatError && e.code === 'unknown-format' && e.message.startsWith('notes.txt:'),
    );
    await expect(openModel(singleFileModel(memorySource(bytes(0x80, 2, 0x8a, 0x0a, 0, 0), 'old.pt')))).rejects.toBeInstanceOf(UnsupportedError);
  });
});
