import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildMaskSafetensors, buildPrunedSafetensors, type PrunedTensor } from '../../lib/analysis/prune/export-pruned';
import { pruneModel, selectPruneLayers, usesAllocation, type PruneModelResult, type PrunedModelLayer } from '../../lib/analysis/prune/prune-model';
import { DEFAULT_PRUNE_SETTINGS, type PruneSettings } from '../../lib/analysis/prune/prune-types';
import { safetensorsRawReader, type ExportOptions } from '../../lib/analysis/quant/export-quantized';
import { openModel } from '../../lib/formats/registry';
import type { PruneArgs } from '../args';
import { fmtNum, fmtSize, table } from '../format-text';
import { isUrl, openInput } from '../open-target';

/**
 * `weightlens prune`: prunes the model's weight matrices with one of the weight-only methods
 * (magnitude per layer or global, N:M, LIFT, DIMAP), the per-layer targets split uniformly or by
 * AlphaPruning from raw or FARMS α; prints each layer's target and achieved sparsity, its α and
 * (N:M) pattern validity, and the totals pooled over weights; optionally writes the pruned model
 * (--out) and the masks (--masks). Wanda is refused at parse time: it needs activations.
 */

export interface PruneOptions {
  prune: PruneArgs;
  layers?: string;
  out?: string;
  masks?: string;
  packedMasks?: boolean;
  json: boolean;
  progress?: boolean;
}

type Num = number | null;

/** A layer in the JSON output: the engine's fields, with snake_case names for the optional ones. */
export type PruneRow = Pick<PrunedModelLayer, 'name' | 'tensor' | 'shape' | 'rows' | 'cols' | 'weights' | 'kept' | 'target' | 'achieved' | 'alpha' | 'excluded' | 'threshold'> & {
  alpha_note?: string;
  /** N:M only: every group of m keeps at most n, and the count of groups that do not. */
  nm_valid?: boolean;
  nm_violating_groups?: number;
  nm_groups?: number;
  module_type?: string;
};

export interface PruneTotals {
  layers: number;
  pruned: number;
  excluded: number;
  skipped: number;
  weights: number;
  kept: number;
  target: number;
  achieved: number;
  model_params: number;
  model_sparsity: number;
}

export interface PruneCliResult {
  file: string;
  format: string;
  method: PruneSettings['method'];
  settings: PruneSettings;
  /** The allocation that applies ('pattern' for N:M, 'pooled' for global magnitude and DIMAP). */
  allocation: string;
  layers: PruneRow[];
  skipped: { name: string; tensor: string; reason: string }[];
  total: PruneTotals;
  outputs: { pruned?: { file: string; bytes: number }; masks?: { file: string; bytes: number; packed: boolean } };
}

export function pruneSettingsOf(a: PruneArgs): PruneSettings {
  const s: PruneSettings = { ...DEFAULT_PRUNE_SETTINGS, moduleTypes: [] };
  for (const [k, v] of Object.entries(a)) if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
  if (s.method === 'nm') s.sparsity = 1 - s.n / s.m;
  return s;
}

function allocationOf(s: PruneSettings): string {
  if (s.method === 'nm') return 'pattern';
  if (!usesAllocation(s)) return 'pooled';
  return s.allocation;
}

const finite = (v: number | null): Num => (v !== null && Number.isFinite(v) ? v : null);

function rowsOf(r: PruneModelResult): PruneRow[] {
  return r.layers.map((l) => {
    const row: PruneRow = {
      name: l.name, tensor: l.tensor, shape: l.shape, rows: l.rows, cols: l.cols, weights: l.weights, kept: l.kept,
      target: l.target, achieved: l.achieved, alpha: finite(l.alpha), excluded: l.excluded, threshold: finite(l.threshold),
    };
    if (l.alphaNote !== undefined) row.alpha_note = l.alphaNote;
    if (l.nm) Object.assign(row, { nm_valid: l.nm.valid, nm_violating_groups: l.nm.violatingGroups, nm_groups: l.nm.groups });
    if (l.moduleType !== undefined) row.module_type = l.moduleType;
    return row;
  });
}

function progressLine(phase: string, done: number, total: number, name: string, t0: number): void {
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(`\r\x1b[K${phase === 'read' ? 'reading' : 'pruning'} ${done}/${total} (${secs.toFixed(1)} s) ${name}`);
}

export async function collectPrune(target: string, opts: PruneOptions): Promise<PruneCliResult> {
  const settings = pruneSettingsOf(opts.prune);
  const filter = opts.layers === undefined ? undefined : new RegExp(opts.layers);
  for (const [flag, f] of [['--out', opts.out], ['--masks', opts.masks]] as const) {
    if (f !== undefined && !isUrl(target) && resolve(f) === resolve(target)) throw new Error(`${flag} ${f} would overwrite the model being pruned`);
  }
  const { input, close } = await openInput(target);
  try {
    const source = await openModel(input);
    const sel = selectPruneLayers(source, filter);
    if (sel.layers.length === 0) {
      throw new Error(filter ? `no weight matrix matches --layers ${String(filter)}` : 'the model has no weight matrix (tensor of rank 2 or more) to prune');
    }
    const t0 = performance.now();
    const r = await pruneModel(source, sel.layers, settings, {
      ...(opts.progress ? { onProgress: (p: { phase: string; done: number; layers: number; name: string }) => progressLine(p.phase, p.done, p.layers, p.name, t0) } : {}),
    });
    if (opts.progress) process.stderr.write('\r\x1b[K');
    const skipped = [...r.skipped, ...sel.notLayers.map((n) => ({ name: n.name, tensor: n.name, reason: n.reason }))];
    if (r.layers.length === 0) {
      const why = skipped.slice(0, 3).map((s) => `${s.name}: ${s.reason}`).join('; ');
      throw new Error(`no layer could be pruned (${why}${skipped.length > 3 ? '; ...' : ''})`);
    }
    const outputs: PruneCliResult['outputs'] = {};
    const pruned: PrunedTensor[] = r.layers
      .filter((l) => !l.excluded)
      .map((l) => ({ layer: l.layer, mask: l.mask, target: l.target, alpha: l.alpha }));
    const info = { method: settings.method, settings };
    if (opts.out !== undefined) {
      const exportOpts: ExportOptions = source.format === 'safetensors' ? { readRaw: await safetensorsRawReader(input) } : {};
      const bytes = await buildPrunedSafetensors(source, pruned, info, exportOpts);
      await writeFile(opts.out, bytes);
      outputs.pruned = { file: opts.out, bytes: bytes.byteLength };
    }
    if (opts.masks !== undefined) {
      const packed = opts.packedMasks === true;
      const bytes = buildMaskSafetensors(source, pruned, info, { packed });
      await writeFile(opts.masks, bytes);
      outputs.masks = { file: opts.masks, bytes: bytes.byteLength, packed };
    }
    const t = r.totals;
    return {
      file: target,
      format: source.format,
      method: settings.method,
      settings,
      allocation: allocationOf(settings),
      layers: rowsOf(r),
      skipped,
      total: {
        layers: t.layers, pruned: t.pruned, excluded: t.excluded, skipped: skipped.length, weights: t.weights, kept: t.kept,
        target: t.target, achieved: t.sparsity, model_params: t.modelParams, model_sparsity: t.modelSparsity,
      },
      outputs,
    };
  } finally {
    await close();
  }
}

function settingsText(r: PruneCliResult): string {
  const s = r.settings;
  const alloc = r.allocation === 'alpha' || r.allocation === 'farms' ? `AlphaPruning from ${r.allocation === 'farms' ? 'FARMS α' : 'raw α'}, ε ${s.epsilon}` : r.allocation;
  switch (s.method) {
    case 'nm':
      return `N:M ${s.n}:${s.m}`;
    case 'magnitude':
      return `magnitude, ${s.scope === 'global' ? 'one global threshold' : `per layer, ${alloc}`}, target ${s.sparsity}`;
    case 'lift':
      return `LIFT rank ${s.liftRank} (seed ${s.seed}), ${alloc}, target ${s.sparsity}`;
    default:
      return `DIMAP, ${s.moduleTypes.length ? `module types ${s.moduleTypes.map((t) => `${t.name}=/${t.pattern}/`).join(', ')}` : 'one module type'}, target ${s.sparsity}`;
  }
}

export function formatPruneText(r: PruneCliResult): string {
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '-' : fmtNum(v));
  const nm = r.method === 'nm';
  const alpha = r.allocation === 'alpha' || r.allocation === 'farms';
  const cols = ['name', '>rows', '>cols', '>target', '>achieved', ...(alpha ? ['>alpha'] : []), ...(nm ? ['nm_valid'] : []), ...(r.method === 'dimap' ? ['module_type'] : []), 'note'];
  const rows = r.layers.map((l) => [
    l.name, cell(l.rows), cell(l.cols), cell(l.target), cell(l.achieved),
    ...(alpha ? [cell(l.alpha)] : []),
    ...(nm ? [l.nm_valid === undefined ? '-' : l.nm_valid ? 'yes' : `no (${l.nm_violating_groups} of ${l.nm_groups} groups)`] : []),
    ...(r.method === 'dimap' ? [l.module_type ?? '-'] : []),
    l.excluded ? 'excluded (dense)' : l.alpha_note ?? '',
  ]);
  const t = r.total;
  rows.push(['total', '', '', cell(t.target), cell(t.achieved), ...(alpha ? [''] : []), ...(nm ? [''] : []), ...(r.method === 'dimap' ? [''] : []), '']);
  const out = [
    `${r.file}: ${settingsText(r)}; ${t.pruned} of ${t.layers} layers pruned${t.excluded ? `, ${t.excluded} excluded` : ''} (${r.format})`,
    table(cols, rows),
    `total: ${t.weights - t.kept} of ${t.weights} weights removed (pooled, not a mean of the layer figures); ${fmtNum(t.model_sparsity)} of all ${t.model_params} parameters`,
  ];
  if (r.skipped.length) out.push(`skipped:\n${r.skipped.map((s) => `  ${s.name}: ${s.reason}`).join('\n')}`);
  if (r.outputs.pruned) out.push(`wrote ${r.outputs.pruned.file} (pruned model, ${fmtSize(r.outputs.pruned.bytes)})`);
  if (r.outputs.masks) out.push(`wrote ${r.outputs.masks.file} (masks${r.outputs.masks.packed ? ', bit-packed' : ''}, ${fmtSize(r.outputs.masks.bytes)})`);
  return `${out.join('\n')}\n`;
}

export async function prune(target: string, opts: PruneOptions): Promise<string> {
  const r = await collectPrune(target, opts);
  return opts.json ? `${JSON.stringify(r, null, 1)}\n` : formatPruneText(r);
}
