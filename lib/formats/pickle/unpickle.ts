import { FormatError, LimitError } from '../../base/errors';
import { MAX_PICKLE_BYTES, MAX_PICKLE_OPS } from '../../base/limits';
import { fmtBytes } from '../../base/assert';

/**
 * A restricted unpickler: a stack machine over the pickle opcodes that checkpoints actually use
 * (protocols 2-5), which never imports or calls anything. A GLOBAL/STACK_GLOBAL naming something
 * outside the caller's allowlist is refused where it appears, before any REDUCE could call it;
 * opcodes that can reach arbitrary callables another way (INST, OBJ, the extension registry,
 * out-of-band buffers) and any unknown byte are refused too. Calls to allowed globals are
 * answered by the caller's hooks with plain data.
 * Opcode reference: CPython Lib/pickle.py and Lib/pickletools.py.
 */

/** A Python tuple (kept apart from lists: torch sizes and persistent ids are tuples). */
export class PickleTuple {
  constructor(readonly items: unknown[]) {}
}

/** A Python set / frozenset (optimizer states sometimes hold them); only listed, never used. */
export class PickleSet {
  constructor(readonly items: unknown[]) {}
}

/** A reference to an allowed global (a function, class or constant object such as torch.float32). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A Python dict (insertion-ordered, like Python's); OrderedDict becomes one too. */
export type PickleDict = Map<unknown, unknown>;

export interface UnpickleHooks {
  /** Whether module.name may appear in this pickle at all. */
  allowGlobal(module: string, name: string): boolean;
  /** REDUCE / NEWOBJ on an allowed global: return plain data standing in for the result. */
  call(fn: PickleGlobal, args: unknown[]): unknown;
  /** BINPERSID: PyTorch storages are persistent ids. */
  persistentLoad(pid: unknown): unknown;
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1',
  0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/** LONG4 can encode a Python int of 2^32 bytes; no checkpoint structure needs more than a few. */
const MAX_LONG_BYTES = 64;
/** GLOBAL's module and name are text lines; real ones are under 100 characters. */
const MAX_GLOBAL_LINE_BYTES = 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function unpickle(bytes: Uint8Array, file: string, hooks: UnpickleHooks, maxOps = MAX_PICKLE_OPS): unknown {
  if (bytes.length > MAX_PICKLE_BYTES) {
    throw new LimitError('pickle-bytes', `${file}: pickle of ${fmtBytes(bytes.length)} bytes exceeds the limit of ${fmtBytes(MAX_PICKLE_BYTES)}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let opStart = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const bad = (what: string): never => {
    throw new FormatError('bad-pickle', `${file}: ${what} at byte ${opStart}`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) {
      throw new FormatError('truncated', `${file}: pickle ends at byte ${bytes.length} inside an opcode starting at byte ${opStart} (needs ${n} more bytes)`);
    }
  };
  const u8 = () => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = () => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = Number(dv.getBigUint64(pos, true));
    pos += 8;
    return v;
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const text = (n: number): string => {
    try {
      return utf8.decode(take(n));
    } catch (e) {
      if (e instanceof FormatError) throw e;
      return bad('a string that is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > MAX_GLOBAL_LINE_BYTES) return bad('a GLOBAL name without a newline');
    const s = text(end - pos);
    pos++;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) return bad('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) return bad('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) return bad('no MARK to pop to');
    stack = prev;
    return items;
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) return bad(`memo key ${i} is not defined`);
    return memo.get(i);
  };
  const toInt = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const global = (module: string, name: string): PickleGlobal => {
    if (!hooks.allowGlobal(module, name)) {
      throw new FormatError(
        'forbidden-pickle',
        `${file}: pickle imports ${module}.${name} at byte ${opStart}; WeightLens only rebuilds tensors and dicts and never runs code from a checkpoint`,
      );
    }
    return new PickleGlobal(module, name);
  };
  const callable = (fn: unknown): PickleGlobal => (fn instanceof PickleGlobal ? fn : bad('a call on something that is not an allowed global'));
  const asTuple = (v: unknown): unknown[] => (v instanceof PickleTuple ? v.items : bad('call arguments that are not a tuple'));
  const setItems = (target: unknown, kv: unknown[]) => {
    if (!(target instanceof Map)) return bad('SETITEM on something that is not a dict');
    if (kv.length % 2) return bad('SETITEMS with an odd number of items');
    for (let k = 0; k < kv.length; k += 2) target.set(kv[k], kv[k + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (Array.isArray(target)) {
      for (const it of items) target.push(it);
    } else if (target instanceof PickleSet) {
      for (const it of items) target.items.push(it);
    } else bad('APPEND on something that is not a list');
  };

  let ops = 0;
  for (;;) {
    if (pos >= bytes.length) throw new FormatError('truncated', `${file}: pickle ends at byte ${bytes.length} without a STOP opcode`);
    if (++ops > maxOps) throw new LimitError('pickle-ops', `${file}: pickle runs more than ${maxOps} opcodes (MAX_PICKLE_OPS)`);
    opStart = pos;
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) bad(`pickle protocol ${v} (WeightLens reads 2-5)`);
        break;
      }
      case 0x95: // FRAME: a length prefix only; the data follows inline
        u64();
        break;
      case 0x2e: { // STOP
        const result = pop();
        return result;
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: // LONG1
        stack.push(toInt(take(u8())));
        break;
      case 0x8b: { // LONG4
        const n = u32();
        if (n > MAX_LONG_BYTES) bad(`a ${n}-byte integer`);
        stack.push(toInt(take(n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      // Python 2 str; torch.load decodes them as UTF-8.
      case 0x54: { // BINSTRING
        need(4);
        const n = dv.getInt32(pos, true);
        pos += 4;
        if (n < 0) bad('a negative string length');
        stack.push(text(n));
        break;
      }
      case 0x55: stack.push(text(u8())); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x29: stack.push(new PickleTuple([])); break; // EMPTY_TUPLE
      case 0x85: stack.push(new PickleTuple([pop()])); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      }
      // popMark() replaces `stack`, so take its result before naming `stack` again.
      case 0x74: { // TUPLE
        const items = popMark();
        stack.push(new PickleTuple(items));
        break;
      }
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: { // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: stack.push(new PickleSet([])); break; // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: { // FROZENSET
        const items = popMark();
        stack.push(new PickleSet(items));
        break;
      }
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') bad('STACK_GLOBAL with non-string module or name');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = asTuple(pop());
        const fn = callable(pop());
        stack.push(hooks.call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = asTuple(pop());
        const cls = callable(pop());
        stack.push(hooks.call(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX: keyword arguments are refused unless empty
        const kwargs = pop();
        const args = asTuple(pop());
        const cls = callable(pop());
        if (!(kwargs instanceof Map) || kwargs.size) bad('NEWOBJ_EX with keyword arguments');
        stack.push(hooks.call(cls, args));
        break;
      }
      case 0x62: // BUILD: object state (OrderedDict._metadata, parameter state) carries no weights; dropped
        pop();
        top();
        break;
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      default: {
        const name = OPCODE_NAMES[op];
        const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
        throw new FormatError(
          'forbidden-pickle',
          `${file}: pickle opcode 0x${op.toString(16).padStart(2, '0')}${ch}${name ? ` (${name})` : ' (unknown)'} at byte ${opStart} is not allowed`,
        );
      }
    }
  }
}
