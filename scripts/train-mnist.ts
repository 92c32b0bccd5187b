/**
 * Trains the MNIST demo models in plain TypeScript and writes them to public/models/mnist/:
 *   mlp-seed1 / mlp-seed2   same data, different init + shuffle seeds (merge barriers, weight matching)
 *   mlp-base                all digits, briefly; mlp-ft-low / mlp-ft-high fine-tune it on digits
 *                           0–4 / 5–9 (task arithmetic, TIES)
 *   mnist-eval              2,000 held-out images (U8 pixels) and labels (U8)
 *   mlp.onnx                the same MLP with its weights as graph inputs, so one session serves
 *                           any set of weights (merge curves)
 * Run: npx tsx scripts/train-mnist.ts [outDir]. Same Node version, same bytes: all randomness is
 * seeded (lib/base/rng) and every sum runs in a fixed order.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../lib/base/rng';
import { writeOnnx } from '../lib/formats/onnx/write-onnx';
import { writeSafetensors } from '../lib/formats/write-safetensors';
import { Adam, accuracy, cloneMlp, initMlp, mlpForward, mlpLossAndGrad, mlpToTensors, type Mlp } from '../lib/math/mlp';

export const SCRIPT_NAME = 'scripts/train-mnist.ts';
export const MLP_SIZES = [784, 128, 128, 10] as const;
export const PIXELS = 784;
export const CLASSES = 10;
/** Seed of the train/eval split, shared by every model so none of them sees an eval image. */
export const SPLIT_SEED = 20240601;
export const EVAL_COUNT = 2000;
export const LOW_DIGITS = [0, 1, 2, 3, 4];
export const HIGH_DIGITS = [5, 6, 7, 8, 9];
export const ALL_DIGITS = [...LOW_DIGITS, ...HIGH_DIGITS];

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIGITS_DIR = path.join(REPO_ROOT, 'node_modules/mnist/src/digits');

export interface MnistSet {
  count: number;
  /** [count, 784] raw pixels 0..255. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface MnistSplit {
  train: MnistSet;
  eval: MnistSet;
}

/**
 * The npm `mnist` package stores each digit as a flat JSON array of pixels/255 rounded to 3
 * decimals; neighbouring bytes differ by 1/255 > 0.001, so rounding ×255 recovers the byte exactly.
 */
export function loadMnistSplit(digitsDir = DIGITS_DIR): MnistSplit {
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (const d of ALL_DIGITS) {
    const data = (JSON.parse(readFileSync(path.join(digitsDir, `${d}.json`), 'utf8')) as { data: number[] }).data;
    const n = Math.floor(data.length / PIXELS);
    for (let k = 0; k < n; k++) {
      const img = new Uint8Array(PIXELS);
      for (let i = 0; i < PIXELS; i++) img[i] = Math.round(data[k * PIXELS + i]! * 255);
      images.push(img);
      labels.push(d);
    }
  }
  const order = new Int32Array(images.length).map((_, i) => i);
  new Rng(SPLIT_SEED).shuffle(order);
  const pick = (from: number, to: number): MnistSet => {
    const count = to - from;
    const pixels = new Uint8Array(count * PIXELS);
    const lab = new Uint8Array(count);
    for (let k = 0; k < count; k++) {
      const src = order[from + k]!;
      pixels.set(images[src]!, k * PIXELS);
      lab[k] = labels[src]!;
    }
    return { count, pixels, labels: lab };
  };
  return { eval: pick(0, EVAL_COUNT), train: pick(EVAL_COUNT, images.length) };
}

/** Pixels scaled to 0..1 as float32 (what the ONNX graph's `x` expects). */
export function scaleInputs(pixels: Uint8Array): Float32Array {
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i]! / 255;
  return x;
}

export interface TrainOptions {
  /** Seeds the init (when `init` is absent) and the per-epoch shuffles. */
  seed: number;
  epochs: number;
  /** Train only on these labels (default all). */
  digits?: readonly number[];
  /** Use at most this many training images (after the digit filter), for quick runs and tests. */
  limit?: number;
  /** Start from these weights (fine-tuning); copied, never modified. */
  init?: Mlp;
  lr?: number;
  batchSize?: number;
}

export const DEFAULT_LR = 1e-3;
export const DEFAULT_BATCH = 64;

/** Mini-batch Adam on softmax cross-entropy. Deterministic for given data and options. */
export function trainMlp(train: MnistSet, opts: TrainOptions): Mlp {
  const rng = new Rng(opts.seed);
  const mlp = opts.init ? cloneMlp(opts.init) : initMlp(MLP_SIZES, rng);
  const digits = new Set(opts.digits ?? ALL_DIGITS);
  const chosen: number[] = [];
  for (let k = 0; k < train.count && chosen.length < (opts.limit ?? Infinity); k++) {
    if (digits.has(train.labels[k]!)) chosen.push(k);
  }
  const order = Int32Array.from(chosen);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  const adam = new Adam(mlp, opts.lr ?? DEFAULT_LR);
  const x = new Float32Array(batchSize * PIXELS);
  const y = new Uint8Array(batchSize);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    rng.shuffle(order);
    for (let start = 0; start < order.length; start += batchSize) {
      const n = Math.min(batchSize, order.length - start);
      for (let b = 0; b < n; b++) {
        const k = order[start + b]!;
        for (let i = 0; i < PIXELS; i++) x[b * PIXELS + i] = train.pixels[k * PIXELS + i]! / 255;
        y[b] = train.labels[k]!;
      }
      const { grads } = mlpLossAndGrad(mlp, x.subarray(0, n * PIXELS), y.subarray(0, n), n);
      adam.step(grads);
    }
  }
  return mlp;
}

export interface EvalResult {
  all: number;
  low: number;
  high: number;
}

export function evaluate(mlp: Mlp, set: MnistSet): EvalResult {
  const logits = mlpForward(mlp, scaleInputs(set.pixels), set.count);
  return {
    all: accuracy(logits, set.labels, CLASSES),
    low: accuracy(logits, set.labels, CLASSES, (d) => d <= 4),
    high: accuracy(logits, set.labels, CLASSES, (d) => d >= 5),
  };
}

/** Accuracy as a string with 4 decimals (k/2000 is exact at 4). */
export function formatAccuracy(a: number): string {
  return a.toFixed(4);
}

export interface ModelRecipe {
  file: string;
  seed: number;
  epochs: number;
  digits: readonly number[];
  lr: number;
  /** File name of the model this one starts from. */
  parent?: string;
}

export function modelSafetensors(mlp: Mlp, recipe: ModelRecipe, trainCount: number, result: EvalResult): Uint8Array {
  const metadata: Record<string, string> = {
    script: SCRIPT_NAME,
    architecture: `mlp ${MLP_SIZES.join('-')} relu`,
    data: 'npm mnist@1.1.0',
    split_seed: String(SPLIT_SEED),
    seed: String(recipe.seed),
    digits: recipe.digits.join(','),
    epochs: String(recipe.epochs),
    optimizer: 'adam',
    lr: String(recipe.lr),
    batch_size: String(DEFAULT_BATCH),
    train_samples: String(trainCount),
    init: recipe.parent ?? 'torch-linear-default',
    eval_set: 'mnist-eval.safetensors',
    eval_accuracy: formatAccuracy(result.all),
    eval_accuracy_digits_0_4: formatAccuracy(result.low),
    eval_accuracy_digits_5_9: formatAccuracy(result.high),
  };
  const tensors = mlpToTensors(mlp).map((t) => ({ name: t.name, shape: t.shape, dtype: 'F32', data: t.data }));
  return writeSafetensors(tensors, metadata);
}

export function evalSafetensors(set: MnistSet): Uint8Array {
  return writeSafetensors(
    [
      { name: 'inputs', shape: [set.count, PIXELS], dtype: 'U8', data: set.pixels },
      { name: 'labels', shape: [set.count], dtype: 'U8', data: set.labels },
    ],
    {
      script: SCRIPT_NAME,
      data: 'npm mnist@1.1.0',
      split_seed: String(SPLIT_SEED),
      inputs_scale: '1/255',
      inputs_layout: 'row-major 28x28, 0 = background',
      labels_dtype: 'U8 digit 0..9',
    },
  );
}

/** The MLP as Gemm(transB=1)/Relu with every weight a graph input, so weights can be swapped per run. */
export function buildMlpOnnx(sizes: readonly number[] = MLP_SIZES): Uint8Array {
  const L = sizes.length - 1;
  const nodes = [];
  const weightInputs = [];
  let prev = 'x';
  for (let l = 0; l < L; l++) {
    const w = `fc${l + 1}.weight`;
    const b = `fc${l + 1}.bias`;
    weightInputs.push({ name: w, dtype: 'F32', shape: [sizes[l + 1]!, sizes[l]!] }, { name: b, dtype: 'F32', shape: [sizes[l + 1]!] });
    const out = l + 1 === L ? 'logits' : `fc${l + 1}.out`;
    nodes.push({ opType: 'Gemm', name: `fc${l + 1}`, inputs: [prev, w, b], outputs: [out], attributes: { transB: { kind: 'int' as const, value: 1 } } });
    prev = out;
    if (l + 1 < L) {
      nodes.push({ opType: 'Relu', name: `relu${l + 1}`, inputs: [out], outputs: [`relu${l + 1}.out`] });
      prev = `relu${l + 1}.out`;
    }
  }
  return writeOnnx({
    graphName: 'mnist_mlp',
    nodes,
    inputs: [{ name: 'x', dtype: 'F32', shape: ['batch', sizes[0]!] }, ...weightInputs],
    outputs: [{ name: 'logits', dtype: 'F32', shape: ['batch', sizes[L]!] }],
    opset: 17,
    irVersion: 8,
    producerName: 'weightlens',
    producerVersion: '0.1.0',
    docString: 'MNIST MLP; weights are graph inputs (no initializers). x is pixels/255.',
    metadata: { script: SCRIPT_NAME, weights: 'mlp-*.safetensors' },
  });
}

export const RECIPES = {
  seed1: { file: 'mlp-seed1.safetensors', seed: 1, epochs: 8, digits: ALL_DIGITS, lr: DEFAULT_LR },
  seed2: { file: 'mlp-seed2.safetensors', seed: 2, epochs: 8, digits: ALL_DIGITS, lr: DEFAULT_LR },
  base: { file: 'mlp-base.safetensors', seed: 3, epochs: 1, digits: ALL_DIGITS, lr: DEFAULT_LR },
  ftLow: { file: 'mlp-ft-low.safetensors', seed: 4, epochs: 2, digits: LOW_DIGITS, lr: 5e-4, parent: 'mlp-base.safetensors' },
  ftHigh: { file: 'mlp-ft-high.safetensors', seed: 5, epochs: 2, digits: HIGH_DIGITS, lr: 5e-4, parent: 'mlp-base.safetensors' },
} satisfies Record<string, ModelRecipe>;

function main(): void {
  const outDir = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'public/models/mnist'));
  mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();
  const split = loadMnistSplit();
  console.log(`mnist: ${split.train.count} train, ${split.eval.count} eval images (split seed ${SPLIT_SEED})`);
  const files: string[] = [];
  const write = (name: string, bytes: Uint8Array): void => {
    writeFileSync(path.join(outDir, name), bytes);
    files.push(name);
  };
  write('mnist-eval.safetensors', evalSafetensors(split.eval));
  write('mlp.onnx', buildMlpOnnx());

  const countFor = (digits: readonly number[]): number => split.train.labels.filter((d) => digits.includes(d)).length;
  const run = (recipe: ModelRecipe, init?: Mlp): Mlp => {
    const t = Date.now();
    const mlp = trainMlp(split.train, { seed: recipe.seed, epochs: recipe.epochs, digits: recipe.digits, lr: recipe.lr, init });
    const result = evaluate(mlp, split.eval);
    write(recipe.file, modelSafetensors(mlp, recipe, countFor(recipe.digits), result));
    console.log(
      `${recipe.file}: eval ${formatAccuracy(result.all)} (0-4 ${formatAccuracy(result.low)}, 5-9 ${formatAccuracy(result.high)}) in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
    return mlp;
  };
  run(RECIPES.seed1);
  run(RECIPES.seed2);
  const base = run(RECIPES.base);
  run(RECIPES.ftLow, base);
  run(RECIPES.ftHigh, base);

  let total = 0;
  for (const f of files) {
    const size = statSync(path.join(outDir, f)).size;
    total += size;
    console.log(`${f.padEnd(26)} ${size.toString().padStart(9)} bytes`);
  }
  console.log(`${'total'.padEnd(26)} ${total.toString().padStart(9)} bytes; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
