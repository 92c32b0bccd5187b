import { FormatError } from '../base/errors';
import type { ModelInput } from '../io/byte-source';
import type { TensorSource } from './types';
import { openZip } from './zip/open-zip';
import { findPytorchRoot, readPytorch } from './read-pytorch';
import { readNpz } from './read-npz';

/**
 * Zip-based checkpoints: a PyTorch archive (a `<archive>/data.pkl` member) or a NumPy .npz
 * (.npy members). The central directory is read once and handed to the chosen reader.
 */
export async function readZipModel(input: ModelInput, signal?: AbortSignal): Promise<TensorSource> {
  const zip = await openZip(input.primary, signal);
  if (findPytorchRoot(zip) !== undefined) return readPytorch(input, signal, zip);
  if (zip.entries.some((e) => e.name.toLowerCase().endsWith('.npy'))) return readNpz(input, signal, zip);
  const sample = zip.entries.slice(0, 5).map((e) => e.name).join(', ');
  throw new FormatError(
    'unknown-format',
    `${zip.source.name}: a zip archive with neither <archive>/data.pkl (PyTorch) nor .npy members (npz); it holds ${zip.entries.length} members${sample ? ` (${sample}${zip.entries.length > 5 ? ', ...' : ''})` : ''}`,
  );
}
