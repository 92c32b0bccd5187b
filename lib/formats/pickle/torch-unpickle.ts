import { FormatError, LimitError } from '../../base/errors';
import { MAX_TENSOR_RANK } from '../../base/limits';
import { PickleGlobal, PickleTuple, unpickle } from './unpickle';

/**
 * The PyTorch side of the restricted unpickler: the only globals a torch.save state dict needs
 * (tensor rebuild functions, typed storage classes, dtype objects, OrderedDict, torch.Size), and
 * what each stands for as plain data. Same idea as torch.load(weights_only=True), but stricter:
 * nothing here is ever imported or called.
 * Layout reference: torch/serialization.py (_save: persistent_id returns
 * ('storage', storage_type, key, location, numel); _load: persistent_load) and
 * torch/_tensor.py / torch/_utils.py (_rebuild_tensor_v2(storage, storage_offset, size, stride,
 * requires_grad, backward_hooks[, metadata])).
 */

/** Storage classes and the element type of their data files. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, string>> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8',
  ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** dtype objects (torch.float32, ...) may appear as values (optimizer state, metadata). */
const TORCH_DTYPE_NAMES = new Set([
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'int64', 'long', 'int32', 'int',
  'int16', 'short', 'int8', 'uint8', 'bool', 'complex64', 'complex128', 'float8_e4m3fn', 'float8_e5m2',
]);

const REBUILD_FNS = new Set(['_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_parameter', '_rebuild_parameter_with_state']);

export function isAllowedTorchGlobal(module: string, name: string): boolean {
  if (module === 'collections' && name === 'OrderedDict') return true;
  if (module === 'torch._utils') return REBUILD_FNS.has(name);
  if (module === 'torch') return name === 'Size' || Object.prototype.hasOwnProperty.call(TORCH_STORAGE_DTYPES, name) || TORCH_DTYPE_NAMES.has(name);
  return false;
}

/** One `data/<key>` file of the archive, as a persistent id describes it. */
export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: string,
    readonly location: string,
    /** Elements the storage holds (not bytes). */
    readonly numel: number,
  ) {}
}

/** A tensor as a view into a storage: element offset, sizes and strides (in elements). */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export interface TorchPickle {
  root: unknown;
  storages: Map<string, TorchStorage>;
}

export function unpickleTorch(bytes: Uint8Array, file: string): TorchPickle {
  const storages = new Map<string, TorchStorage>();
  const bad = (what: string): never => {
    throw new FormatError('bad-pickle', `${file}: ${what}`);
  };
  const int = (v: unknown, what: string): number => (typeof v === 'number' && Number.isSafeInteger(v) ? v : bad(`${what} is ${String(v)}, expected an integer`));
  const ints = (v: unknown, what: string): number[] => {
    const items = v instanceof PickleTuple ? v.items : Array.isArray(v) ? v : bad(`${what} is not a tuple`);
    if (items.length > MAX_TENSOR_RANK) throw new LimitError('rank', `${file}: a tensor ${what} has ${items.length} dimensions, over the limit of ${MAX_TENSOR_RANK}`);
    return items.map((x, k) => int(x, `${what}[${k}]`));
  };
  const str = (v: unknown, what: string): string =>
    typeof v === 'string' ? v : v instanceof Uint8Array ? String.fromCharCode(...v.subarray(0, 256)) : bad(`${what} is not a string`);

  const root = unpickle(bytes, file, {
    allowGlobal: isAllowedTorchGlobal,
    persistentLoad(pid) {
      if (!(pid instanceof PickleTuple) || pid.items.length !== 5) return bad('a persistent id that is not a 5-tuple (storage, type, key, location, numel)');
      const [tag, type, keyV, locV, numelV] = pid.items;
      if (str(tag, 'persistent id tag') !== 'storage') return bad(`persistent id of kind "${str(tag, 'tag')}", expected "storage"`);
      const dtype = type instanceof PickleGlobal && type.module === 'torch' ? TORCH_STORAGE_DTYPES[type.name] : undefined;
      if (dtype === undefined) return bad(`persistent id storage type ${type instanceof PickleGlobal ? type.qualified : String(type)} is not a typed storage`);
      const key = str(keyV, 'storage key');
      const numel = int(numelV, `storage "${key}" numel`);
      if (numel < 0) return bad(`storage "${key}" has ${numel} elements`);
      const prev = storages.get(key);
      if (prev) {
        // torch.save refuses to save one storage viewed as two dtypes, so a file that does is forged.
        if (prev.dtype !== dtype || prev.numel !== numel) return bad(`storage "${key}" is declared as ${prev.dtype}[${prev.numel}] and as ${dtype}[${numel}]`);
        return prev;
      }
      const s = new TorchStorage(key, dtype, str(locV, `storage "${key}" location`), numel);
      storages.set(key, s);
      return s;
    },
    call(fn, args) {
      const q = fn.qualified;
      if (q === 'collections.OrderedDict') {
        const d = new Map<unknown, unknown>();
        // OrderedDict([(k, v), ...]) is legal though torch never writes it.
        const init = args[0];
        if (Array.isArray(init)) {
          for (const pair of init) {
            if (!(pair instanceof PickleTuple) || pair.items.length !== 2) return bad('OrderedDict built from something other than (key, value) pairs');
            d.set(pair.items[0], pair.items[1]);
          }
        }
        return d;
      }
      if (q === 'torch.Size') {
        return new PickleTuple(ints(args[0] ?? new PickleTuple([]), 'torch.Size'));
      }
      if (q === 'torch._utils._rebuild_tensor_v2' || q === 'torch._utils._rebuild_tensor') {
        const [storage, offsetV, sizeV, strideV] = args;
        if (!(storage instanceof TorchStorage)) return bad(`${fn.name} called without a storage`);
        const shape = ints(sizeV, 'size');
        const stride = ints(strideV, 'stride');
        if (shape.length !== stride.length) return bad(`tensor with size [${shape.join(', ')}] and stride [${stride.join(', ')}] of different lengths`);
        const offset = int(offsetV, 'storage offset');
        if (offset < 0 || shape.some((d) => d < 0) || stride.some((s) => s < 0)) {
          return bad(`tensor with negative offset, size or stride (offset ${offset}, size [${shape.join(', ')}], stride [${stride.join(', ')}])`);
        }
        return new TorchTensor(storage, offset, shape, stride);
      }
      if (q === 'torch._utils._rebuild_parameter' || q === 'torch._utils._rebuild_parameter_with_state') {
        // A Parameter is its data tensor plus autograd flags we do not need.
        return args[0] instanceof TorchTensor ? args[0] : bad(`${fn.name} called without a tensor`);
      }
      return bad(`a call to ${q}, which is data, not a function`);
    },
  });
  return { root, storages };
}
