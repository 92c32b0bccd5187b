import type { TensorInfo } from '../../lib/formats/types';
import { buildLayers } from '../../lib/model/build-layers';
import type { Layer } from '../../lib/model/layer';
import { NO_LAYER_LIMITS } from '../../lib/model/layer';
import { modelSummary } from '../../lib/model/model-summary';
import type { ModelSummary } from '../../lib/model/model-summary';
import { fmtCount, fmtSize, table } from '../format-text';
import { openTarget } from '../open-target';

/** `weightlens info`: what is in a checkpoint, from its header alone (no tensor data is read). */

export interface InfoOptions {
  json: boolean;
  noLimits: boolean;
}

/** A catalog layer as `info` prints it: the tensor by name instead of its whole TensorInfo. */
export type InfoLayer = Omit<Layer, 'tensor'> & { tensor: string };

export interface InfoResult {
  file: string;
  format: string;
  summary: ModelSummary;
  metadata: Record<string, unknown>;
  tensors: TensorInfo[];
  layers: InfoLayer[];
}

export async function collectInfo(target: string, opts: Pick<InfoOptions, 'noLimits'>): Promise<InfoResult> {
  const { source, close } = await openTarget(target);
  try {
    const layers = buildLayers(source.tensors, source.format, opts.noLimits ? NO_LAYER_LIMITS : {});
    return {
      file: target,
      format: source.format,
      summary: modelSummary(source.format, source.tensors, layers, source.totalBytes),
      metadata: source.metadata,
      tensors: source.tensors,
      layers: layers.map(({ tensor, ...rest }) => ({ ...rest, tensor: tensor.name })),
    };
  } finally {
    await close();
  }
}

function fmtQ(q: number): string {
  return q === 0 ? '-' : q.toFixed(2);
}

function metadataLines(meta: Record<string, unknown>): string[] {
  const MAX_KEYS = 12;
  const MAX_CHARS = 100;
  const keys = Object.keys(meta);
  const lines = keys.slice(0, MAX_KEYS).map((k) => {
    const v = meta[k];
    let s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
    if (s.length > MAX_CHARS) s = `${s.slice(0, MAX_CHARS - 1)}…`;
    return `  ${k}: ${s.replace(/\s+/g, ' ')}`;
  });
  if (keys.length > MAX_KEYS) lines.push(`  … ${keys.length - MAX_KEYS} more (see --json)`);
  return lines;
}

export function formatInfoText(r: InfoResult): string {
  const s = r.summary;
  const out: string[] = [];
  out.push(r.file);
  const kv = (k: string, v: string) => out.push(`  ${k.padEnd(9)} ${v}`);
  kv('format', r.format);
  kv('params', `${fmtCount(s.params)} (${s.params.toLocaleString('en-US')})`);
  kv('bytes', `${fmtSize(s.tensorBytes)} in tensors${s.fileBytes !== undefined ? `, ${fmtSize(s.fileBytes)} on disk` : ''}`);
  kv(
    'dtypes',
    s.dtypes
      .map((d) => `${d.dtype} ${fmtCount(d.params)} params ${fmtSize(d.bytes)}${s.tensorBytes > 0 ? ` (${((100 * d.bytes) / s.tensorBytes).toFixed(1)}%)` : ''}`)
      .join(', ') || '-',
  );
  kv('tensors', `${s.tensors} (${Object.entries(s.ranks).map(([rank, n]) => `rank ${rank}: ${n}`).join(', ')})`);
  kv('layers', `${s.analyzable} of ${s.layers} analyzable${s.kinds.length ? ` (${s.kinds.map((k) => `${k.kind} ${k.analyzable}/${k.layers}`).join(', ')})` : ''}`);
  const meta = metadataLines(r.metadata);
  if (meta.length) out.push('', 'Metadata', ...meta);
  // A file column only helps when the tensors come from several files (shards, external data).
  const files = new Set(r.tensors.map((t) => t.file));
  const showFile = files.size > 1;
  out.push('', `Tensors (${r.tensors.length})`);
  out.push(
    table(
      ['name', 'shape', 'dtype', '>bytes', 'note'],
      r.tensors.map((t) => [t.name, `[${t.shape.join(', ')}]`, t.dtype, String(t.byteLength), [t.note, showFile ? t.file : undefined].filter(Boolean).join('; ')]),
    ),
  );
  out.push('', `Layers (${s.analyzable} analyzable of ${r.layers.length})`);
  out.push(
    table(
      ['name', 'kind', '>N', '>M', '>rf', '>Q', '>block', 'analyzed'],
      r.layers.map((l) => [
        l.name,
        l.kind,
        String(l.N),
        String(l.M),
        String(l.rf),
        fmtQ(l.Q),
        l.block === null ? '-' : String(l.block),
        l.analyzable ? 'yes' : `no: ${l.skipReason ?? ''}`,
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}

export async function info(target: string, opts: InfoOptions): Promise<string> {
  const r = await collectInfo(target, opts);
  return opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatInfoText(r);
}
