import { FormatError, LimitError, NotFoundError, UnsupportedError, throwIfAborted } from '../base/errors';
import { MAX_TENSOR_BYTES, MAX_TENSOR_ELEMENTS } from '../base/limits';
import type { ByteSource, ModelInput } from '../io/byte-source';
import { DTYPE_BYTES, decodeToF32 } from './dtype';
import type { FormatName, TensorInfo, TensorSource } from './types';
import type { SafetensorsEntry } from './safetensors/parse-header';
import { readSafetensorsHeader, type OpenedSafetensorsFile } from './safetensors/read-header';
import { readSafetensorsIndex } from './safetensors/read-index';
import { shardSiblings } from './safetensors/shard-siblings';
import { resolveOptions, type ResolvedSafetensorsOptions, type SafetensorsOptions } from './safetensors/safetensors-options';

export type { SafetensorsOptions } from './safetensors/safetensors-options';

/** Shard headers are read this many at a time: enough to hide HTTP latency, few open requests. */
const SHARD_CONCURRENCY = 8;

interface Located {
  file: OpenedSafetensorsFile;
  /** File name shown in TensorInfo.file and errors (the weight_map spelling for indexed shards). */
  fileName: string;
  entry: SafetensorsEntry;
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function isIndexName(name: string): boolean {
  return name.toLowerCase().endsWith('.json');
}

/**
 * Opens a .safetensors file, a `*.safetensors.index.json` over shards, or the first shard of a
 * folder of `-0000k-of-0000n` shards without an index. Only the headers are read; `read(name)`
 * fetches one tensor's bytes and decodes them.
 */
export async function readSafetensors(input: ModelInput, signal?: AbortSignal, options?: SafetensorsOptions): Promise<TensorSource> {
  const opts = resolveOptions(options);
  const primary = input.primary;
  if (isIndexName(primary.name)) return readIndexed(input, opts, signal);

  const files = shardSiblings(primary, input.files);
  const opened = await mapLimited(files, SHARD_CONCURRENCY, (f) => readSafetensorsHeader(f, opts, signal));
  const metadata: Record<string, unknown> = {};
  for (const f of opened) Object.assign(metadata, f.metadata);
  return buildSource({
    format: files.length > 1 ? 'safetensors-sharded' : 'safetensors',
    label: input.label,
    files: opened.map((file) => ({ file, fileName: file.src.name })),
    metadata,
    totalBytes: files.reduce((s, f) => s + f.size, 0),
    opts,
  });
}

async function readIndexed(input: ModelInput, opts: ResolvedSafetensorsOptions, signal?: AbortSignal): Promise<TensorSource> {
  const indexSrc = input.primary;
  const index = await readSafetensorsIndex(indexSrc, opts, signal);
  const sources = await mapLimited(index.shards, SHARD_CONCURRENCY, async (shard) => {
    throwIfAborted(signal);
    const src = await input.resolve(shard);
    if (!src) {
      const example = [...index.weightMap].find(([, f]) => f === shard)?.[0];
      throw new FormatError('missing-file', `${indexSrc.name}: shard "${shard}" (holds tensor "${example}") is not there`);
    }
    return src;
  });
  const opened = await mapLimited(sources, SHARD_CONCURRENCY, (src) => readSafetensorsHeader(src, opts, signal));
  const metadata: Record<string, unknown> = {};
  for (const f of opened) Object.assign(metadata, f.metadata);
  Object.assign(metadata, index.metadata);
  const source = buildSource({
    format: 'safetensors-sharded',
    label: input.label,
    files: opened.map((file, i) => ({ file, fileName: index.shards[i]! })),
    metadata,
    totalBytes: indexSrc.size + sources.reduce((s, f) => s + f.size, 0),
    opts,
  });
  // Every tensor the index names must be in the shard it names (a stale index after a re-save
  // is the usual cause); tensors a shard holds beyond the index are listed too, as loaders do.
  const fileOf = new Map(source.tensors.map((t) => [t.name, t.file]));
  for (const [name, shard] of index.weightMap) {
    const actual = fileOf.get(name);
    if (actual !== shard) {
      throw new FormatError(
        'bad-header',
        `${indexSrc.name}: weight_map puts tensor "${name}" in ${shard}, which does not contain it${actual ? ` (it is in ${actual})` : ''}`,
      );
    }
  }
  return source;
}

interface BuildArgs {
  format: FormatName;
  label: string;
  files: { file: OpenedSafetensorsFile; fileName: string }[];
  metadata: Record<string, unknown>;
  totalBytes: number;
  opts: ResolvedSafetensorsOptions;
}

function buildSource({ format, label, files, metadata, totalBytes, opts }: BuildArgs): TensorSource {
  const byName = new Map<string, Located>();
  const tensors: TensorInfo[] = [];
  const warnings: string[] = [];
  for (const { file, fileName } of files) {
    warnings.push(...file.warnings);
    if (byName.size + file.entries.length > opts.maxTensorCount) {
      throw new LimitError('tensor-count', `${label}: the shards list more than ${opts.maxTensorCount} tensors together`);
    }
    for (const entry of file.entries) {
      const prev = byName.get(entry.name);
      if (prev) {
        throw new FormatError('bad-header', `${label}: tensor "${entry.name}" appears in both ${prev.fileName} and ${fileName}`);
      }
      byName.set(entry.name, { file, fileName, entry });
      const info: TensorInfo = {
        name: entry.name,
        shape: entry.shape,
        dtype: entry.dtype,
        byteLength: entry.end - entry.begin,
        decodable: entry.decodable,
        file: fileName,
      };
      if (entry.note) info.note = entry.note;
      tensors.push(info);
    }
  }
  if (warnings.length) metadata['weightlens:warnings'] = warnings;

  return {
    format,
    name: label,
    tensors,
    metadata,
    totalBytes,
    async read(name, signal) {
      const loc = byName.get(name);
      if (!loc) throw new NotFoundError('tensor', `${label}: no tensor named "${name}"`);
      const { file, fileName, entry } = loc;
      if (DTYPE_BYTES[entry.dtype] === undefined) {
        throw new UnsupportedError('dtype', `${fileName}: tensor "${name}" has dtype ${entry.dtype}, which WeightLens does not decode`);
      }
      if (!entry.decodable) {
        throw new LimitError('tensor-size', `${fileName}: tensor "${name}" has ${entry.count} elements (${entry.end - entry.begin} bytes), more than WeightLens decodes at once (${MAX_TENSOR_ELEMENTS} elements, ${MAX_TENSOR_BYTES} bytes)`);
      }
      const src: ByteSource = file.src;
      const bytes = await src.read(file.dataStart + entry.begin, entry.end - entry.begin, signal);
      throwIfAborted(signal);
      return decodeToF32(entry.dtype, bytes, entry.count, fileName, name);
    },
  };
}
