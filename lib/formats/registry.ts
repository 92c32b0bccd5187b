import { FormatError, UnsupportedError } from '../base/errors';
import type { ModelInput } from '../io/byte-source';
import type { FormatName, TensorSource } from './types';

/**
 * Sniffs the format of a model from its first bytes and name, then lazy-imports the one reader
 * it needs (so the browser bundle loads the GGUF dequantizer only for GGUF files, and so on).
 */

const SNIFF_BYTES = 16;

export function extOf(name: string): string {
  const base = name.split('/').pop() ?? name;
  if (base.endsWith('.safetensors.index.json') || base.endsWith('.index.json')) return 'index.json';
  const i = base.lastIndexOf('.');
  return i < 0 ? '' : base.slice(i + 1).toLowerCase();
}

/** Which file of a folder is the model: an index over shards, else a single checkpoint. */
export function pickPrimary(names: readonly string[]): string | undefined {
  const order = ['index.json', 'safetensors', 'onnx', 'gguf', 'npz', 'npy', 'pt', 'pth', 'bin', 'ckpt'];
  for (const ext of order) {
    const hits = names.filter((n) => extOf(n) === ext && !n.split('/').pop()!.startsWith('.')).sort();
    if (ext === 'index.json') {
      const st = hits.find((n) => n.endsWith('.safetensors.index.json'));
      if (st) return st;
      continue;
    }
    if (hits.length) return hits[0];
  }
  return undefined;
}

export function sniffFormat(name: string, head: Uint8Array): FormatName | 'zip' | 'pickle' | undefined {
  const ext = extOf(name);
  if (ext === 'index.json') return 'safetensors-sharded';
  if (head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) return 'gguf';
  if (head.length >= 6 && head[0] === 0x93 && String.fromCharCode(...head.subarray(1, 6)) === 'NUMPY') return 'npy';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6)) {
    return ext === 'npz' ? 'npz' : 'zip';
  }
  if (head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return 'pickle';
  if (ext === 'safetensors') return 'safetensors';
  if (head.length >= 9 && head[8] === 0x7b /* '{' */) return 'safetensors';
  if (ext === 'onnx') return 'onnx';
  return undefined;
}

export async function openModel(input: ModelInput, signal?: AbortSignal): Promise<TensorSource> {
  const src = input.primary;
  const head = await src.read(0, Math.min(SNIFF_BYTES, src.size), signal);
  const kind = sniffFormat(src.name, head);
  switch (kind) {
    case 'safetensors':
    case 'safetensors-sharded': {
      const { readSafetensors } = await import('./read-safetensors');
      return readSafetensors(input, signal);
    }
    case 'onnx': {
      const { readOnnx } = await import('./read-onnx');
      return readOnnx(input, signal);
    }
    case 'gguf': {
      const { readGguf } = await import('./read-gguf');
      return readGguf(input, signal);
    }
    case 'npy': {
      const { readNpy } = await import('./read-npy');
      return readNpy(input, signal);
    }
    case 'npz':
    case 'zip': {
      const { readZipModel } = await import('./read-zip-model');
      return readZipModel(input, signal);
    }
    case 'pickle':
      throw new UnsupportedError(
        'legacy-pickle',
        `${src.name}: a legacy (pre-1.6, non-zip) PyTorch pickle; re-save it with torch.save(..., _use_new_zipfile_serialization=True) or convert to safetensors`,
      );
    default:
      throw new FormatError(
        'unknown-format',
        `${src.name}: not a recognised checkpoint (expected safetensors, ONNX, GGUF, .npy/.npz or a PyTorch zip)`,
      );
  }
}
