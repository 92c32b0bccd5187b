import { describe, expect, it } from 'vitest';
import type { InputFile } from '../../../lib/jobs/job-types';
import { groupInputFiles } from '../../../lib/state/group-input-files';

const f = (path: string): InputFile => ({ path, file: new File([new Uint8Array(1)], path.split('/').pop()!) });

describe('groupInputFiles', () => {
  it('opens a dropped folder as one model, primary picked like the CLI', () => {
    const specs = groupInputFiles([
      f('llama/config.json'),
      f('llama/model-00002-of-00002.safetensors'),
      f('llama/model.safetensors.index.json'),
      f('llama/model-00001-of-00002.safetensors'),
    ]);
    expect(specs).toHaveLength(1);
    const s = specs[0]!;
    expect(s.kind).toBe('files');
    if (s.kind !== 'files') return;
    expect(s.primary).toBe('llama/model.safetensors.index.json');
    expect(s.label).toBe('llama/');
    expect(s.files).toHaveLength(4);
  });

  it('opens each loose checkpoint separately, passing siblings along', () => {
    const specs = groupInputFiles([f('a.safetensors'), f('b.onnx'), f('b.onnx.data'), f('notes.txt')]);
    expect(specs.map((s) => (s.kind === 'files' ? s.primary : ''))).toEqual(['a.safetensors', 'b.onnx']);
    for (const s of specs) if (s.kind === 'files') expect(s.files).toHaveLength(4);
  });

  it('opens loose shards (with or without an index) as one model', () => {
    const withIndex = groupInputFiles([f('m-00001-of-00002.safetensors'), f('m-00002-of-00002.safetensors'), f('m.safetensors.index.json')]);
    expect(withIndex).toHaveLength(1);
    expect(withIndex[0]!.kind === 'files' && withIndex[0]!.primary).toBe('m.safetensors.index.json');
    const bare = groupInputFiles([f('m-00002-of-00002.safetensors'), f('m-00001-of-00002.safetensors')]);
    expect(bare).toHaveLength(1);
    expect(bare[0]!.kind === 'files' && bare[0]!.primary).toBe('m-00001-of-00002.safetensors');
  });

  it('still opens an unrecognised file, so its error is shown', () => {
    const specs = groupInputFiles([f('weights.dat')]);
    expect(specs).toHaveLength(1);
    expect(specs[0]!.kind === 'files' && specs[0]!.primary).toBe('weights.dat');
  });

  it('handles two folders and loose files together', () => {
    const specs = groupInputFiles([f('x/model.onnx'), f('y/w.gguf'), f('z.npz')]);
    expect(specs.map((s) => s.label)).toEqual(['x/', 'y/', 'z.npz']);
  });
});
