import { openHttpModel } from '../lib/io/http-source';
import { openNodeModel } from '../lib/io/node/node-file-source';
import { openModel, pickPrimary } from '../lib/formats/registry';
import type { TensorSource } from '../lib/formats/types';
import type { ModelInput } from '../lib/io/byte-source';

export function isUrl(target: string): boolean {
  return /^https?:\/\//i.test(target);
}

/** A path (file or folder) or an http(s) URL as the format readers' input; close() releases its files. */
export async function openInput(target: string): Promise<{ input: ModelInput; close(): Promise<void> }> {
  if (isUrl(target)) return { input: await openHttpModel(target), close: async () => {} };
  const input = await openNodeModel(target, (names) => pickPrimary(names));
  return { input, close: () => input.close() };
}

/**
 * Opens a path (file or folder) or an http(s) URL and reads only the format's header/index:
 * no tensor data is read, so `info` on a multi-GB file costs a few reads.
 */
export async function openTarget(target: string): Promise<{ source: TensorSource; close(): Promise<void> }> {
  const { input, close } = await openInput(target);
  try {
    return { source: await openModel(input), close };
  } catch (e) {
    await close();
    throw e;
  }
}
