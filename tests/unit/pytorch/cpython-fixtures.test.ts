import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { openNodeFile } from '@/lib/io/node/node-file-source';
import { singleFileModel } from '@/lib/io/byte-source';
import { openModel } from '@/lib/formats/registry';

/**
 * Archives whose data.pkl was written by CPython's own pickler in torch.save's layout (stand-in
 * torch modules, no torch installed; tests/fixtures/numpy/make-fixtures.py, listed in
 * tests/fixtures/README.md). The zip is CPython's zipfile, not torch's writer.
 */
const dir = path.resolve(__dirname, '../../fixtures/numpy');
const opened: { close(): Promise<void> }[] = [];
async function open(name: string) {
  const src = await openNodeFile(path.join(dir, name));
  opened.push(src);
  return openModel(singleFileModel(src));
}
afterAll(async () => {
  for (const s of opened) await s.close();
});

const w = Array.from({ length: 12 }, (_, i) => i - 6); // storage 0: arange(12) - 6 as 3x4
const wT: number[] = [];
for (let r = 0; r < 4; r++) for (let c = 0; c < 3; c++) wT.push(w[c * 4 + r]!);

describe('CPython-pickled torch.save layouts', () => {
  it('protocol 2 OrderedDict state dict with a transposed view sharing a storage', async () => {
    const src = await open('cpython-state-dict.pt');
    expect(src.format).toBe('pytorch');
    expect(src.metadata).toMatchObject({ archive: 'cpython-state-dict', version: '3', storages: 2 });
    expect(src.tensors.map((t) => [t.name, t.shape])).toEqual([
      ['fc1.weight', [3, 4]],
      ['fc1.bias', [3]],
      ['fc1.weight_t', [4, 3]],
    ]);
    expect([...(await src.read('fc1.weight'))]).toEqual(w);
    expect([...(await src.read('fc1.bias'))]).toEqual([0.25, -0.75, 1.5]);
    expect([...(await src.read('fc1.weight_t'))]).toEqual(wT);
  });

  it('protocol 4 nested checkpoint {model, optimizer, epoch}', async () => {
    const src = await open('cpython-checkpoint-p4.pt');
    expect(src.tensors.map((t) => t.name)).toEqual(['model.fc1.weight', 'model.fc1.bias', 'model.fc1.weight_t', 'optimizer.state.0.exp_avg']);
    expect([...(await src.read('optimizer.state.0.exp_avg'))]).toEqual([-0.75, 1.5]); // offset 1 into storage 1
    expect([...(await src.read('model.fc1.weight_t'))]).toEqual(wT);
  });
});
