import { FormatError } from '../../base/errors';
import type { ByteSource } from '../../io/byte-source';

const SHARD_RE = /^(.*)-(\d+)-of-(\d+)\.safetensors$/;

/**
 * The shards of `primary` among the files the user gave, for a folder of
 * `model-0000k-of-0000n.safetensors` without its index. Only files of the same series
 * (same prefix and count) are merged: a folder may also hold unrelated checkpoints
 * (`model.fp16.safetensors`, adapters) that must not be mixed in. Returns `[primary]` when the
 * primary is not a shard or no sibling was given (the user opened one shard on its own).
 */
export function shardSiblings(primary: ByteSource, files: readonly ByteSource[]): ByteSource[] {
  const m = SHARD_RE.exec(primary.name);
  if (!m) return [primary];
  const [, prefix, , total] = m;
  const byIndex = new Map<number, ByteSource>();
  for (const f of files) {
    const fm = SHARD_RE.exec(f.name);
    if (!fm || fm[1] !== prefix || Number(fm[3]) !== Number(total)) continue;
    byIndex.set(Number(fm[2]), f);
  }
  byIndex.set(Number(m[2]), primary);
  if (byIndex.size === 1) return [primary];
  const n = Number(total);
  const missing: number[] = [];
  // Shard numbers run 1..n; the loop stops after 5 misses, so a hostile n costs at most files + 5 steps.
  for (let i = 1; i <= n && missing.length < 5; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length) {
    throw new FormatError(
      'missing-file',
      `${primary.name}: shard series of ${n} files, but shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${missing.length === 5 ? ', ...' : ''} ${missing.length > 1 ? 'are' : 'is'} not in the folder`,
    );
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
}
