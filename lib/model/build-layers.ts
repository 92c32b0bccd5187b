import type { FormatName, TensorInfo } from '../formats/types';
import { isScalarDType } from '../formats/dtype';
import { blockIndex } from './block-index';
import type { Layer, LayerKind, LayerOptions, SliceSpec } from './layer';
import { NO_LAYER_LIMITS, resolveLayerOptions } from './layer';
import { conv1dLayout, conv2dLayout, convAxes, denseLayout, isKerasKernelName } from './weight-layout';

/**
 * Tensors -> the layer catalog, following WeightWatcher 0.7.x (WWLayer, conv2D_Wmats,
 * layer_supported) so N, M, rf and the analysed set match it:
 * - every 2-D tensor is a dense matrix (embedding when named or used as one), N = max, M = min;
 * - every 4-D tensor is a conv kernel cut into kh·kw slices, rf = kh·kw, N/M = max/min of the
 *   channel counts; depthwise kernels (in = 1 per group) are no exception: M = 1, num_evals = rf;
 * - a layer is analysed when min_evals ≤ M·rf ≤ max_evals and N ≤ max_N.
 * Departures, each because WeightWatcher has no rule for the case: 3-D tensors used as conv
 * kernels are sliced like conv2d with kw = 1 (WeightWatcher does not analyse them from state
 * dicts or ONNX), and non-float tensors (shape constants, indices) are never analysed.
 * Rank 0-1 tensors (biases, norms, scalars) are not layers; they stay in the tensor table.
 */

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);
/** Ops whose 8-bit integer inputs are quantized weights, whose spectra still mean something. */
const QUANT_OPS = new Set(['DequantizeLinear', 'MatMulInteger', 'ConvInteger', 'QLinearConv', 'QLinearMatMul', 'MatMulNBits']);

function isWeightDtype(t: TensorInfo): boolean {
  if (FLOAT_DTYPES.has(t.dtype)) return true;
  // GGUF block quants (Q4_K, ...) are weights by construction.
  if (!isScalarDType(t.dtype)) return true;
  return (t.dtype === 'I8' || t.dtype === 'U8') && t.consumer !== undefined && QUANT_OPS.has(t.consumer.op);
}

/** Module path shown to users: `h.0.attn.c_attn.weight` -> `h.0.attn.c_attn`, `dense/kernel:0` -> `dense`. */
export function layerNameOf(tensorName: string): string {
  const stripped = tensorName.replace(/[./](weight|kernel)(:\d+)?$/, '');
  return stripped === '' ? tensorName : stripped;
}

/** Names used for token / position lookup tables across PyTorch, GGUF and TF checkpoints. */
export function isEmbeddingName(name: string): boolean {
  return /embed|embd|(^|[./_])(wte|wpe|shared)([./]|$)/i.test(name);
}

function isConvName(name: string): boolean {
  return /conv/i.test(name);
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

interface Geometry {
  kind: LayerKind;
  slices: SliceSpec;
  N: number;
  M: number;
  rf: number;
  otherReason?: string;
}

function geometry(t: TensorInfo, format: FormatName | string): Geometry {
  const rank = t.shape.length;
  const op = t.consumer?.op;
  const groupsAttr = t.consumer?.attrs?.group;
  const groups = typeof groupsAttr === 'number' ? groupsAttr : undefined;
  const convConsumer = op === 'Conv' || op === 'ConvInteger' || op === 'QLinearConv' || op === 'ConvTranspose';

  if (rank === 2) {
    const [a, b] = t.shape as [number, number];
    const guess = denseLayout(t, format);
    const embedding = (op === 'Gather' && t.consumer?.input === 0) || (!op && isEmbeddingName(t.name));
    const ax = convAxes(t.shape, guess.layout);
    return {
      kind: embedding ? 'embedding' : 'dense',
      N: Math.max(a, b),
      M: Math.min(a, b),
      rf: 1,
      slices: { layout: embedding ? 'unknown' : guess.layout, layoutSource: guess.source, kh: 1, kw: 1, count: 1, out: ax.out, in: ax.in, ...(op ? { op } : {}) },
    };
  }
  if (rank === 4 || (rank === 3 && (convConsumer || (!op && (isConvName(t.name) || isKerasKernelName(t.name)))))) {
    const guess = rank === 4 ? conv2dLayout(t, format) : conv1dLayout(t, format);
    const ax = convAxes(t.shape, guess.layout);
    return {
      kind: rank === 4 ? 'conv2d' : 'conv1d',
      N: Math.max(ax.out, ax.in),
      M: Math.min(ax.out, ax.in),
      rf: ax.kh * ax.kw,
      slices: {
        layout: guess.layout,
        layoutSource: guess.source,
        kh: ax.kh,
        kw: ax.kw,
        count: ax.kh * ax.kw,
        out: ax.out,
        in: ax.in,
        ...(groups !== undefined ? { groups } : {}),
        ...(op ? { op } : {}),
      },
    };
  }
  const total = t.shape.reduce((p, d) => p * d, 1);
  return {
    kind: 'other',
    N: 0,
    M: 0,
    rf: 0,
    otherReason: `rank-${rank} tensor ${fmtShape(t.shape)}${op ? ` used by ${op}` : ''} is not a dense or conv weight`,
    slices: { layout: 'unknown', layoutSource: 'shape', kh: 1, kw: 1, count: 0, out: 0, in: total, ...(op ? { op } : {}) },
  };
}

function skipReasonOf(t: TensorInfo, g: Geometry, opts: Required<LayerOptions>): string | undefined {
  if (!isWeightDtype(t)) return `dtype ${t.dtype} is not a float weight`;
  if (!t.decodable) return `dtype ${t.dtype} cannot be decoded${t.note ? ` (${t.note})` : ''}`;
  if (g.kind === 'other') return g.otherReason;
  if (g.M === 0) return `empty tensor ${fmtShape(t.shape)}`;
  const numEvals = g.M * g.rf;
  if (numEvals < opts.minEvals) return `num_evals = M·rf = ${numEvals} < min_evals = ${opts.minEvals}`;
  if (numEvals > opts.maxEvals) return `num_evals = M·rf = ${numEvals} > max_evals = ${opts.maxEvals}`;
  if (g.N > opts.maxN) return `N = ${g.N} > max_N = ${opts.maxN}`;
  return undefined;
}

/**
 * One Layer per tensor of rank ≥ 2, in file order; `analyzable` says whether the default
 * analysis takes it, `skipReason` why not. `format` is the TensorSource's format name.
 */
export function buildLayers(tensors: readonly TensorInfo[], format: FormatName | string, options: LayerOptions = {}): Layer[] {
  const opts = resolveLayerOptions(options);
  const layers: Layer[] = [];
  for (const t of tensors) {
    if (t.shape.length < 2) continue;
    const g = geometry(t, format);
    const skipReason = skipReasonOf(t, g, opts);
    const { block, blockPath } = blockIndex(t.name);
    const layer: Layer = {
      id: layers.length,
      name: layerNameOf(t.name),
      tensor: t,
      kind: g.kind,
      N: g.N,
      M: g.M,
      rf: g.rf,
      Q: g.M > 0 ? g.N / g.M : 0,
      num_evals: g.M * g.rf,
      block,
      blockPath,
      slices: g.slices,
      analyzable: skipReason === undefined,
    };
    if (skipReason !== undefined) layer.skipReason = skipReason;
    if (skipReason !== undefined && skipReasonOf(t, g, NO_LAYER_LIMITS) === undefined) layer.limited = true;
    layers.push(layer);
  }
  return layers;
}
