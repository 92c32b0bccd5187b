/**
 * A small fully connected ReLU network (Linear → ReLU → … → Linear) with softmax cross-entropy:
 * forward, backward and an Adam step. It is the CPU reference for the MNIST demo models and the
 * loss used by merge curves, so it favours exact reproducibility over speed: every sum runs in a
 * fixed order in float64, parameters are stored as float32 (what the files hold).
 *
 * Weights follow PyTorch's nn.Linear layout: weight [out, in] row-major, y = x Wᵀ + b.
 */
import type { Rng } from '../base/rng';

export interface MlpLayer {
  inFeatures: number;
  outFeatures: number;
  /** [outFeatures, inFeatures], row-major. */
  weight: Float32Array;
  bias: Float32Array;
}

export interface Mlp {
  layers: MlpLayer[];
}

/** PyTorch state-dict names: fc1.weight, fc1.bias, fc2.weight, … */
export function mlpParamNames(mlp: Mlp): string[] {
  return mlp.layers.flatMap((_, i) => [`fc${i + 1}.weight`, `fc${i + 1}.bias`]);
}

/** nn.Linear's default init: weight and bias ~ U(−1/√in, 1/√in). */
export function initMlp(sizes: readonly number[], rng: Rng): Mlp {
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inF = sizes[l]!;
    const outF = sizes[l + 1]!;
    const bound = 1 / Math.sqrt(inF);
    const weight = new Float32Array(outF * inF);
    for (let i = 0; i < weight.length; i++) weight[i] = (rng.next() * 2 - 1) * bound;
    const bias = new Float32Array(outF);
    for (let i = 0; i < outF; i++) bias[i] = (rng.next() * 2 - 1) * bound;
    layers.push({ inFeatures: inF, outFeatures: outF, weight, bias });
  }
  return { layers };
}

export function cloneMlp(mlp: Mlp): Mlp {
  return { layers: mlp.layers.map((l) => ({ ...l, weight: l.weight.slice(), bias: l.bias.slice() })) };
}

/** Name → tensor view of the parameters (shares memory with the model). */
export function mlpToTensors(mlp: Mlp): { name: string; shape: number[]; data: Float32Array }[] {
  return mlp.layers.flatMap((l, i) => [
    { name: `fc${i + 1}.weight`, shape: [l.outFeatures, l.inFeatures], data: l.weight },
    { name: `fc${i + 1}.bias`, shape: [l.outFeatures], data: l.bias },
  ]);
}

/** Rebuild an MLP from fc1.weight, fc1.bias, … (sizes are read from the weight shapes). */
export function mlpFromTensors(get: (name: string) => Float32Array | undefined, sizes: readonly number[]): Mlp {
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inF = sizes[l]!;
    const outF = sizes[l + 1]!;
    const weight = get(`fc${l + 1}.weight`);
    const bias = get(`fc${l + 1}.bias`);
    if (!weight || weight.length !== outF * inF) throw new RangeError(`mlp: fc${l + 1}.weight needs ${outF}×${inF} values, got ${weight?.length ?? 'none'}`);
    if (!bias || bias.length !== outF) throw new RangeError(`mlp: fc${l + 1}.bias needs ${outF} values, got ${bias?.length ?? 'none'}`);
    layers.push({ inFeatures: inF, outFeatures: outF, weight, bias });
  }
  return { layers };
}

/**
 * y[b, o] = Σ_i x[b, i]·W[o, i] + bias[o], optionally ReLU. Zero inputs are skipped (MNIST pixels and
 * ReLU outputs are mostly zero); skipping adds nothing, so the result equals the dense sum.
 */
function linear(layer: MlpLayer, x: Float64Array, batch: number, relu: boolean): Float64Array {
  const { inFeatures: nIn, outFeatures: nOut, weight, bias } = layer;
  const y = new Float64Array(batch * nOut);
  const nz = new Int32Array(nIn);
  for (let b = 0; b < batch; b++) {
    const xo = b * nIn;
    let count = 0;
    for (let i = 0; i < nIn; i++) if (x[xo + i] !== 0) nz[count++] = i;
    for (let o = 0; o < nOut; o++) {
      const wo = o * nIn;
      let s = 0;
      for (let k = 0; k < count; k++) {
        const i = nz[k]!;
        s += x[xo + i]! * weight[wo + i]!;
      }
      s += bias[o]!;
      y[b * nOut + o] = relu && s < 0 ? 0 : s;
    }
  }
  return y;
}

/** Activations of every layer: acts[0] is the input, acts[L] the logits. */
function forwardAll(mlp: Mlp, x: Float32Array | Float64Array, batch: number): Float64Array[] {
  const first = mlp.layers[0];
  if (!first) throw new RangeError('mlp: no layers');
  if (x.length !== batch * first.inFeatures) throw new RangeError(`mlp: input has ${x.length} values, expected ${batch}×${first.inFeatures}`);
  const acts: Float64Array[] = [Float64Array.from(x)];
  mlp.layers.forEach((layer, l) => {
    acts.push(linear(layer, acts[l]!, batch, l + 1 < mlp.layers.length));
  });
  return acts;
}

/** Logits [batch, classes] as float32. Input x is [batch, in] row-major. */
export function mlpForward(mlp: Mlp, x: Float32Array, batch: number): Float32Array {
  const acts = forwardAll(mlp, x, batch);
  return Float32Array.from(acts[acts.length - 1]!);
}

/** Row-wise argmax (first maximum wins, like torch.argmax on ties). */
export function argmaxRows(logits: ArrayLike<number>, batch: number, classes: number): Int32Array {
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = logits[b * classes + c]!;
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    out[b] = best;
  }
  return out;
}

/** Fraction of rows whose argmax equals the label; `include` limits to some rows. */
export function accuracy(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number, include?: (label: number) => boolean): number {
  const batch = labels.length;
  const pred = argmaxRows(logits, batch, classes);
  let hit = 0;
  let n = 0;
  for (let b = 0; b < batch; b++) {
    const y = labels[b]!;
    if (include && !include(y)) continue;
    n++;
    if (pred[b] === y) hit++;
  }
  return n === 0 ? NaN : hit / n;
}

/**
 * Mean softmax cross-entropy over the batch and its gradient with respect to the logits
 * ((softmax − onehot) / batch). Log-sum-exp is shifted by the row max for stability.
 */
export function softmaxCrossEntropy(logits: Float64Array, labels: ArrayLike<number>, batch: number, classes: number): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(batch * classes);
  let loss = 0;
  for (let b = 0; b < batch; b++) {
    const o = b * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[o + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c]! - max);
    const y = labels[b]!;
    loss += Math.log(sum) + max - logits[o + y]!;
    for (let c = 0; c < classes; c++) {
      grad[o + c] = (Math.exp(logits[o + c]! - max) / sum - (c === y ? 1 : 0)) / batch;
    }
  }
  return { loss: loss / batch, grad };
}

export interface MlpGrads {
  /** Same layout as the parameters, float64. */
  weight: Float64Array[];
  bias: Float64Array[];
}

/** Loss and gradients of the mean cross-entropy for one mini-batch. */
export function mlpLossAndGrad(mlp: Mlp, x: Float32Array, labels: ArrayLike<number>, batch: number): { loss: number; grads: MlpGrads } {
  const acts = forwardAll(mlp, x, batch);
  const L = mlp.layers.length;
  const classes = mlp.layers[L - 1]!.outFeatures;
  const ce = softmaxCrossEntropy(acts[L]!, labels, batch, classes);
  let delta = ce.grad;
  const gW: Float64Array[] = new Array<Float64Array>(L);
  const gB: Float64Array[] = new Array<Float64Array>(L);
  for (let l = L - 1; l >= 0; l--) {
    const { inFeatures: nIn, outFeatures: nOut, weight } = mlp.layers[l]!;
    const input = acts[l]!;
    const dW = new Float64Array(nOut * nIn);
    const dB = new Float64Array(nOut);
    const dIn = l > 0 ? new Float64Array(batch * nIn) : null;
    const nz = new Int32Array(nIn);
    for (let b = 0; b < batch; b++) {
      const xo = b * nIn;
      let count = 0;
      for (let i = 0; i < nIn; i++) if (input[xo + i] !== 0) nz[count++] = i;
      for (let o = 0; o < nOut; o++) {
        const d = delta[b * nOut + o]!;
        if (d === 0) continue;
        dB[o] = dB[o]! + d;
        const wo = o * nIn;
        for (let k = 0; k < count; k++) {
          const i = nz[k]!;
          dW[wo + i] = dW[wo + i]! + d * input[xo + i]!;
        }
        if (dIn) {
          // Only units that were active (input > 0 after ReLU) pass gradient back.
          for (let k = 0; k < count; k++) {
            const i = nz[k]!;
            dIn[xo + i] = dIn[xo + i]! + d * weight[wo + i]!;
          }
        }
      }
    }
    gW[l] = dW;
    gB[l] = dB;
    if (dIn) delta = dIn;
  }
  return { loss: ce.loss, grads: { weight: gW, bias: gB } };
}

/** Adam (Kingma & Ba) with PyTorch's defaults and update order; state in float64. */
export class Adam {
  private t = 0;
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];

  constructor(
    private readonly mlp: Mlp,
    private readonly lr = 1e-3,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    const params = mlp.layers.flatMap((l) => [l.weight, l.bias]);
    this.m = params.map((p) => new Float64Array(p.length));
    this.v = params.map((p) => new Float64Array(p.length));
  }

  step(grads: MlpGrads): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    this.mlp.layers.forEach((layer, l) => {
      const pairs: [Float32Array, Float64Array][] = [
        [layer.weight, grads.weight[l]!],
        [layer.bias, grads.bias[l]!],
      ];
      pairs.forEach(([p, g], j) => {
        const m = this.m[2 * l + j]!;
        const v = this.v[2 * l + j]!;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]!;
          m[i] = this.beta1 * m[i]! + (1 - this.beta1) * gi;
          v[i] = this.beta2 * v[i]! + (1 - this.beta2) * gi * gi;
          p[i] = p[i]! - (this.lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + this.eps);
        }
      });
    });
  }
}
