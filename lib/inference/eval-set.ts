import { FormatError } from '../base/errors';
import type { TensorSource } from '../formats/types';

/**
 * An evaluation set: a file (safetensors or npz) with tensors `inputs` [n, ...] and `labels` [n]
 * (class indices). Inputs may be stored as integers to stay small (MNIST pixels as U8) and carry
 * their scale in metadata `inputs_scale` ("1/255" or a number; in an npz, a one-element array
 * of that name), applied on load.
 */

export interface EvalSet {
  file: string;
  n: number;
  /** Float inputs, row-major [n, ...sampleShape], already scaled. */
  inputs: Float32Array;
  /** Shape of one sample (inputs' shape without the leading n). */
  sampleShape: number[];
  labels: Int32Array;
  /** The scale applied (1 when none). */
  scale: number;
}

/** Parses "1/255", "0.00392", "2e-3"; undefined for anything else. */
export function parseScale(s: unknown): number | undefined {
  if (typeof s === 'number') return Number.isFinite(s) ? s : undefined;
  if (typeof s !== 'string') return undefined;
  const m = /^\s*([-+0-9.eE]+)\s*(?:\/\s*([-+0-9.eE]+)\s*)?$/.exec(s);
  if (!m) return undefined;
  const v = Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2]));
  return Number.isFinite(v) ? v : undefined;
}

export async function loadEvalSet(src: TensorSource, signal?: AbortSignal): Promise<EvalSet> {
  const file = src.name;
  const find = (n: string) => src.tensors.find((t) => t.name === n) ?? src.tensors.find((t) => t.name === `${n}.npy`);
  const inInfo = find('inputs');
  const labInfo = find('labels');
  const have = src.tensors.map((t) => t.name).join(', ') || 'none';
  if (!inInfo) throw new FormatError('bad-shape', `${file}: an evaluation set needs a tensor named "inputs" (has: ${have})`);
  if (!labInfo) throw new FormatError('bad-shape', `${file}: an evaluation set needs a tensor named "labels" (has: ${have})`);
  const n = inInfo.shape[0];
  if (inInfo.shape.length < 2 || n === undefined || n < 1) throw new FormatError('bad-shape', `${file}: "inputs" has shape [${inInfo.shape.join(', ')}], expected [n, features...] with n ≥ 1`);
  if (labInfo.shape.length !== 1 || labInfo.shape[0] !== n) {
    throw new FormatError('bad-shape', `${file}: "labels" has shape [${labInfo.shape.join(', ')}], expected [${n}] to match "inputs" [${inInfo.shape.join(', ')}]`);
  }
  if (/^(F|BF)/.test(labInfo.dtype)) throw new FormatError('bad-shape', `${file}: "labels" is ${labInfo.dtype}; class indices must be integers`);
  // npz has no metadata: a one-element `inputs_scale` array stands in for it.
  let rawScale: unknown = src.metadata.inputs_scale;
  const scaleInfo = rawScale === undefined ? find('inputs_scale') : undefined;
  if (scaleInfo) {
    if (scaleInfo.shape.reduce((a, b) => a * b, 1) !== 1) throw new FormatError('bad-shape', `${file}: "inputs_scale" has shape [${scaleInfo.shape.join(', ')}], expected one value`);
    rawScale = (await src.read(scaleInfo.name, signal))[0];
  }
  const scale = rawScale === undefined ? 1 : parseScale(rawScale);
  if (scale === undefined) throw new FormatError('bad-header', `${file}: metadata inputs_scale "${String(rawScale)}" is not a number or a fraction like 1/255`);
  const inputs = await src.read(inInfo.name, signal);
  if (scale !== 1) for (let i = 0; i < inputs.length; i++) inputs[i]! *= scale;
  const labF = await src.read(labInfo.name, signal);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labF[i]!;
    if (!Number.isInteger(v) || v < 0) throw new FormatError('bad-shape', `${file}: label ${i} is ${v}, not a class index`);
    labels[i] = v;
  }
  return { file, n, inputs, sampleShape: inInfo.shape.slice(1), labels, scale };
}
