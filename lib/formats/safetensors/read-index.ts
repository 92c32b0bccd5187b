import { FormatError, LimitError } from '../../base/errors';
import { fmtBytes } from '../../base/assert';
import type { ByteSource } from '../../io/byte-source';
import type { ResolvedSafetensorsOptions } from './safetensors-options';

export interface SafetensorsIndex {
  metadata: Record<string, unknown>;
  /** tensor name -> shard file (relative to the index), in index order. */
  weightMap: Map<string, string>;
  /** Distinct shard files in order of first appearance. */
  shards: string[];
}

/** Parses a `*.safetensors.index.json` ({"metadata": ..., "weight_map": {tensor: shard}}). */
export async function readSafetensorsIndex(src: ByteSource, opts: ResolvedSafetensorsOptions, signal?: AbortSignal): Promise<SafetensorsIndex> {
  if (src.size > opts.maxIndexJsonBytes) {
    throw new LimitError('index-too-large', `${src.name}: index is ${fmtBytes(src.size)} bytes, more than the limit of ${fmtBytes(opts.maxIndexJsonBytes)}`);
  }
  const bytes = await src.read(0, src.size, signal);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new FormatError('invalid-json', `${src.name}: index is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FormatError('bad-header', `${src.name}: index must be a JSON object`);
  }
  const { metadata, weight_map: wm } = json as Record<string, unknown>;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    throw new FormatError('bad-header', `${src.name}: index has no "weight_map" object`);
  }
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new FormatError('bad-header', `${src.name}: index "metadata" must be an object`);
  }
  const names = Object.keys(wm);
  if (names.length > opts.maxTensorCount) {
    throw new LimitError('tensor-count', `${src.name}: index lists ${names.length} tensors, more than the limit of ${opts.maxTensorCount}`);
  }
  const weightMap = new Map<string, string>();
  const shardSet = new Set<string>();
  for (const name of names) {
    const file = (wm as Record<string, unknown>)[name];
    if (typeof file !== 'string' || file === '') {
      throw new FormatError('bad-header', `${src.name}: weight_map entry for tensor "${name}" is not a file name`);
    }
    weightMap.set(name, file);
    if (!shardSet.has(file)) {
      shardSet.add(file);
      if (shardSet.size > opts.maxShardCount) {
        throw new LimitError('shard-count', `${src.name}: index names more than ${opts.maxShardCount} shard files`);
      }
    }
  }
  return { metadata: { ...((metadata as Record<string, unknown> | null | undefined) ?? {}) }, weightMap, shards: [...shardSet] };
}
