import type { ErrorInfo } from '../../lib/base/errors';
import type { FarmsOptions, FarmsResult } from '../../lib/analysis/spectra/farms';
import type { LayerSpectrumBase, LayerSpectrumError, LayerSpectrumOk, SpectraOptions } from '../../lib/analysis/spectra/analyze-layer';
import type { CpuKernel } from '../../lib/math/wasm/spectra-kernels';
import type { LayerOptions } from '../../lib/model/layer';

/**
 * What the CLI's worker threads and the main thread say to each other. Everything here is
 * structured-clone safe (no functions, no AbortSignal); eigenvalue arrays travel only when asked
 * for, so a reply is a few hundred bytes per layer.
 */

/** The job every worker is started with: which model, which catalog, what to compute. */
export interface AnalyzeSpec {
  /** File, folder or URL, opened by each worker itself. */
  target: string;
  /** Layer-catalog limits; must equal the main thread's, so layer ids agree. */
  limits: LayerOptions;
  /** Spectra options for analyzeLayer (signal excluded: cancellation ends the process). */
  spectra: Omit<SpectraOptions, 'signal'>;
  /** FARMS columns only: skip the full-matrix ESD (for a quick look, and to time FARMS alone). */
  farmsOnly: boolean;
  /** Keep the eigenvalue arrays (raw and FARMS pooled) in the reply. */
  includeEvals: boolean;
  /** CPU kernels (WASM SIMD or TypeScript), set process-wide in each thread. */
  kernel: CpuKernel;
}

export type SlimFarms = Omit<FarmsResult, 'evals'> & { evals?: Float64Array };

/** analyzeLayer's result, eigenvalues optional. */
export type SlimSpectrumOk = Omit<LayerSpectrumOk, 'evals' | 'farms'> & { mode: 'full'; evals?: Float64Array; farms: SlimFarms | null };

/** FARMS-only result: the layer geometry and the FARMS fit. */
export interface FarmsOnlyOk extends LayerSpectrumBase {
  ok: true;
  mode: 'farms';
  farms: SlimFarms | null;
}

export type LayerOutcome = SlimSpectrumOk | FarmsOnlyOk | LayerSpectrumError;

export type ToWorker = { type: 'init'; spec: AnalyzeSpec } | { type: 'run'; layerId: number } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; layers: number }
  | { type: 'fatal'; error: ErrorInfo }
  | { type: 'result'; layerId: number; outcome: LayerOutcome };

export type { FarmsOptions };
