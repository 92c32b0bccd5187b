import type { TensorInfo } from '../formats/types';

/**
 * The layer catalog's vocabulary. A Layer is one weight tensor seen the way WeightWatcher sees
 * it: a dense matrix, or a conv kernel cut into kh·kw slice matrices, with N ≥ M the sides of
 * each slice, so that N, M, rf, Q and num_evals can be compared with WeightWatcher's columns.
 */

export type LayerKind =
  | 'dense' // 2-D weight: Linear, MatMul, Gemm, Keras Dense, GPT-2 Conv1D
  | 'embedding' // 2-D lookup table; same numbers as dense, named for the user
  | 'conv2d' // 4-D kernel (including ConvTranspose), analysed as kh·kw slices
  | 'conv1d' // 3-D kernel, analysed as k slices
  | 'other'; // rank ≥ 2 but not a weight matrix we know how to slice (3-D attention tables, 5-D conv3d, LSTM stacks)

/**
 * How the stored axes map to output channels, input channels and kernel positions, so views
 * can cut and draw the matrices the right way round:
 * - `oi`: [out, in] (PyTorch Linear, ONNX Gemm with transB=1)
 * - `io`: [in, out] (ONNX/Paddle MatMul, Keras Dense, GPT-2 Conv1D)
 * - `oihw`: [out, in/groups, kh, kw] (PyTorch, ONNX Conv)
 * - `iohw`: [in, out/groups, kh, kw] (ConvTranspose)
 * - `hwio`: [kh, kw, in, out] (Keras / TensorFlow)
 * - `oik` / `kio`: the 1-D conv versions of `oihw` / `hwio`
 * - `unknown`: 2-D matrices where nothing tells which side is which (N, M do not depend on it)
 */
export type WeightLayout = 'oi' | 'io' | 'oihw' | 'iohw' | 'hwio' | 'oik' | 'kio' | 'unknown';

/** What decided the layout: the op that consumes the tensor, its name, the format's convention, or the shape rule. */
export type LayoutSource = 'consumer' | 'name' | 'format' | 'shape';

export interface SliceSpec {
  layout: WeightLayout;
  layoutSource: LayoutSource;
  /** Kernel height and width; 1 × 1 for dense matrices, k × 1 for conv1d. */
  kh: number;
  kw: number;
  /** Number of slice matrices (= rf). */
  count: number;
  /** Output / input channel counts of one stored slice (before orienting rows ≥ columns). */
  out: number;
  in: number;
  /** Conv groups when the format records them (ONNX `group` attribute). */
  groups?: number;
  /** The op that consumes the tensor, when the format records it (ONNX). */
  op?: string;
}

export interface Layer {
  /** Position in the catalog (ordering, WeightWatcher's layer_id analogue). */
  id: number;
  /** Module path: the tensor name with a trailing `.weight` / `/kernel` / `:0` removed. */
  name: string;
  tensor: TensorInfo;
  kind: LayerKind;
  /** Rows and columns of each slice matrix, N ≥ M (WeightWatcher's N, M). */
  N: number;
  M: number;
  /** Receptive field: slices per layer (kh·kw for conv, 1 for dense). */
  rf: number;
  /** Aspect ratio N / M. */
  Q: number;
  /** Eigenvalues the pooled ESD has: M·rf (WeightWatcher's num_evals). */
  num_evals: number;
  /** Transformer block / stage number parsed from the name, null when the name has none. */
  block: number | null;
  /** The name prefix up to and including the block number (`model.layers.10`), null with block. */
  blockPath: string | null;
  slices: SliceSpec;
  analyzable: boolean;
  /** Why the layer is not analysed, in words a user can act on. */
  skipReason?: string;
  /** Skipped only for WeightWatcher's size limits (min_evals, max_evals, max_N): analyzable when they are lifted. */
  limited?: boolean;
}

/**
 * WeightWatcher's analyze() layer selection defaults. Layers outside them are listed but not
 * analysed; the options let a user lift them.
 */
/** Fewer eigenvalues than this give no meaningful power-law fit. */
export const DEFAULT_MIN_EVALS = 10;
/** More eigenvalues than this make the eigensolve slow; WeightWatcher skips them by default. */
export const DEFAULT_MAX_EVALS = 15_000;
/** Matrices longer than this (vocabulary tables) are skipped by WeightWatcher by default. */
export const DEFAULT_MAX_N = 50_000;

export interface LayerOptions {
  /** Skip when num_evals = M·rf < minEvals. */
  minEvals?: number;
  /** Skip when num_evals = M·rf > maxEvals. */
  maxEvals?: number;
  /** Skip when N > maxN. */
  maxN?: number;
}

export function resolveLayerOptions(o: LayerOptions = {}): Required<LayerOptions> {
  return {
    minEvals: o.minEvals ?? DEFAULT_MIN_EVALS,
    maxEvals: o.maxEvals ?? DEFAULT_MAX_EVALS,
    maxN: o.maxN ?? DEFAULT_MAX_N,
  };
}

/** Options that turn the size limits off (analyse every matrix-shaped weight). */
export const NO_LAYER_LIMITS: Required<LayerOptions> = { minEvals: 1, maxEvals: Infinity, maxN: Infinity };

/**
 * A weight matrix or conv kernel whose values decode: what quantization and pruning work on
 * (WeightWatcher's size limits do not apply to them).
 */
export function isWeightMatrix(l: Layer): boolean {
  return l.kind !== 'other' && l.M > 0 && l.tensor.decodable;
}
