import type { FormatName, TensorInfo } from '../formats/types';
import type { LayoutSource, WeightLayout } from './layer';

/**
 * Which stored axis is which, decided from the strongest evidence available: the ONNX op that
 * consumes the tensor, then a name convention, then the format's own convention, and only then
 * WeightWatcher's shape rule.
 */

export interface LayoutGuess {
  layout: WeightLayout;
  source: LayoutSource;
}

/** Keras / TensorFlow name their weight `kernel` (`dense/kernel:0`, `conv1/kernel`). */
export function isKerasKernelName(name: string): boolean {
  return /(^|[./])kernel(:\d+)?$/.test(name);
}

/** Hugging Face GPT-2 style Conv1D modules store Linear weights as [in, out]. */
function isGpt2Conv1dName(name: string): boolean {
  return /(^|[./])(c_attn|c_proj|c_fc)[./]weight$/.test(name);
}

/** Formats whose conv kernels are PyTorch's [out, in, kh, kw] and Linear weights [out, in]. */
function isTorchLayoutFormat(format: FormatName | string): boolean {
  return format === 'safetensors' || format === 'safetensors-sharded' || format === 'pytorch' || format === 'onnx';
}

const CONV_OPS = new Set(['Conv', 'ConvInteger', 'QLinearConv']);
const MATMUL_OPS = new Set(['MatMul', 'MatMulInteger', 'QLinearMatMul', 'FusedMatMul', 'MatMulNBits']);

export function denseLayout(t: TensorInfo, format: FormatName | string): LayoutGuess {
  const c = t.consumer;
  if (c) {
    // A constant right operand of X·W is [in, out].
    if (MATMUL_OPS.has(c.op) && c.input === 1) return { layout: 'io', source: 'consumer' };
    if (c.op === 'Gemm' && c.input === 1) return { layout: c.attrs?.transB === 1 ? 'oi' : 'io', source: 'consumer' };
    if (c.op === 'Gemm' && c.input === 0) return { layout: c.attrs?.transA === 1 ? 'io' : 'oi', source: 'consumer' };
  }
  if (isKerasKernelName(t.name) || isGpt2Conv1dName(t.name)) return { layout: 'io', source: 'name' };
  if (format === 'safetensors' || format === 'safetensors-sharded' || format === 'pytorch') return { layout: 'oi', source: 'format' };
  return { layout: 'unknown', source: 'shape' };
}

/**
 * 4-D kernels. WeightWatcher's shape rule (conv2D_Wmats): with shape (s0, s1, s2, s3), the first
 * two axes are the channels when s0 + s1 ≥ s2 + s3, else the last two are. (WeightWatcher calls
 * the first case CHANNELS.LAST because the kernel axes come last — it is PyTorch's layout.)
 * WeightWatcher also honours the framework's expected layout over the rule for PyTorch and ONNX
 * models, which is why the format comes before the shape here.
 */
export function conv2dLayout(t: TensorInfo, format: FormatName | string): LayoutGuess {
  const c = t.consumer;
  if (c && CONV_OPS.has(c.op) && c.input === 1) return { layout: 'oihw', source: 'consumer' };
  if (c && c.op === 'ConvTranspose' && c.input === 1) return { layout: 'iohw', source: 'consumer' };
  if (isKerasKernelName(t.name)) return { layout: 'hwio', source: 'name' };
  if (isTorchLayoutFormat(format)) return { layout: 'oihw', source: 'format' };
  const [s0, s1, s2, s3] = t.shape as [number, number, number, number];
  return { layout: s0 + s1 >= s2 + s3 ? 'oihw' : 'hwio', source: 'shape' };
}

/** 3-D kernels: [out, in, k] (PyTorch/ONNX) or [k, in, out] (Keras); the same evidence order. */
export function conv1dLayout(t: TensorInfo, format: FormatName | string): LayoutGuess {
  const c = t.consumer;
  if (c && CONV_OPS.has(c.op) && c.input === 1) return { layout: 'oik', source: 'consumer' };
  if (isKerasKernelName(t.name)) return { layout: 'kio', source: 'name' };
  if (isTorchLayoutFormat(format)) return { layout: 'oik', source: 'format' };
  const [s0, , s2] = t.shape as [number, number, number];
  // The analogue of the 4-D rule: the kernel axis is the shorter end axis.
  return { layout: s0 >= s2 ? 'oik' : 'kio', source: 'shape' };
}

export interface ConvAxes {
  out: number;
  in: number;
  kh: number;
  kw: number;
}

export function convAxes(shape: readonly number[], layout: WeightLayout): ConvAxes {
  const s = (i: number) => shape[i] ?? 1;
  switch (layout) {
    case 'oihw':
      return { out: s(0), in: s(1), kh: s(2), kw: s(3) };
    case 'iohw':
      return { out: s(1), in: s(0), kh: s(2), kw: s(3) };
    case 'hwio':
      return { out: s(3), in: s(2), kh: s(0), kw: s(1) };
    case 'oik':
      return { out: s(0), in: s(1), kh: s(2), kw: 1 };
    case 'kio':
      return { out: s(2), in: s(1), kh: s(0), kw: 1 };
    case 'io':
      return { out: s(1), in: s(0), kh: 1, kw: 1 };
    default:
      return { out: s(0), in: s(1), kh: 1, kw: 1 };
  }
}
