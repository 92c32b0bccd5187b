/**
 * `npm run bench`: the Weight-spectra performance figures (issue 3, §5), printed, never asserted.
 *   npm run bench                    # everything, 3 runs of each analyze, 5 of info
 *   npm run bench -- --runs 1        # one run each (quick look)
 *   npm run bench -- --only breakdown,farms   # some sections: analyze, farms, info, breakdown, kmeans, merge
 *   npm run bench -- --only kmeans-webgpu --runs 1   # opt-in: k-means on WebGPU in Chromium (minutes on SwiftShader)
 *   npm run bench -- --only merge-curve              # opt-in: the Merge view's 25-point curve in Chromium (needs npm run build)
 * Generates a seeded GPT-2-small-shaped checkpoint into .bench/ once (scripts/make-gpt2-checkpoint.ts)
 * and a 2 GB sparse safetensors for `info` (scripts/make-big-safetensors.ts). Every timing runs
 * the real CLI in a child process; peak memory is that process's maxRSS (worker threads share it).
 * The machine is shared: the load average is printed beside the figures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitMarchenkoPastur } from '../lib/math/mp-fit';
import { eigvalsh } from '../lib/math/eigvalsh';
import { gram } from '../lib/math/gram';
import { tridiagonalize } from '../lib/math/tridiagonalize';
import { kmeansPlusPlus, lloyd } from '../lib/math/kmeans';
import { Rng } from '../lib/base/rng';
import { recordKmeansSearches } from '../lib/math/wasm/kmeans-kernels';
import { setDefaultCpuKernel, wasmKernelsAvailable, type CpuKernel } from '../lib/math/wasm/spectra-kernels';
import { farmsAnalyze } from '../lib/analysis/spectra/farms';
import { wwMetrics } from '../lib/analysis/spectra/metrics';
import { openModel, pickPrimary } from '../lib/formats/registry';
import { openNodeModel } from '../lib/io/node/node-file-source';
import { buildLayers } from '../lib/model/build-layers';
import { layerMatrices } from '../lib/model/layer-matrices';
import type { Layer } from '../lib/model/layer';
import { gpt2Tensors, makeGpt2Checkpoint } from './make-gpt2-checkpoint';
import { linearAssignment } from '../lib/math/linear-assignment';
import { inferMlpSpec } from '../lib/analysis/merge/infer-mlp-spec';
import { weightMatching } from '../lib/analysis/merge/weight-matching';
import type { NamedTensor } from '../lib/analysis/merge/permutation-spec';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'cli/weightlens.mjs');
const BENCH_DIR = path.join(ROOT, '.bench');
const GPT2 = path.join(BENCH_DIR, 'gpt2-small.safetensors');
const BIG = path.join(BENCH_DIR, 'big-sparse.safetensors');

/** Issue 3's targets on the 2-core reference machine. */
const TARGETS = {
  analyzeS: 12, // WeightWatcher 0.7.5.5 on the same 49 layers
  farmsS: 3,
  analyzeMB: 600,
  infoS: 2,
  infoMB: 200,
};

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Math.max(1, Number(args[runsArg + 1]) || 1) : 3;
const INFO_RUNS = runsArg >= 0 ? Math.max(1, Number(args[runsArg + 1]) || 1) : 5;
const onlyArg = args.indexOf('--only');
const ONLY = onlyArg >= 0 ? new Set((args[onlyArg + 1] ?? '').split(',')) : null;
const want = (s: string) => !ONLY || ONLY.has(s);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// Reports the child's peak RSS and CPU time on exit. resourceUsage().maxRSS is the whole process, worker
// threads included (they share its address space), which is what a user's machine sees.
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); writeSync(2, '\\nBENCH_MAXRSS_KB=' + u.maxRSS + ' BENCH_CPU_US=' + (u.userCPUTime + u.systemCPUTime) + '\\n'); });",
)}`;

interface Timed {
  wallS: number;
  /** CPU seconds of the whole process, all threads: the work done, whatever else the cores are running. */
  cpuS: number;
  rssMB: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** `weightlens --version`: rebuilds the CLI bundle if a source changed, so no timed run pays for that. */
function warmCli(): void {
  const v = spawnSync(process.execPath, [CLI, '--version'], { cwd: ROOT, encoding: 'utf8' });
  if (v.status !== 0) throw new Error(`weightlens --version failed: ${v.stderr}`);
}

function runCli(cliArgs: string[]): Promise<Timed> {
  // Other people edit lib/ while the bench runs; the launcher would rebuild inside the timing.
  warmCli();
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', RSS_HOOK, CLI, ...cliArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => {
      const wallS = (performance.now() - t0) / 1000;
      const m = /BENCH_MAXRSS_KB=(\d+) BENCH_CPU_US=(\d+)/.exec(stderr);
      done({
        wallS,
        rssMB: m ? Number(m[1]) / 1024 : NaN,
        cpuS: m ? Number(m[2]) / 1e6 : NaN,
        code: code ?? -1,
        stdout,
        stderr: stderr.replace(/\n?BENCH_MAXRSS_KB=\d+ BENCH_CPU_US=\d+\n/, ''),
      });
    });
  });
}

interface Row {
  what: string;
  runs: Timed[];
  targetS?: number;
  targetMB?: number;
  note?: string;
  /** Threads the command computed on (CPU s / threads ≈ its wall time on otherwise idle cores). */
  threads?: number;
}

async function timeCli(what: string, cliArgs: string[], runs: number, targets: Pick<Row, 'targetS' | 'targetMB'>): Promise<Row> {
  const out: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runCli(cliArgs);
    if (r.code !== 0) throw new Error(`weightlens ${cliArgs.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    out.push(r);
    process.stderr.write(`  ${what}: run ${i + 1}/${runs} ${r.wallS.toFixed(2)} s (CPU ${r.cpuS.toFixed(1)} s), ${r.rssMB.toFixed(0)} MB (load ${os.loadavg()[0]!.toFixed(1)})\n`);
  }
  return { what, runs: out, ...targets };
}

function verdict(value: number, target: number | undefined): string {
  if (target === undefined || !Number.isFinite(value)) return '';
  return value <= target ? 'met' : `missed ×${(value / target).toFixed(1)}`;
}

function printTable(headers: string[], rows: string[][]): void {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  console.log(line(headers));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

function ensureFiles(): void {
  mkdirSync(BENCH_DIR, { recursive: true });
  const expected = gpt2Tensors().reduce((s, [, [a, b]]) => s + a * b * 4, 0);
  if (!existsSync(GPT2) || statSync(GPT2).size < expected) {
    process.stderr.write(`writing ${path.relative(ROOT, GPT2)} (~${(expected / 1e6).toFixed(0)} MB, once) ...\n`);
    makeGpt2Checkpoint(GPT2, 1);
  }
  if (want('info') && !existsSync(BIG)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/make-big-safetensors.ts'), BIG], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('make-big-safetensors failed');
  }
  warmCli();
}

/**
 * Per-stage CPU time of one layer of each GPT-2 shape, in this process (one thread), for each
 * CPU kernel: what analyze runs (the same lib calls as layerEsd / analyzeLayer). QL is timed as
 * eigvalsh − tridiagonalize, since the WASM kernel runs both in one call.
 */
async function breakdown(): Promise<void> {
  const input = await openNodeModel(GPT2, (n) => pickPrimary(n));
  try {
    const source = await openModel(input);
    const layers = buildLayers(source.tensors, source.format).filter((l) => l.analyzable);
    const byShape = new Map<string, Layer[]>();
    for (const l of layers) {
      const k = `${l.tensor.shape.join('×')}`;
      byShape.set(k, [...(byShape.get(k) ?? []), l]);
    }
    const kernels: CpuKernel[] = wasmKernelsAvailable() ? ['wasm', 'ts'] : ['ts'];
    const stages = ['read', 'slices', 'gram', 'tridiag', 'ql', 'ww fit', 'mp fit', 'farms'] as const;
    for (const kernel of kernels) {
      setDefaultCpuKernel(kernel);
      const totals = new Map<string, number>(stages.map((s) => [s, 0]));
      const rows: string[][] = [];
      for (const [shape, group] of byShape) {
        const l = group[0]!;
        const t: Record<string, number> = {};
        let t0 = performance.now();
        const lap = (name: string) => {
          const now = performance.now();
          t[name] = (t[name] ?? 0) + (now - t0) / 1000;
          t0 = now;
        };
        const data = await source.read(l.tensor.name);
        lap('read');
        const mats = layerMatrices(l, data);
        lap('slices');
        const evals: number[] = [];
        for (const m of mats) {
          t0 = performance.now();
          const { g, k } = gram(m.data, m.rows, m.cols, { kernel });
          lap('gram');
          const copy = g.slice();
          t0 = performance.now();
          tridiagonalize(copy, k, { kernel });
          lap('tridiag');
          const ev = eigvalsh(g, k, { kernel });
          lap('eig');
          for (const v of ev) evals.push(Math.max(0, v));
        }
        t.ql = Math.max(0, (t.eig ?? 0) - (t.tridiag ?? 0));
        const sorted = Float64Array.from(evals).sort();
        t0 = performance.now();
        wwMetrics(sorted, l.N);
        lap('ww fit');
        fitMarchenkoPastur(sorted, l.N, l.M);
        lap('mp fit');
        farmsAnalyze(l, data, {});
        lap('farms');
        for (const s of stages) totals.set(s, totals.get(s)! + (t[s] ?? 0) * group.length);
        rows.push([`${shape} (×${group.length})`, ...stages.map((s) => (t[s] ?? 0).toFixed(3))]);
      }
      rows.push([`all ${layers.length} layers, CPU s`, ...stages.map((s) => totals.get(s)!.toFixed(2))]);
      console.log(`\nWhere the time goes, ${kernel} kernels: seconds per layer of each shape, one thread, in-process (last row: × layer count, summed)`);
      printTable(['shape', ...stages], rows);
      const full = ['read', 'slices', 'gram', 'tridiag', 'ql', 'ww fit'].reduce((s, k) => s + totals.get(k)!, 0);
      const pct = (k: string) => `${((100 * totals.get(k)!) / full).toFixed(0)}%`;
      const threads = Math.min(4, os.availableParallelism());
      console.log(
        `default analyze ≈ ${full.toFixed(1)} CPU s (gram ${pct('gram')}, tridiag ${pct('tridiag')}, ql ${pct('ql')}, ` +
          `ww fit ${pct('ww fit')}, read + slices ${(((totals.get('read')! + totals.get('slices')!) * 100) / full).toFixed(0)}%); ` +
          `on ${threads} idle cores ≈ ${(full / threads).toFixed(1)} s wall; --farms-only ≈ ${(totals.get('farms')! / threads).toFixed(1)} s wall`,
      );
    }
    setDefaultCpuKernel('auto');
  } finally {
    await input.close();
  }
}

/**
 * Issue 4's k-means target: k = 256 codewords of d = 4 on a 3072 × 768 layer (the checkpoint's
 * h.0.mlp.c_proj.weight, n = 589,824 sub-vectors of consecutive weights), k-means++ seeding and 20
 * Lloyd iterations (tol 0), one thread, in-process, for each CPU kernel. Median wall time of the
 * runs; the objectives of both kernels (the TS path is the reference) side by side.
 */
async function kmeansBench(): Promise<void> {
  const KMEANS_TARGET_S = 2;
  const d = 4;
  const k = 256;
  const input = await openNodeModel(GPT2, (n) => pickPrimary(n));
  let x: Float32Array;
  try {
    x = await (await openModel(input)).read('h.0.mlp.c_proj.weight');
  } finally {
    await input.close();
  }
  const n = x.length / d;
  const kernels: CpuKernel[] = wasmKernelsAvailable() ? ['wasm', 'ts'] : ['ts'];
  const rows: string[][] = [];
  const objectives = new Map<CpuKernel, number>();
  for (const kernel of kernels) {
    const seedS: number[] = [];
    const lloydS: number[] = [];
    let objective = 0;
    let searched: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const rec: number[] = [];
      recordKmeansSearches(rec);
      const t0 = performance.now();
      const init = kmeansPlusPlus(x, n, d, k, new Rng(1), undefined, kernel);
      const t1 = performance.now();
      const res = lloyd(x, n, d, k, init, 20, 0, undefined, undefined, kernel);
      const t2 = performance.now();
      recordKmeansSearches(null);
      seedS.push((t1 - t0) / 1000);
      lloydS.push((t2 - t1) / 1000);
      objective = res.objective;
      searched = rec;
      process.stderr.write(
        `  kmeans ${kernel}: run ${r + 1}/${RUNS} ${((t2 - t0) / 1000).toFixed(2)} s (seeding ${(seedS.at(-1)!).toFixed(2)}, Lloyd ${(lloydS.at(-1)!).toFixed(2)}) (load ${os.loadavg()[0]!.toFixed(1)})\n`,
      );
    }
    objectives.set(kernel, objective);
    const total = median(seedS.map((s, i) => s + lloydS[i]!));
    rows.push([
      kernel,
      String(RUNS),
      median(seedS).toFixed(2),
      median(lloydS).toFixed(2),
      total.toFixed(2),
      `≤ ${KMEANS_TARGET_S}`,
      verdict(total, KMEANS_TARGET_S),
      objective.toPrecision(12),
      searched.length ? `${((100 * searched.reduce((a, b) => a + b, 0)) / (searched.length * n)).toFixed(0)}% (last ${((100 * searched.at(-1)!) / n).toFixed(0)}%)` : 'all',
    ]);
  }
  console.log(`\nk-means: k = ${k}, d = ${d}, n = ${n} (h.0.mlp.c_proj.weight, 3072 × 768), k-means++ (seed 1) + 20 Lloyd iterations; seconds, median of ${RUNS} run(s), one thread`);
  printTable(['kernel', 'runs', 'seeding s', 'Lloyd s', 'total s', 'target s', 'time', 'objective', 'searched per iteration'], rows);
  const w = objectives.get('wasm');
  const t = objectives.get('ts');
  if (w !== undefined && t !== undefined) console.log(`objective: wasm ${w} vs TS reference ${t} (relative difference ${(Math.abs(w - t) / t).toExponential(1)})`);
}

/**
 * Issue 6's merge figures, one thread, in-process: dense linear assignment on uniform random costs
 * (target: 512 × 512 under 0.3 s; 2048 × 2048 reported), and Git Re-Basin weight matching of the
 * MNIST demo seeds (784-128-128-10). Median wall time of the runs.
 */
async function mergeBench(): Promise<void> {
  const LAP_TARGET_S = 0.3;
  const rows: string[][] = [];
  for (const n of [512, 2048]) {
    const rng = new Rng(n);
    const cost = new Float64Array(n * n);
    for (let k = 0; k < cost.length; k++) cost[k] = rng.next();
    const times: number[] = [];
    let objective = 0;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      objective = linearAssignment(cost, n, n).objective;
      times.push((performance.now() - t0) / 1000);
      process.stderr.write(`  LAP ${n}×${n}: run ${r + 1}/${RUNS} ${times.at(-1)!.toFixed(3)} s (load ${os.loadavg()[0]!.toFixed(1)})\n`);
    }
    const target = n === 512 ? LAP_TARGET_S : undefined;
    rows.push([`LAP ${n}×${n} uniform [0,1), minimise`, String(RUNS), median(times).toFixed(3), Math.min(...times).toFixed(3), target ? `≤ ${target}` : '', verdict(median(times), target), `objective ${objective.toFixed(6)}`]);
  }
  const load = async (file: string): Promise<NamedTensor[]> => {
    const input = await openNodeModel(path.join(ROOT, 'public/models/mnist', file), (n) => pickPrimary(n));
    try {
      const src = await openModel(input);
      const out: NamedTensor[] = [];
      for (const t of src.tensors) out.push({ name: t.name, shape: [...t.shape], data: await src.read(t.name) });
      return out;
    } finally {
      await input.close();
    }
  };
  const a = await load('mlp-seed1.safetensors');
  const b = await load('mlp-seed2.safetensors');
  const spec = inferMlpSpec(a, 'mlp-seed1.safetensors');
  const times: number[] = [];
  let note = '';
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const res = weightMatching(a, b, spec, { seed: 1 });
    times.push((performance.now() - t0) / 1000);
    note = `${res.iterations} passes, objective ${res.objectives[0]!.toFixed(2)} → ${res.objectives.at(-1)!.toFixed(2)}`;
  }
  rows.push(['weight matching MNIST seed1 ← seed2 (2 groups of 128)', String(RUNS), median(times).toFixed(3), Math.min(...times).toFixed(3), '', '', note]);
  console.log(`\nMerge: seconds, median of ${RUNS} run(s), one thread, in-process`);
  printTable(['what', 'runs', 'median s', 'min s', 'target s', 'time', 'note'], rows);
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log('WeightLens bench');
  console.log(
    `machine: ${os.availableParallelism()} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
      `Node ${process.version}, ${os.platform()}/${os.arch()}`,
  );
  console.log(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share these cores)`);
  // The merge section needs no GPT-2 checkpoint; don't write or rebuild anything for it alone.
  if (['analyze', 'farms', 'info', 'breakdown', 'kmeans'].some(want)) {
    ensureFiles();
    console.log(`checkpoint: ${path.relative(ROOT, GPT2)} (${(statSync(GPT2).size / 1e6).toFixed(0)} MB, GPT-2 small shapes, seed 1)`);
  }

  const rows: Row[] = [];
  if (want('analyze')) {
    const r = await timeCli('analyze (49 layers)', ['analyze', GPT2, '--json'], RUNS, { targetS: TARGETS.analyzeS, targetMB: TARGETS.analyzeMB });
    const j = JSON.parse(r.runs[0]!.stdout) as { layers: unknown[]; threads: number; kernel: string };
    r.note = `${j.layers.length} layers, ${j.threads} threads, ${j.kernel} kernels`;
    r.threads = j.threads;
    rows.push(r);
    const one = await timeCli('analyze --threads 1', ['analyze', GPT2, '--json', '--threads', '1'], 1, {});
    one.note = 'pool speed-up reference';
    one.threads = 1;
    rows.push(one);
    const ts = await timeCli('analyze --kernel ts', ['analyze', GPT2, '--json', '--kernel', 'ts'], 1, {});
    ts.note = 'TypeScript kernels (the reference)';
    ts.threads = (JSON.parse(ts.runs[0]!.stdout) as { threads: number }).threads;
    rows.push(ts);
  }
  if (want('farms')) {
    const r = await timeCli('analyze --farms-only', ['analyze', GPT2, '--json', '--farms-only'], RUNS, { targetS: TARGETS.farmsS, targetMB: TARGETS.analyzeMB });
    r.note = 'FARMS alone: 100×200 windows, 10×10 grid';
    r.threads = (JSON.parse(r.runs[0]!.stdout) as { threads: number }).threads;
    rows.push(r);
  }
  if (want('info')) {
    const r = await timeCli('info 2 GB sparse', ['info', BIG], INFO_RUNS, { targetS: TARGETS.infoS, targetMB: TARGETS.infoMB });
    r.note = `${(statSync(BIG).size / 1e9).toFixed(1)} GB safetensors`;
    r.threads = 1;
    rows.push(r);
  }
  if (rows.length) {
    console.log(
      '\nCLI timings (median of the runs; wall clock of the whole process; CPU s = user + system time of all its threads,\n' +
        'the work itself; CPU/thr s = CPU s / threads, what the wall time approaches on otherwise idle cores; peak RSS incl. worker threads)',
    );
    printTable(
      ['command', 'runs', 'median s', 'min s', 'CPU s', 'CPU/thr s', 'target s', 'time', 'peak MB', 'target MB', 'memory', 'note'],
      rows.map((r) => {
        const s = median(r.runs.map((x) => x.wallS));
        const mb = Math.max(...r.runs.map((x) => x.rssMB));
        return [
          r.what,
          String(r.runs.length),
          s.toFixed(2),
          Math.min(...r.runs.map((x) => x.wallS)).toFixed(2),
          median(r.runs.map((x) => x.cpuS)).toFixed(1),
          r.threads ? (median(r.runs.map((x) => x.cpuS)) / r.threads).toFixed(1) : '',
          r.targetS === undefined ? '' : `≤ ${r.targetS}`,
          verdict(s, r.targetS),
          mb.toFixed(0),
          r.targetMB === undefined ? '' : `< ${r.targetMB}`,
          verdict(mb, r.targetMB),
          r.note ?? '',
        ];
      }),
    );
  }
  if (want('breakdown')) await breakdown();
  if (want('kmeans')) await kmeansBench();
  if (want('merge')) await mergeBench();
  // The Merge view's 25-point curve in Chromium: opt-in (--only merge-curve), it needs `npm run build`.
  if (ONLY?.has('merge-curve')) {
    const { benchMergeCurve } = await import('./bench-merge-curve');
    await benchMergeCurve(RUNS);
  }
  // WebGPU k-means in Chromium: opt-in (--only kmeans-webgpu), since on SwiftShader (no GPU here) a
  // run of the target case takes minutes and measures the CPU emulation, not a GPU.
  if (ONLY?.has('kmeans-webgpu')) {
    const { benchWebgpuKmeans } = await import('./bench-webgpu-kmeans');
    const r = await benchWebgpuKmeans({ runs: RUNS });
    console.log(
      `\nWebGPU k-means in Chromium (${r.adapter}${r.swiftShader ? ', SwiftShader: CPU emulation' : ''}): k = ${r.shape.k}, d = ${r.shape.d}, ` +
        `${r.shape.rows}×${r.shape.cols}, ${r.shape.maxIter} iterations: median ${(r.medianMs / 1000).toFixed(2)} s of ${r.timesMs.length}` +
        (r.cpu ? `; objective vs CPU: relative difference ${r.cpu.relDiff.toExponential(1)}` : ''),
    );
  }
  console.log(`\nload average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

await main();
