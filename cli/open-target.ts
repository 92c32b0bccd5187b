import { openHttpModel } from '../lib/io/http-source';
import { openNodeModel } from '../lib/io/node/node-file-source';
import { openModel, pickPrimary } from '../lib/formats/registry';
import type { TensorSource } from '../lib/formats/types';

export function isUrl(target: string): boolean {
  return /^https?:\/\//i.test(target);
}

/**
 * Opens a path (file or folder) or an http(s) URL and reads only the format's header/index:
 * no tensor data is read, so `info` on a multi-GB file costs a few reads.
 */
export async function openTarget(target: string): Promise<{ source: TensorSource; close(): Promise<void> }> {
  if (isUrl(target)) {
    const input = await openHttpModel(target);
    return { source: await openModel(input), close: async () => {} };
  }
  const input = await openNodeModel(target, (names) => pickPrimary(names));
  try {
    return { source: await openModel(input), close: () => input.close() };
  } catch (e) {
    await input.close();
    throw e;
  }
}
