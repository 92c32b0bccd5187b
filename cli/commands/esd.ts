import { analyzeLayer } from '../../lib/analysis/spectra/analyze-layer';
import type { FarmsOptions } from '../../lib/analysis/spectra/farms';
import type { FitMethod } from '../../lib/analysis/spectra/metrics';
import { setDefaultCpuKernel, useWasmKernel, type CpuKernel } from '../../lib/math/wasm/spectra-kernels';
import { fromErrorInfo, NotFoundError } from '../../lib/base/errors';
import type { Layer } from '../../lib/model/layer';
import { NO_LAYER_LIMITS } from '../../lib/model/layer';
import { openAnalysis } from '../node-pool/open-analysis';

/**
 * `weightlens esd`: one layer's eigenvalues themselves (the pooled ESD WeightWatcher fits), and
 * with --farms the pooled eigenvalues of the FARMS windows, for plotting or checking elsewhere.
 * A layer named explicitly is analysed even when WeightWatcher's limits would skip it.
 */

export interface EsdCommandOptions {
  layer: string;
  farms: boolean;
  farmsOptions: FarmsOptions;
  fit: FitMethod;
  json: boolean;
  kernel: CpuKernel;
}

export interface EsdResult {
  file: string;
  layer: { id: number; name: string; tensor: string; kind: Layer['kind']; N: number; M: number; rf: number; Q: number; num_evals: number };
  /** The fit as the CLI spells it (ww = WeightWatcher's default). */
  fit: string;
  /** The CPU kernels that ran: 'wasm' (WebAssembly SIMD) or 'ts' (the TypeScript reference). */
  kernel: 'wasm' | 'ts';
  alpha: number | null;
  D: number | null;
  xmin: number | null;
  lambda_max: number;
  num_evals: number;
  /** Ascending, conv layers already multiplied by 0.5 (WeightWatcher's conv2d_norm). */
  evals: number[];
  farms?: { alpha: number | null; D: number | null; xmin: number | null; nr: number; nc: number; windows: number; num_evals: number; evals: number[] } | null;
}

export function findLayer(layers: readonly Layer[], name: string, file: string): Layer {
  const hit = layers.find((l) => l.name === name) ?? layers.find((l) => l.tensor.name === name);
  if (hit) return hit;
  const near = layers.filter((l) => l.name.includes(name) || l.tensor.name.includes(name)).slice(0, 5).map((l) => l.name);
  const hint = near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : '; `weightlens info` lists the layers';
  throw new NotFoundError('no-layer', `${file}: no layer named "${name}" (${layers.length} layers)${hint}`);
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

export async function collectEsd(target: string, opts: EsdCommandOptions): Promise<EsdResult> {
  const kernel = useWasmKernel({ kernel: opts.kernel }) ? 'wasm' : 'ts';
  setDefaultCpuKernel(opts.kernel);
  const opened = await openAnalysis(target, NO_LAYER_LIMITS);
  try {
    const layer = findLayer(opened.layers, opts.layer, target);
    if (!layer.analyzable) throw new NotFoundError('not-a-matrix', `${target}: layer "${layer.name}" has no spectrum (${layer.skipReason ?? layer.kind})`);
    const data = await opened.source.read(layer.tensor.name);
    const s = analyzeLayer(layer, data, { fit: opts.fit, mpFit: false, farms: opts.farms ? opts.farmsOptions : false });
    if (!s.ok) throw fromErrorInfo(s.error);
    const ok = s.status === 'ok';
    const f = s.farms;
    return {
      file: target,
      layer: { id: layer.id, name: layer.name, tensor: layer.tensor.name, kind: layer.kind, N: layer.N, M: layer.M, rf: layer.rf, Q: layer.Q, num_evals: layer.num_evals },
      fit: opts.fit === 'auto' ? 'ww' : opts.fit,
      kernel,
      alpha: ok ? finite(s.alpha) : null,
      D: ok ? finite(s.D) : null,
      xmin: ok ? finite(s.xmin) : null,
      lambda_max: s.lambda_max,
      num_evals: s.evals.length,
      evals: Array.from(s.evals),
      ...(opts.farms
        ? {
            farms: f
              ? { alpha: finite(f.alpha), D: finite(f.D), xmin: finite(f.xmin), nr: f.nr, nc: f.nc, windows: f.windows, num_evals: f.evals.length, evals: Array.from(f.evals) }
              : null,
          }
        : {}),
    };
  } finally {
    await opened.close();
  }
}

/** Plain text: `#` header lines, then one eigenvalue per line (for gnuplot, numpy.loadtxt, ...). */
export function formatEsdText(r: EsdResult): string {
  const l = r.layer;
  const lines = [
    `# ${r.file} ${l.name} (${l.kind}, N=${l.N} M=${l.M} rf=${l.rf}) num_evals=${r.num_evals} lambda_max=${r.lambda_max} alpha=${r.alpha ?? '-'} (${r.fit})`,
    ...r.evals.map(String),
  ];
  if (r.farms) {
    lines.push(`# farms: ${r.farms.windows} windows of ${r.farms.nr}×${r.farms.nc}, num_evals=${r.farms.num_evals} alpha=${r.farms.alpha ?? '-'}`, ...r.farms.evals.map(String));
  } else if (r.farms === null) {
    lines.push('# farms: no fit');
  }
  return `${lines.join('\n')}\n`;
}

export async function esd(target: string, opts: EsdCommandOptions): Promise<string> {
  const r = await collectEsd(target, opts);
  return opts.json ? `${JSON.stringify(r)}\n` : formatEsdText(r);
}
