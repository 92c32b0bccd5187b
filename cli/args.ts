/**
 * Command-line parsing. Small and strict: an unknown command or flag is a usage error (exit 2)
 * rather than something silently ignored, so scripts fail loudly when they misspell a flag.
 */

export const USAGE = `Usage: weightlens <command> [options]

Commands:
  info <file|folder|url>   list tensors, layers and a summary of a checkpoint
                           (safetensors, sharded safetensors, ONNX, GGUF, .npy/.npz, PyTorch zip)
  analyze <src>            WeightWatcher's per-layer metrics (alpha, D, log_norm, stable_rank, ...)
  esd <src> --layer NAME   one layer's eigenvalues
  quantize <src> --method rtn|vq|rvq|pvq
                           quantize the weight matrices; per-layer and whole-model error and
                           bits per weight; optionally write the packed or dequantized model
  prune <src> --method magnitude|nm|lift|dimap
                           prune the weight matrices; per-layer target and achieved sparsity,
                           α, N:M validity; optionally write the pruned model and the masks
  merge <a> <b> [more] --method linear|slerp|ta|ties|dare|tsv
                           merge models tensor by tensor; pairing summary, per-tensor stats;
                           optionally write the merged model
  match <a> <b>            weight matching (Git Re-Basin): permute b's hidden units onto a;
                           objective per iteration, L2 distance before/after; optionally write it
  interpolate <a> <b> --onnx G --data D
                           loss and accuracy along (1-α)a + αb (and after matching), the barrier

Options for info:
  --json                   print one JSON object instead of tables
  --no-limits              analyse every matrix, ignoring WeightWatcher's min_evals/max_evals/max_N

Options for analyze:
  --json | --csv           all columns as JSON or CSV (default: a table of the main ones)
  --fit ww|xmin_peak|xmin_mid|clip_xmax
                           power-law fit: WeightWatcher's default (ww), fix_fingers xmin_peak or
                           clip_xmax, or FARMS/TempBalance's median xmin (default ww)
  --mp-fit                 Marchenko-Pastur columns: sigma_mp, num_spikes, mp_softrank, bulk_min/max
  --farms                  FARMS columns (farms_alpha, ...) beside the full-matrix ones
  --farms-only             FARMS columns only, without the full-matrix eigenvalues (fast)
  --farms-nr N, --farms-q-ratio Q, --farms-ops N, --farms-fit ww|xmin_peak|xmin_mid
                           FARMS window rows (100), columns/rows (2), windows per side (10), fit (xmin_mid)
  --layers REGEX           only layers whose name (or tensor name) matches
  --no-limits              also analyse matrices WeightWatcher skips (M·rf < 10, M·rf > 15000, N > 50000)
  --threads N              worker threads (default: the core count, at most 4)
  --kernel auto|wasm|ts    CPU kernels: WebAssembly SIMD when available (auto), or force one

Options for esd:
  --layer NAME             the layer (name as \`info\` prints it, or the tensor name)
  --json                   one JSON object (default: one eigenvalue per line)
  --farms                  also the pooled eigenvalues of the FARMS windows
  --fit, --farms-nr, --farms-q-ratio, --farms-ops, --farms-fit, --kernel   as for analyze

Options for quantize:
  --method rtn|vq|rvq|pvq  scalar round-to-nearest, k-means vector quantization, two-stage
                           residual VQ, or codebook-free pyramid VQ (required)
  --bits B                 rtn: bits per weight code, 2..8 (4)
  --group G|channel        rtn: weights per scale along a row, or one scale per output channel (128)
  --symmetric              rtn: absmax scales without zero-points (default asymmetric)
  --k K, --k2 K            vq/rvq: codewords per codebook, 2..65536 (256); rvq's second stage (256)
  --d D                    vq/rvq/pvq: sub-vector length, 1..8, must divide the row (4)
  --iters N                vq/rvq: Lloyd iterations at most (20)
  --seed S                 vq/rvq: k-means++ seed (0)
  --row-group R            vq/rvq: rows sharing one codebook, 0 = one per layer (0)
  --sample N               vq/rvq: fit codebooks on N sub-vectors drawn at random, 0 = all (0)
  --codebook-bits 16|32    vq/rvq: stored codebook precision (16: F16, and the metrics use it)
  --pulses K               pvq: pulses (L1 norm of the integer direction), 1..64 (4)
  --gain-bits B            pvq: bits of each sub-vector's gain code, 1..16 (8)
  --layers REGEX           only layers whose name (or tensor name) matches
  --out FILE               write the packed model (codebooks/codes + indices, metadata on how to decode)
  --dequantized FILE       write the dequantized model (quantized tensors as F32, the rest unchanged)
  --json                   print one JSON object instead of tables

Options for prune:
  --method magnitude|nm|lift|dimap
                           |W| (per layer or global), N:M groups of input weights, LIFT principal
                           weights of a rank-r approximation, DIMAP relative distortion ranked
                           within module types (required; wanda needs activations from an ONNX
                           graph run, which the Prune view does)
  --sparsity S             target fraction of weights removed, 0..1 (0.5); not for nm
  --allocation uniform|alpha|farms
                           magnitude (layer scope) and lift: split the target over layers evenly,
                           or by AlphaPruning from each layer's raw or FARMS α (uniform)
  --epsilon E              alpha/farms: α mapped linearly into [1-E, 1+E], 0 <= E < 1 (0.3)
  --scope layer|global     magnitude: per-layer ranking, or one threshold over all layers (layer)
  --exclude REGEX          layers (by name) left dense and out of the allocation
  --nm N:M                 nm: keep N of every M consecutive input weights of a row (2:4)
  --rank R                 lift: rank of the approximation (8)
  --seed S                 lift: seed of the randomized SVD (0)
  --module-type NAME=REGEX dimap: a module type (repeatable; first match wins, unmatched layers
                           form their own type)
  --layers REGEX           only layers whose name (or tensor name) matches
  --out FILE               write the pruned model (safetensors; zeros where removed, dtypes kept)
  --masks FILE             write the masks (safetensors, one U8 "<tensor>.mask" per layer, 1 = kept)
  --packed-masks           with --masks: 8 weights a byte (numpy unpackbits, bitorder little)
  --json                   print one JSON object instead of tables

Options for merge <a> <b> [more...]:
  --method linear|slerp|ta|ties|dare|tsv
                           linear or spherical interpolation of two models; task arithmetic,
                           TIES, DARE or TSV-merge of fine-tunes on --base (required)
  --alpha A                linear/slerp: position on the path, 0..1 (0.5)
  --base B                 ta/ties/dare/tsv: the base model the fine-tunes share (required)
  --lambda L               ta/ties/dare/tsv: scale of the merged task vector (1)
  --trim K                 ties: fraction of each task vector kept by magnitude, 0..1 (0.2)
  --drop P                 dare: drop probability, 0 <= P < 1 (0.5)
  --seed S                 dare: drop draws; tsv: randomized SVD (0)
  --block-lambda REGEX=L   ta/ties/dare/tsv: λ for tensors whose name matches (repeatable;
                           first match wins, others keep --lambda)
  --out FILE               write the merged model (safetensors; F32, or F16/BF16 when every
                           model stores every merged tensor in that type)
  --json                   print one JSON object instead of tables

Options for match <a> <b>:
  --spec FILE.json         permutation spec { "groups": [{ name, size, axes: [{ tensor, axis }] }] }
                           (default: inferred for Linear/Conv chains such as fc1, fc2, ...)
  --seed S                 order in which groups are visited (0)
  --out FILE               write b permuted onto a (safetensors, dtypes kept, perms in metadata)
  --json                   print one JSON object instead of tables

Options for interpolate <a> <b>:
  --onnx G                 the model's ONNX graph (its weights are replaced by a's and b's) (required)
  --data D                 evaluation set: safetensors or npz with "inputs" and "labels" (required)
  --points N               points on the path from a (α = 0) to b (α = 1), 2..10001 (25)
  --match                  also the path to b after weight matching onto a
  --spec FILE.json, --seed S   for --match, as for match
  --json                   print one JSON object instead of tables

General:
  -h, --help               show this help
  -V, --version            show the version

Set WEIGHTLENS_DEBUG=1 to print stack traces on errors.`;

export class UsageError extends Error {}

export type FitName = 'auto' | 'xmin_peak' | 'xmin_mid' | 'clip_xmax';
export type KernelName = 'auto' | 'wasm' | 'ts';

export interface FarmsArgs {
  nr?: number;
  qRatio?: number;
  opsPerDim?: number;
  fit?: Exclude<FitName, 'clip_xmax'>;
}

export interface AnalyzeCommand {
  command: 'analyze';
  target: string;
  format: 'text' | 'json' | 'csv';
  fit: FitName;
  mpFit: boolean;
  farms: boolean;
  farmsOnly: boolean;
  farmsOptions: FarmsArgs;
  layers?: string;
  noLimits: boolean;
  threads?: number;
  kernel: KernelName;
}

export interface EsdCommand {
  command: 'esd';
  target: string;
  layer: string;
  json: boolean;
  fit: FitName;
  farms: boolean;
  farmsOptions: FarmsArgs;
  kernel: KernelName;
}

/** `quantize` settings as given on the command line; unset ones take DEFAULT_QUANT_SETTINGS. */
export interface QuantizeArgs {
  method: 'rtn' | 'vq' | 'rvq' | 'pvq';
  bits?: number;
  group?: number | 'channel';
  symmetric?: boolean;
  k?: number;
  k2?: number;
  d?: number;
  iters?: number;
  seed?: number;
  rowGroup?: number;
  sample?: number;
  codebookBits?: 16 | 32;
  pulses?: number;
  gainBits?: number;
}

export interface QuantizeCommand {
  command: 'quantize';
  target: string;
  quant: QuantizeArgs;
  layers?: string;
  out?: string;
  dequantized?: string;
  json: boolean;
}

/** `prune` settings as given on the command line; unset ones take DEFAULT_PRUNE_SETTINGS. */
export interface PruneArgs {
  method: 'magnitude' | 'nm' | 'lift' | 'dimap';
  sparsity?: number;
  allocation?: 'uniform' | 'alpha' | 'farms';
  epsilon?: number;
  scope?: 'layer' | 'global';
  exclude?: string;
  n?: number;
  m?: number;
  liftRank?: number;
  seed?: number;
  moduleTypes?: { name: string; pattern: string }[];
}

export interface PruneCommand {
  command: 'prune';
  target: string;
  prune: PruneArgs;
  layers?: string;
  out?: string;
  masks?: string;
  packedMasks: boolean;
  json: boolean;
}

export type MergeMethodName = 'linear' | 'slerp' | 'ta' | 'ties' | 'dare' | 'tsv';

export interface MergeCommand {
  command: 'merge';
  models: string[];
  method: MergeMethodName;
  /** linear/slerp (default 0.5). */
  alpha?: number;
  base?: string;
  lambda?: number;
  /** ties: fraction kept. */
  trim?: number;
  /** dare: drop probability. */
  drop?: number;
  seed?: number;
  blockLambdas: { pattern: string; lambda: number }[];
  out?: string;
  json: boolean;
}

export interface MatchCommand {
  command: 'match';
  a: string;
  b: string;
  spec?: string;
  seed?: number;
  out?: string;
  json: boolean;
}

export interface InterpolateCommand {
  command: 'interpolate';
  a: string;
  b: string;
  onnx: string;
  data: string;
  points: number;
  match: boolean;
  spec?: string;
  seed?: number;
  json: boolean;
}

export type Command =
  | { command: 'help' }
  | { command: 'version' }
  | { command: 'info'; target: string; json: boolean; noLimits: boolean }
  | AnalyzeCommand
  | EsdCommand
  | QuantizeCommand
  | PruneCommand
  | MergeCommand
  | MatchCommand
  | InterpolateCommand;

export function parseArgs(argv: readonly string[]): Command {
  if (argv.length === 0) throw new UsageError('missing command');
  if (argv.includes('-h') || argv.includes('--help')) return { command: 'help' };
  if (argv.includes('-V') || argv.includes('--version')) return { command: 'version' };
  const [cmd, ...rest] = argv;
  if (cmd === 'help') return { command: 'help' };
  if (cmd === 'analyze' || cmd === 'esd') return parseSpectraArgs(cmd, rest);
  if (cmd === 'quantize') return parseQuantizeArgs(rest);
  if (cmd === 'prune') return parsePruneArgs(rest);
  if (cmd === 'merge') return parseMergeArgs(rest);
  if (cmd === 'match') return parseMatchArgs(rest);
  if (cmd === 'interpolate') return parseInterpolateArgs(rest);
  if (cmd !== 'info') throw new UsageError(`unknown command "${cmd}"`);
  const { bools, positional } = scanFlags('info', rest, new Set(), new Set(['--json', '--no-limits']));
  oneTarget('info', positional);
  return { command: 'info', target: positional[0]!, json: bools.has('--json'), noLimits: bools.has('--no-limits') };
}

/** `--fit ww` is WeightWatcher's default fit, `auto` in lib/analysis/spectra. */
function parseFit(flag: string, v: string, allowClip: boolean): FitName {
  if (v === 'ww' || v === 'auto') return 'auto';
  if (v === 'xmin_peak' || v === 'xmin_mid' || (allowClip && v === 'clip_xmax')) return v;
  throw new UsageError(`${flag} must be one of ww, xmin_peak, xmin_mid${allowClip ? ', clip_xmax' : ''}; got "${v}"`);
}

function parseNumber(flag: string, v: string, opts: { integer: boolean; min: number; max: number }): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < opts.min || n > opts.max) {
    throw new UsageError(`${flag} must be ${opts.integer ? 'an integer' : 'a number'} in [${opts.min}, ${opts.max}]; got "${v}"`);
  }
  return n;
}

/** Flags that take a value, for `analyze` and `esd`; both `--flag value` and `--flag=value` work. */
const VALUE_FLAGS: Record<'analyze' | 'esd', Set<string>> = {
  analyze: new Set(['--fit', '--layers', '--threads', '--farms-nr', '--farms-q-ratio', '--farms-ops', '--farms-fit', '--kernel']),
  esd: new Set(['--fit', '--layer', '--farms-nr', '--farms-q-ratio', '--farms-ops', '--farms-fit', '--kernel']),
};
const BOOL_FLAGS: Record<'analyze' | 'esd', Set<string>> = {
  analyze: new Set(['--json', '--csv', '--mp-fit', '--farms', '--farms-only', '--no-limits']),
  esd: new Set(['--json', '--farms']),
};

function parseSpectraArgs(cmd: 'analyze' | 'esd', rest: readonly string[]): AnalyzeCommand | EsdCommand {
  const { values, bools, positional } = scanFlags(cmd, rest, VALUE_FLAGS[cmd], BOOL_FLAGS[cmd]);
  oneTarget(cmd, positional);
  const fitArg = values.get('--fit');
  const fit = fitArg === undefined ? 'auto' : parseFit('--fit', fitArg, true);
  const farmsOptions: FarmsArgs = {};
  const nr = values.get('--farms-nr');
  if (nr !== undefined) farmsOptions.nr = parseNumber('--farms-nr', nr, { integer: true, min: 1, max: 16_384 });
  const q = values.get('--farms-q-ratio');
  if (q !== undefined) farmsOptions.qRatio = parseNumber('--farms-q-ratio', q, { integer: false, min: 1e-3, max: 1e3 });
  const ops = values.get('--farms-ops');
  if (ops !== undefined) farmsOptions.opsPerDim = parseNumber('--farms-ops', ops, { integer: true, min: 1, max: 1000 });
  const ffit = values.get('--farms-fit');
  if (ffit !== undefined) farmsOptions.fit = parseFit('--farms-fit', ffit, false) as FarmsArgs['fit'];
  const kernelArg = values.get('--kernel') ?? 'auto';
  if (kernelArg !== 'auto' && kernelArg !== 'wasm' && kernelArg !== 'ts') throw new UsageError(`--kernel must be auto, wasm or ts; got "${kernelArg}"`);
  const kernel: KernelName = kernelArg;
  const target = positional[0]!;

  if (cmd === 'esd') {
    const layer = values.get('--layer');
    if (layer === undefined || layer === '') throw new UsageError('esd needs --layer NAME (`weightlens info` lists the layers)');
    return { command: 'esd', target, layer, json: bools.has('--json'), fit, farms: bools.has('--farms'), farmsOptions, kernel };
  }

  if (bools.has('--json') && bools.has('--csv')) throw new UsageError('--json and --csv cannot be used together');
  const layers = values.get('--layers');
  if (layers !== undefined) {
    try {
      new RegExp(layers);
    } catch (e) {
      throw new UsageError(`--layers: invalid regular expression "${layers}": ${(e as Error).message}`);
    }
  }
  const threadsArg = values.get('--threads');
  return {
    command: 'analyze',
    target,
    format: bools.has('--json') ? 'json' : bools.has('--csv') ? 'csv' : 'text',
    fit,
    mpFit: bools.has('--mp-fit'),
    farms: bools.has('--farms'),
    farmsOnly: bools.has('--farms-only'),
    farmsOptions,
    noLimits: bools.has('--no-limits'),
    kernel,
    ...(layers !== undefined ? { layers } : {}),
    ...(threadsArg !== undefined ? { threads: parseNumber('--threads', threadsArg, { integer: true, min: 1, max: 64 }) } : {}),
  };
}

/** quantize's value flags, and the methods each applies to (a flag for another method is an error, not ignored). */
const QUANT_VALUE_FLAGS: Record<string, readonly QuantizeArgs['method'][] | null> = {
  '--method': null, '--layers': null, '--out': null, '--dequantized': null,
  '--bits': ['rtn'], '--group': ['rtn'],
  '--k': ['vq', 'rvq'], '--k2': ['rvq'], '--iters': ['vq', 'rvq'], '--seed': ['vq', 'rvq'], '--row-group': ['vq', 'rvq'],
  '--sample': ['vq', 'rvq'], '--codebook-bits': ['vq', 'rvq'],
  '--d': ['vq', 'rvq', 'pvq'], '--pulses': ['pvq'], '--gain-bits': ['pvq'],
};
const QUANT_BOOL_FLAGS: Record<string, readonly QuantizeArgs['method'][] | null> = { '--json': null, '--symmetric': ['rtn'] };
const QUANT_METHOD_NAMES = ['rtn', 'vq', 'rvq', 'pvq'] as const;

function parseQuantizeArgs(rest: readonly string[]): QuantizeCommand {
  const { values, bools, positional } = scanFlags('quantize', rest, new Set(Object.keys(QUANT_VALUE_FLAGS)), new Set(Object.keys(QUANT_BOOL_FLAGS)));
  oneTarget('quantize', positional);
  const methodArg = values.get('--method');
  if (methodArg === undefined) throw new UsageError('quantize needs --method rtn|vq|rvq|pvq');
  const method = QUANT_METHOD_NAMES.find((m) => m === methodArg);
  if (!method) throw new UsageError(`--method must be one of rtn, vq, rvq, pvq; got "${methodArg}"`);
  for (const flag of [...values.keys(), ...bools]) {
    const only = QUANT_VALUE_FLAGS[flag] ?? QUANT_BOOL_FLAGS[flag];
    if (only && !only.includes(method)) throw new UsageError(`${flag} does not apply to --method ${method} (it is for ${only.join(', ')})`);
  }
  const int = (flag: string, min: number, max: number): number | undefined => {
    const v = values.get(flag);
    return v === undefined ? undefined : parseNumber(flag, v, { integer: true, min, max });
  };
  const quant: QuantizeArgs = { method };
  const set = <K extends keyof QuantizeArgs>(key: K, v: QuantizeArgs[K] | undefined) => {
    if (v !== undefined) quant[key] = v;
  };
  set('bits', int('--bits', 2, 8));
  const group = values.get('--group');
  if (group !== undefined) quant.group = group === 'channel' ? 'channel' : parseNumber('--group', group, { integer: true, min: 1, max: 2 ** 31 });
  if (bools.has('--symmetric')) quant.symmetric = true;
  set('k', int('--k', 2, 65536));
  set('k2', int('--k2', 2, 65536));
  set('d', int('--d', 1, 8));
  set('iters', int('--iters', 0, 100_000));
  set('seed', int('--seed', 0, 2 ** 31 - 1));
  set('rowGroup', int('--row-group', 0, 2 ** 31));
  set('sample', int('--sample', 0, 2 ** 31));
  const cbBits = int('--codebook-bits', 16, 32);
  if (cbBits !== undefined && cbBits !== 16 && cbBits !== 32) throw new UsageError(`--codebook-bits must be 16 or 32; got "${cbBits}"`);
  set('codebookBits', cbBits as 16 | 32 | undefined);
  set('pulses', int('--pulses', 1, 64));
  set('gainBits', int('--gain-bits', 1, 16));
  const layers = values.get('--layers');
  if (layers !== undefined) {
    try {
      new RegExp(layers);
    } catch (e) {
      throw new UsageError(`--layers: invalid regular expression "${layers}": ${(e as Error).message}`);
    }
  }
  const out = values.get('--out');
  const dequantized = values.get('--dequantized');
  for (const [flag, v] of [['--out', out], ['--dequantized', dequantized]] as const) {
    if (v === '') throw new UsageError(`${flag} needs a file name`);
  }
  if (out !== undefined && out === dequantized) throw new UsageError('--out and --dequantized name the same file');
  return {
    command: 'quantize',
    target: positional[0]!,
    quant,
    json: bools.has('--json'),
    ...(layers !== undefined ? { layers } : {}),
    ...(out !== undefined ? { out } : {}),
    ...(dequantized !== undefined ? { dequantized } : {}),
  };
}

/** prune's value flags, and the methods each applies to (a flag for another method is an error, not ignored). */
const PRUNE_VALUE_FLAGS: Record<string, readonly PruneArgs['method'][] | null> = {
  '--method': null, '--layers': null, '--out': null, '--masks': null, '--exclude': null,
  '--sparsity': ['magnitude', 'lift', 'dimap'], '--allocation': ['magnitude', 'lift'], '--epsilon': ['magnitude', 'lift'],
  '--scope': ['magnitude'], '--nm': ['nm'], '--rank': ['lift'], '--seed': ['lift'], '--module-type': ['dimap'],
};
const PRUNE_BOOL_FLAGS: Record<string, readonly PruneArgs['method'][] | null> = { '--json': null, '--packed-masks': null };
const PRUNE_METHOD_NAMES = ['magnitude', 'nm', 'lift', 'dimap'] as const;
/** Flags that may be given more than once. */
const PRUNE_REPEATABLE = new Set(['--module-type']);

function checkRegex(flag: string, v: string): void {
  try {
    new RegExp(v);
  } catch (e) {
    throw new UsageError(`${flag}: invalid regular expression "${v}": ${(e as Error).message}`);
  }
}

function parsePruneArgs(rest: readonly string[]): PruneCommand {
  const { values, repeated, bools, positional } = scanFlags('prune', rest, new Set(Object.keys(PRUNE_VALUE_FLAGS)), new Set(Object.keys(PRUNE_BOOL_FLAGS)), PRUNE_REPEATABLE);
  oneTarget('prune', positional);
  const moduleTypes: { name: string; pattern: string }[] = [];
  for (const v of repeated.get('--module-type') ?? []) {
    const at = v.indexOf('=');
    const name = at > 0 ? v.slice(0, at) : '';
    const pattern = at > 0 ? v.slice(at + 1) : '';
    if (name === '' || pattern === '') throw new UsageError(`--module-type must be NAME=REGEX (e.g. attn=q_proj|k_proj); got "${v}"`);
    checkRegex('--module-type', pattern);
    if (moduleTypes.some((t) => t.name === name)) throw new UsageError(`--module-type "${name}" is given twice`);
    moduleTypes.push({ name, pattern });
  }
  const methodArg = values.get('--method');
  if (methodArg === undefined) throw new UsageError('prune needs --method magnitude|nm|lift|dimap');
  if (methodArg === 'wanda') {
    throw new UsageError('--method wanda scores |W|·‖X‖ and needs activation norms from running an ONNX graph on calibration data, which the command line does not collect; use the Prune view, or magnitude, nm, lift or dimap');
  }
  const method = PRUNE_METHOD_NAMES.find((m) => m === methodArg);
  if (!method) throw new UsageError(`--method must be one of magnitude, nm, lift, dimap; got "${methodArg}"`);
  for (const flag of [...values.keys(), ...repeated.keys(), ...bools]) {
    const only = PRUNE_VALUE_FLAGS[flag] ?? PRUNE_BOOL_FLAGS[flag];
    if (only && !only.includes(method)) throw new UsageError(`${flag} does not apply to --method ${method} (it is for ${only.join(', ')})`);
  }
  const prune: PruneArgs = { method };
  const sparsity = values.get('--sparsity');
  if (sparsity !== undefined) prune.sparsity = parseNumber('--sparsity', sparsity, { integer: false, min: 0, max: 1 });
  const allocation = values.get('--allocation');
  if (allocation !== undefined) {
    if (allocation !== 'uniform' && allocation !== 'alpha' && allocation !== 'farms') throw new UsageError(`--allocation must be uniform, alpha or farms; got "${allocation}"`);
    prune.allocation = allocation;
  }
  const scope = values.get('--scope');
  if (scope !== undefined) {
    if (scope !== 'layer' && scope !== 'global') throw new UsageError(`--scope must be layer or global; got "${scope}"`);
    prune.scope = scope;
  }
  if (prune.scope === 'global' && allocation !== undefined && allocation !== 'uniform') {
    throw new UsageError(`--allocation ${allocation} does not apply to --scope global (one threshold over all layers is its own allocation)`);
  }
  const epsilon = values.get('--epsilon');
  if (epsilon !== undefined) {
    if (allocation !== 'alpha' && allocation !== 'farms') throw new UsageError('--epsilon applies only with --allocation alpha or farms');
    prune.epsilon = parseNumber('--epsilon', epsilon, { integer: false, min: 0, max: 0.999999 });
  }
  const nm = values.get('--nm');
  if (nm !== undefined) {
    const match = /^(\d+):(\d+)$/.exec(nm);
    const n = match ? Number(match[1]) : NaN;
    const m = match ? Number(match[2]) : NaN;
    if (!(n >= 1 && m >= 2 && n < m && m <= 1024)) throw new UsageError(`--nm must be N:M with 1 <= N < M <= 1024 (e.g. 2:4); got "${nm}"`);
    prune.n = n;
    prune.m = m;
  }
  const rank = values.get('--rank');
  if (rank !== undefined) prune.liftRank = parseNumber('--rank', rank, { integer: true, min: 1, max: 65536 });
  const seed = values.get('--seed');
  if (seed !== undefined) prune.seed = parseNumber('--seed', seed, { integer: true, min: 0, max: 2 ** 31 - 1 });
  if (moduleTypes.length) prune.moduleTypes = moduleTypes;
  const exclude = values.get('--exclude');
  if (exclude !== undefined) {
    checkRegex('--exclude', exclude);
    prune.exclude = exclude;
  }
  const layers = values.get('--layers');
  if (layers !== undefined) checkRegex('--layers', layers);
  const out = values.get('--out');
  const masks = values.get('--masks');
  for (const [flag, v] of [['--out', out], ['--masks', masks]] as const) {
    if (v === '') throw new UsageError(`${flag} needs a file name`);
  }
  if (out !== undefined && out === masks) throw new UsageError('--out and --masks name the same file');
  if (bools.has('--packed-masks') && masks === undefined) throw new UsageError('--packed-masks needs --masks FILE');
  return {
    command: 'prune',
    target: positional[0]!,
    prune,
    json: bools.has('--json'),
    packedMasks: bools.has('--packed-masks'),
    ...(layers !== undefined ? { layers } : {}),
    ...(out !== undefined ? { out } : {}),
    ...(masks !== undefined ? { masks } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// merge, match, interpolate

interface ScannedFlags {
  values: Map<string, string>;
  /** Every value of a repeatable flag, in order. */
  repeated: Map<string, string[]>;
  bools: Set<string>;
  positional: string[];
}

/** `--flag value`, `--flag=value`, booleans, `--` ends the flags; anything unknown is a usage error. */
function scanFlags(cmd: string, rest: readonly string[], valueFlags: ReadonlySet<string>, boolFlags: ReadonlySet<string>, repeatable: ReadonlySet<string> = new Set()): ScannedFlags {
  const out: ScannedFlags = { values: new Map(), repeated: new Map(), bools: new Set(), positional: [] };
  let flagsDone = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (flagsDone || a === '-' || !a.startsWith('-')) {
      out.positional.push(a);
      continue;
    }
    if (a === '--') {
      flagsDone = true;
      continue;
    }
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (valueFlags.has(flag)) {
      const v = eq > 0 ? a.slice(eq + 1) : rest[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      if (repeatable.has(flag)) out.repeated.set(flag, [...(out.repeated.get(flag) ?? []), v]);
      else if (out.values.has(flag)) throw new UsageError(`${flag} is given twice`);
      else out.values.set(flag, v);
    } else if (boolFlags.has(flag) && eq < 0) {
      out.bools.add(flag);
    } else {
      throw new UsageError(`unknown option "${a}" for ${cmd}`);
    }
  }
  return out;
}

/** Exactly one file, folder or URL. */
function oneTarget(cmd: string, positional: readonly string[]): void {
  if (positional.length === 0) throw new UsageError(`${cmd} needs a file, folder or URL`);
  if (positional.length > 1) throw new UsageError(`${cmd} takes one file, got ${positional.length}: ${positional.join(' ')}`);
}

function fileFlag(values: Map<string, string>, flag: string): string | undefined {
  const v = values.get(flag);
  if (v === '') throw new UsageError(`${flag} needs a file name`);
  return v;
}

const MERGE_METHOD_NAMES: readonly MergeMethodName[] = ['linear', 'slerp', 'ta', 'ties', 'dare', 'tsv'];
/** Flags that apply only to some methods (a flag for another method is an error, not ignored). */
const MERGE_ONLY: Record<string, readonly MergeMethodName[]> = {
  '--alpha': ['linear', 'slerp'],
  '--base': ['ta', 'ties', 'dare', 'tsv'],
  '--lambda': ['ta', 'ties', 'dare', 'tsv'],
  '--block-lambda': ['ta', 'ties', 'dare', 'tsv'],
  '--trim': ['ties'],
  '--drop': ['dare'],
  '--seed': ['dare', 'tsv'],
};

function parseMergeArgs(rest: readonly string[]): MergeCommand {
  const f = scanFlags(
    'merge', rest,
    new Set(['--method', '--alpha', '--base', '--lambda', '--trim', '--drop', '--seed', '--block-lambda', '--out']),
    new Set(['--json']),
    new Set(['--block-lambda']),
  );
  const methodArg = f.values.get('--method');
  if (methodArg === undefined) throw new UsageError('merge needs --method linear|slerp|ta|ties|dare|tsv');
  const method = MERGE_METHOD_NAMES.find((m) => m === methodArg);
  if (!method) throw new UsageError(`--method must be one of ${MERGE_METHOD_NAMES.join(', ')}; got "${methodArg}"`);
  for (const flag of [...f.values.keys(), ...f.repeated.keys()]) {
    const only = MERGE_ONLY[flag];
    if (only && !only.includes(method)) throw new UsageError(`${flag} does not apply to --method ${method} (it is for ${only.join(', ')})`);
  }
  const interp = method === 'linear' || method === 'slerp';
  if (interp && f.positional.length !== 2) throw new UsageError(`merge --method ${method} interpolates exactly two models, got ${f.positional.length}`);
  if (!interp && f.positional.length < 1) throw new UsageError(`merge --method ${method} needs at least one fine-tuned model besides --base`);
  const base = fileFlag(f.values, '--base');
  if (!interp && base === undefined) throw new UsageError(`merge --method ${method} needs --base B (the model the fine-tunes started from)`);
  const num = (flag: string, opts: { integer: boolean; min: number; max: number }): number | undefined => {
    const v = f.values.get(flag);
    return v === undefined ? undefined : parseNumber(flag, v, opts);
  };
  const blockLambdas = (f.repeated.get('--block-lambda') ?? []).map((v) => {
    // The last '=' splits, so a pattern may itself contain '='.
    const at = v.lastIndexOf('=');
    const pattern = at > 0 ? v.slice(0, at) : '';
    if (pattern === '') throw new UsageError(`--block-lambda must be REGEX=LAMBDA (e.g. 'fc1\\.=0.5'); got "${v}"`);
    checkRegex('--block-lambda', pattern);
    return { pattern, lambda: parseNumber('--block-lambda', v.slice(at + 1), { integer: false, min: -1e6, max: 1e6 }) };
  });
  const out = fileFlag(f.values, '--out');
  const cmd: MergeCommand = { command: 'merge', models: f.positional, method, blockLambdas, json: f.bools.has('--json') };
  const set = <K extends 'alpha' | 'lambda' | 'trim' | 'drop' | 'seed'>(key: K, v: number | undefined) => {
    if (v !== undefined) cmd[key] = v;
  };
  set('alpha', num('--alpha', { integer: false, min: 0, max: 1 }));
  set('lambda', num('--lambda', { integer: false, min: -1e6, max: 1e6 }));
  set('trim', num('--trim', { integer: false, min: 0, max: 1 }));
  set('drop', num('--drop', { integer: false, min: 0, max: 0.999999 }));
  set('seed', num('--seed', { integer: true, min: 0, max: 2 ** 31 - 1 }));
  if (base !== undefined) cmd.base = base;
  if (out !== undefined) cmd.out = out;
  return cmd;
}

function parseMatchArgs(rest: readonly string[]): MatchCommand {
  const f = scanFlags('match', rest, new Set(['--spec', '--seed', '--out']), new Set(['--json']));
  if (f.positional.length !== 2) throw new UsageError(`match takes two models <a> <b>, got ${f.positional.length}`);
  const seed = f.values.get('--seed');
  const spec = fileFlag(f.values, '--spec');
  const out = fileFlag(f.values, '--out');
  return {
    command: 'match',
    a: f.positional[0]!,
    b: f.positional[1]!,
    json: f.bools.has('--json'),
    ...(spec !== undefined ? { spec } : {}),
    ...(seed !== undefined ? { seed: parseNumber('--seed', seed, { integer: true, min: 0, max: 2 ** 31 - 1 }) } : {}),
    ...(out !== undefined ? { out } : {}),
  };
}

function parseInterpolateArgs(rest: readonly string[]): InterpolateCommand {
  const f = scanFlags('interpolate', rest, new Set(['--onnx', '--data', '--points', '--spec', '--seed']), new Set(['--json', '--match']));
  if (f.positional.length !== 2) throw new UsageError(`interpolate takes two models <a> <b>, got ${f.positional.length}`);
  const onnx = fileFlag(f.values, '--onnx');
  const data = fileFlag(f.values, '--data');
  if (onnx === undefined) throw new UsageError('interpolate needs --onnx G (the graph the weights run in)');
  if (data === undefined) throw new UsageError('interpolate needs --data D (safetensors or npz with "inputs" and "labels")');
  const match = f.bools.has('--match');
  for (const flag of ['--spec', '--seed']) if (f.values.has(flag) && !match) throw new UsageError(`${flag} applies only with --match`);
  const points = f.values.get('--points');
  const seed = f.values.get('--seed');
  const spec = fileFlag(f.values, '--spec');
  return {
    command: 'interpolate',
    a: f.positional[0]!,
    b: f.positional[1]!,
    onnx,
    data,
    points: points === undefined ? 25 : parseNumber('--points', points, { integer: true, min: 2, max: 10_001 }),
    match,
    json: f.bools.has('--json'),
    ...(spec !== undefined ? { spec } : {}),
    ...(seed !== undefined ? { seed: parseNumber('--seed', seed, { integer: true, min: 0, max: 2 ** 31 - 1 }) } : {}),
  };
}
