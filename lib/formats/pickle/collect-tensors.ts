import { LimitError } from '../../base/errors';
import { MAX_TENSOR_COUNT } from '../../base/limits';
import { PickleSet, PickleTuple } from './unpickle';
import { TorchTensor } from './torch-unpickle';

/** Real checkpoints nest a state dict two or three levels deep ({'model': {...}}); 64 is generous. */
const MAX_NEST_DEPTH = 64;

export interface NamedTensor {
  name: string;
  tensor: TorchTensor;
}

/**
 * Walks an unpickled object and names every tensor by its path, joined with '.':
 * {'model': {'fc1.weight': T}} gives "model.fc1.weight", {'state': {0: {'exp_avg': T}}} gives
 * "state.0.exp_avg", list items are named by index. Non-tensor leaves (epoch numbers, config
 * strings, dtypes) are skipped. Each container is walked once, so a pickle that references one
 * dict from many places (or from itself) cannot make the walk exponential or endless.
 */
export function collectTensors(root: unknown, file: string): { tensors: NamedTensor[]; skippedKeys: number } {
  const tensors: NamedTensor[] = [];
  const seen = new Set<object>();
  const names = new Set<string>();
  let skippedKeys = 0;
  const add = (name: string, tensor: TorchTensor) => {
    let n = name === '' ? 'tensor' : name;
    // Two paths can spell the same name ({'a.b': T} beside {'a': {'b': T}}); keep both.
    for (let k = 2; names.has(n); k++) n = `${name}#${k}`;
    if (tensors.length >= MAX_TENSOR_COUNT) throw new LimitError('tensor-count', `${file}: more than ${MAX_TENSOR_COUNT} tensors`);
    names.add(n);
    tensors.push({ name: n, tensor });
  };
  const join = (prefix: string, key: string) => (prefix === '' ? key : `${prefix}.${key}`);
  const walk = (v: unknown, prefix: string, depth: number): void => {
    if (v instanceof TorchTensor) {
      add(prefix, v);
      return;
    }
    if (v === null || typeof v !== 'object' || depth > MAX_NEST_DEPTH) return;
    if (seen.has(v)) return;
    seen.add(v);
    if (v instanceof Map) {
      for (const [k, child] of v) {
        if (typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') walk(child, join(prefix, String(k)), depth + 1);
        else skippedKeys++;
      }
    } else if (Array.isArray(v) || v instanceof PickleTuple || v instanceof PickleSet) {
      const items = Array.isArray(v) ? v : v.items;
      items.forEach((child, i) => walk(child, join(prefix, String(i)), depth + 1));
    }
  };
  walk(root, '', 0);
  return { tensors, skippedKeys };
}
