/**
 * The pruning vocabulary shared by the engine (lib/analysis/prune), the Prune view, the command
 * line and the export. Everything runs on a layer's QuantMatrix orientation (lib/analysis/quant/
 * quant-matrix.ts): rows = output channels, columns = input weights (PyTorch's W.flatten(1)), so
 * N:M groups are m consecutive input weights of one output row, as sparse tensor cores want them.
 */

export type PruneMethod = 'magnitude' | 'nm' | 'lift' | 'dimap' | 'wanda';
export const PRUNE_METHODS: readonly PruneMethod[] = ['magnitude', 'nm', 'lift', 'dimap', 'wanda'];

/** How the model-wide target is split over layers. */
export type PruneAllocation = 'uniform' | 'alpha' | 'farms';

/** A user-defined module type for DIMAP's ranking: layers whose name matches `pattern` (a regex) rank together. */
export interface ModuleType {
  name: string;
  pattern: string;
}

export interface PruneSettings {
  method: PruneMethod;
  /** Target fraction of weights removed, 0…1 (for 'nm' the pattern fixes it: 1 − n/m). */
  sparsity: number;
  allocation: PruneAllocation;
  /** AlphaPruning: α mapped linearly into [1 − ε, 1 + ε] (default 0.3). */
  epsilon: number;
  /** Magnitude: per layer, or one global threshold over every layer not excluded. */
  scope: 'layer' | 'global';
  /** Regex of layer names left dense (global scope and allocation). Empty = none. */
  exclude: string;
  /** N:M: keep n of every m consecutive input weights (2:4 by default). */
  n: number;
  m: number;
  /** LIFT: rank r of the approximation whose largest entries are kept. */
  liftRank: number;
  /** DIMAP: module types (first matching pattern wins; unmatched layers form their own type). */
  moduleTypes: ModuleType[];
  /** Seed for the randomized SVD (LIFT). */
  seed: number;
}

export const DEFAULT_PRUNE_SETTINGS: PruneSettings = {
  method: 'magnitude',
  sparsity: 0.5,
  allocation: 'uniform',
  epsilon: 0.3,
  scope: 'layer',
  exclude: '',
  n: 2,
  m: 4,
  liftRank: 8,
  moduleTypes: [],
  seed: 0,
};

/** A keep-mask as a bitset over the layer's QuantMatrix, row-major; bit i set = weight i kept. */
export interface Mask {
  rows: number;
  cols: number;
  /** ceil(rows·cols / 32) words; bit (i & 31) of word (i >> 5) is weight i. */
  bits: Uint32Array;
}

export interface MaskStats {
  weights: number;
  kept: number;
  /** Removed / weights. */
  sparsity: number;
  /** Removed fraction per output row and per input column. */
  rowSparsity: Float32Array;
  colSparsity: Float32Array;
}
