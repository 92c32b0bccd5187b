import { throwIfAborted, UnsupportedError } from '../../base/errors';
import { elementCount } from '../../formats/dtype';
import type { TensorSource } from '../../formats/types';
import type { Layer } from '../../model/layer';
import { quantMatrix } from '../quant/quant-matrix';
import { selectQuantLayers, unquantizableReason, type QuantSelection } from '../quant/quantize-model';
import { alphaPruningRatios, uniformRatios } from './allocation';
import { layerAlpha, type AlphaKind, type LayerAlpha, type LayerAlphaOptions } from './layer-alphas';
import { checkNm, countKept, fullMask, nmValidity, type NmValidity } from './mask';
import { pruneLayer } from './prune-layer';
import { pruneLayers, type PruneInputLayer } from './prune-layers';
import { PRUNE_METHODS, type Mask, type PruneSettings } from './prune-types';
import { checkSparsity } from './select';

/**
 * The whole-model pruning driver: picks the weight matrices and conv kernels, computes the
 * per-layer targets (uniform, or AlphaPruning from raw or FARMS α of every layer not excluded),
 * masks each layer and reports per layer and for the model.
 *
 * Memory: per-layer methods (magnitude with layer scope, N:M, LIFT, Wanda) hold one tensor at a
 * time plus the masks (1 bit a weight); α-driven allocation reads each tensor twice (α first,
 * since every ratio depends on every α). Global magnitude and DIMAP rank scores pooled over the
 * model, so they go through the engine's pruneLayers with every selected matrix in memory.
 * Per-layer masks are the engine's pruneLayer with the ratios its allocation functions give, the
 * same as pruneLayers (a test checks they agree mask for mask).
 *
 * Totals pool weights, not layer figures: sparsity = Σ removed / Σ weights over the selected
 * layers (excluded ones count as dense), and modelSparsity the same over every element of every
 * tensor in the file (biases and norms count as kept).
 */

export interface PrunedModelLayer {
  layer: Layer;
  name: string;
  tensor: string;
  shape: number[];
  /** QuantMatrix: rows = output channels, cols = input weights. */
  rows: number;
  cols: number;
  weights: number;
  kept: number;
  /** Sparsity asked of this layer: the allocation's ratio (0 when excluded; 1 − n/m for N:M; the model target for global magnitude and DIMAP). */
  target: number;
  /** Removed / weights of the mask. */
  achieved: number;
  /** α the allocation used (raw or FARMS); null when not α-driven, excluded, or the layer has no α. */
  alpha: number | null;
  /** Why alpha is null for an α-driven allocation. */
  alphaNote?: string;
  excluded: boolean;
  /** N:M only. */
  nm?: NmValidity;
  /** Magnitude/LIFT/DIMAP cut score; null when there is none. */
  threshold: number | null;
  /** DIMAP: the module type's name. */
  moduleType?: string;
  mask: Mask;
}

export interface PruneSkipped {
  name: string;
  tensor: string;
  reason: string;
}

export interface PruneModelTotals {
  /** Layers selected, pruned (not excluded), excluded. */
  layers: number;
  pruned: number;
  excluded: number;
  skipped: number;
  weights: number;
  kept: number;
  /** Σ removed / Σ weights over the selected layers. */
  sparsity: number;
  /** Parameter-weighted mean of the layer targets. */
  target: number;
  /** Every element of every tensor in the file, and the removed fraction of them. */
  modelParams: number;
  modelSparsity: number;
}

export interface PruneModelResult {
  layers: PrunedModelLayer[];
  skipped: PruneSkipped[];
  totals: PruneModelTotals;
}

interface Outcome {
  mask: Mask;
  ratio: number;
  excluded: boolean;
  threshold: number | null;
  alpha: number | null;
  alphaNote?: string;
  moduleType?: number;
}

const weightsOf = (l: Layer): number => l.slices.out * l.slices.in * l.slices.kh * l.slices.kw;

export interface PruneModelProgress {
  /** 'alpha': computing α for the allocation; 'read': loading matrices (pooled methods); 'prune': masks. */
  phase: 'alpha' | 'read' | 'prune';
  done: number;
  layers: number;
  name: string;
}

export interface PruneModelOptions {
  signal?: AbortSignal;
  onProgress?: (p: PruneModelProgress) => void;
  /** Options of the α computation (fit, FARMS window settings). */
  alpha?: Omit<LayerAlphaOptions, 'signal' | 'onProgress'>;
  /** Wanda: per-layer activation norms by tensor name (one per QuantMatrix column). */
  actNorms?: ReadonlyMap<string, Float32Array>;
}

/** Settings wrong whatever the layer, refused before any work (messages name the setting). */
export function validatePruneSettings(s: PruneSettings): void {
  const bad = (code: string, msg: string): never => {
    throw new UnsupportedError(code, `prune: ${msg}`);
  };
  if (!PRUNE_METHODS.includes(s.method)) bad('prune-method', `method "${String(s.method)}" is not one of ${PRUNE_METHODS.join(', ')}`);
  checkSparsity(s.sparsity, 'target sparsity');
  if (s.allocation !== 'uniform' && s.allocation !== 'alpha' && s.allocation !== 'farms') bad('prune-allocation', `allocation "${String(s.allocation)}" is not one of uniform, alpha, farms`);
  if (!(s.epsilon >= 0 && s.epsilon < 1)) bad('bad-epsilon', `ε = ${s.epsilon} must be in [0, 1)`);
  if (s.scope !== 'layer' && s.scope !== 'global') bad('prune-scope', `scope "${String(s.scope)}" is not layer or global`);
  if (s.method === 'nm') checkNm(s.n, s.m);
  if (s.method === 'lift' && !(Number.isInteger(s.liftRank) && s.liftRank >= 1)) bad('prune-rank', `LIFT rank ${s.liftRank} must be a positive integer`);
  for (const p of [s.exclude, ...s.moduleTypes.map((t) => t.pattern)]) {
    try {
      new RegExp(p);
    } catch {
      bad('bad-pattern', `/${p}/ is not a valid regular expression`);
    }
  }
}

/** Whether the method uses the per-layer allocation (pooled rankings and N:M do not). */
export function usesAllocation(s: Pick<PruneSettings, 'method' | 'scope'>): boolean {
  return (s.method === 'magnitude' && s.scope === 'layer') || s.method === 'lift' || s.method === 'wanda';
}

/**
 * The layers to prune: every rank ≥ 2 tensor (weight matrices, conv kernels) whose layer or
 * tensor name matches `filter`, WeightWatcher's size limits lifted; matching rank 0–1 tensors
 * are listed as not prunable. The same selection as quantization.
 */
export function selectPruneLayers(source: TensorSource, filter?: RegExp): QuantSelection {
  return selectQuantLayers(source, filter);
}

/** Prunes `layers` of `source` under `settings`; read, settings and cancellation errors throw. */
export async function pruneModel(
  source: TensorSource, layers: readonly Layer[], settings: PruneSettings, opts: PruneModelOptions = {},
): Promise<PruneModelResult> {
  validatePruneSettings(settings);
  if (settings.method === 'wanda' && !opts.actNorms) {
    throw new UnsupportedError('wanda-needs-activations', `${source.name}: Wanda scores weights by |W|·‖X‖ and needs activation norms from running an ONNX graph on calibration inputs; use magnitude, nm, lift or dimap for weights alone`);
  }
  const exclude = settings.exclude === '' ? null : new RegExp(settings.exclude);
  const wantAlpha = settings.allocation !== 'uniform' && usesAllocation(settings);
  const skipped: PruneSkipped[] = [];
  const usable: Layer[] = [];
  for (const l of layers) {
    const why = unquantizableReason(l);
    if (why !== undefined) skipped.push({ name: l.name, tensor: l.tensor.name, reason: why });
    else usable.push(l);
  }
  const excluded = usable.map((l) => exclude?.test(l.name) ?? false);
  const read = async (i: number, phase: PruneModelProgress['phase']): Promise<Float32Array> => {
    throwIfAborted(opts.signal);
    opts.onProgress?.({ phase, done: i, layers: usable.length, name: usable[i]!.name });
    return source.read(usable[i]!.tensor.name, opts.signal);
  };
  const alphaOf = (i: number, data: Float32Array): LayerAlpha =>
    layerAlpha(usable[i]!, data, settings.allocation as AlphaKind, { ...(opts.alpha ?? {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  const outcomes: Outcome[] = [];
  if (!usesAllocation(settings) && settings.method !== 'nm') {
    // Global magnitude and DIMAP rank pooled scores: every matrix is needed at once.
    const inputs: PruneInputLayer[] = [];
    for (let i = 0; i < usable.length; i++) inputs.push({ name: usable[i]!.name, matrix: quantMatrix(usable[i]!, await read(i, 'read')) });
    const r = await pruneLayers(inputs, settings, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: (p: { done: number; layers: number; name: string }) => opts.onProgress!({ phase: 'prune', ...p }) } : {}),
    });
    for (const o of r.layers) outcomes.push({ mask: o.mask, ratio: o.ratio, excluded: o.excluded, threshold: o.threshold, alpha: null, ...(o.moduleType !== undefined ? { moduleType: o.moduleType } : {}) });
  } else {
    // Per-layer methods: α first (when the allocation needs it), then one tensor at a time, keeping only its mask.
    const alphas: (LayerAlpha | null)[] = usable.map(() => null);
    if (wantAlpha) {
      for (let i = 0; i < usable.length; i++) if (!excluded[i]) alphas[i] = alphaOf(i, await read(i, 'alpha'));
    }
    const live = usable.map((l, i) => i).filter((i) => !excluded[i]);
    const liveRatios = settings.allocation === 'uniform' || !usesAllocation(settings)
      ? uniformRatios(live.length, settings.sparsity)
      : alphaPruningRatios(live.map((i) => ({ params: weightsOf(usable[i]!), alpha: alphas[i]?.alpha ?? null })), settings.sparsity, settings.epsilon);
    const ratios = usable.map(() => 0);
    live.forEach((i, j) => (ratios[i] = settings.method === 'nm' ? 1 - settings.n / settings.m : liveRatios[j]!));
    for (let i = 0; i < usable.length; i++) {
      const l = usable[i]!;
      const a = alphas[i];
      const base = { ratio: ratios[i]!, excluded: excluded[i]!, alpha: a?.alpha ?? null, ...(a?.reason !== undefined ? { alphaNote: a.reason } : {}) };
      if (excluded[i]) {
        const { out, in: inC, kh, kw } = l.slices;
        outcomes.push({ ...base, mask: fullMask(out, inC * kh * kw), threshold: null });
        continue;
      }
      const matrix = quantMatrix(l, await read(i, 'prune'));
      const act = opts.actNorms?.get(l.tensor.name);
      const r = pruneLayer(matrix, settings, ratios[i]!, { ...(act ? { actNorms: act } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      outcomes.push({ ...base, mask: r.mask, threshold: r.threshold });
      // Lets a worker's cancel message through between layers.
      await new Promise<void>((done) => setTimeout(done, 0));
    }
  }
  opts.onProgress?.({ phase: 'prune', done: usable.length, layers: usable.length, name: '' });
  const out: PrunedModelLayer[] = outcomes.map((o, i) => {
    const l = usable[i]!;
    const { rows, cols } = o.mask;
    const weights = rows * cols;
    const kept = countKept(o.mask);
    const row: PrunedModelLayer = {
      layer: l,
      name: l.name,
      tensor: l.tensor.name,
      shape: [...l.tensor.shape],
      rows,
      cols,
      weights,
      kept,
      target: o.ratio,
      achieved: weights === 0 ? 0 : (weights - kept) / weights,
      alpha: o.alpha,
      excluded: o.excluded,
      threshold: o.threshold,
      mask: o.mask,
    };
    if (o.alphaNote !== undefined) row.alphaNote = o.alphaNote;
    if (settings.method === 'nm' && !o.excluded) row.nm = nmValidity(o.mask, settings.n, settings.m);
    if (o.moduleType !== undefined) row.moduleType = settings.moduleTypes[o.moduleType]?.name ?? 'other';
    return row;
  });
  let weights = 0;
  let kept = 0;
  let targetSum = 0;
  for (const l of out) {
    weights += l.weights;
    kept += l.kept;
    targetSum += l.target * l.weights;
  }
  let modelParams = 0;
  for (const t of source.tensors) modelParams += elementCount(t.shape, source.name, t.name);
  const pruned = out.filter((l) => !l.excluded).length;
  return {
    layers: out,
    skipped,
    totals: {
      layers: out.length,
      pruned,
      excluded: out.length - pruned,
      skipped: skipped.length,
      weights,
      kept,
      sparsity: weights === 0 ? 0 : (weights - kept) / weights,
      target: weights === 0 ? 0 : targetSum / weights,
      modelParams,
      modelSparsity: modelParams === 0 ? 0 : (weights - kept) / modelParams,
    },
  };
}
