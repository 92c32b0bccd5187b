/**
 * Writes pickle opcodes one by one (names as in CPython's Lib/pickletools.py), so a test reads
 * like a `pickletools.dis` listing of the stream it builds.
 */
export class PickleWriter {
  private out: number[] = [];

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
  raw(...b: number[]): this {
    this.out.push(...b);
    return this;
  }
  private u32(v: number): this {
    return this.raw(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  private u64(v: number): this {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  private utf8(s: string): number[] {
    return [...new TextEncoder().encode(s)];
  }

  proto(v: number) { return this.raw(0x80, v); }
  frame(len: number) { return this.raw(0x95).u64(len); }
  stop() { return this.raw(0x2e); }
  mark() { return this.raw(0x28); }
  emptyDict() { return this.raw(0x7d); }
  emptyList() { return this.raw(0x5d); }
  emptyTuple() { return this.raw(0x29); }
  tuple() { return this.raw(0x74); }
  tuple1() { return this.raw(0x85); }
  tuple2() { return this.raw(0x86); }
  tuple3() { return this.raw(0x87); }
  none() { return this.raw(0x4e); }
  newTrue() { return this.raw(0x88); }
  newFalse() { return this.raw(0x89); }
  binint1(v: number) { return this.raw(0x4b, v); }
  binint2(v: number) { return this.raw(0x4d, v & 0xff, v >> 8); }
  binint(v: number) { return this.raw(0x4a).u32(v >>> 0); }
  /** LONG1 with the minimal two's-complement little-endian encoding. */
  long1(v: bigint) {
    const b: number[] = [];
    let x = v;
    while (!(b.length > 0 && ((x === 0n && !(b[b.length - 1]! & 0x80)) || (x === -1n && b[b.length - 1]! & 0x80)))) {
      b.push(Number(x & 0xffn));
      x >>= 8n;
    }
    return this.raw(0x8a, b.length, ...b);
  }
  binfloat(v: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.raw(0x47, ...b);
  }
  binunicode(s: string) {
    const b = this.utf8(s);
    return this.raw(0x58).u32(b.length).raw(...b);
  }
  shortBinunicode(s: string) {
    const b = this.utf8(s);
    return this.raw(0x8c, b.length, ...b);
  }
  global(module: string, name: string) { return this.raw(0x63, ...this.utf8(`${module}\n${name}\n`)); }
  stackGlobal() { return this.raw(0x93); }
  binput(i: number) { return this.raw(0x71, i); }
  longBinput(i: number) { return this.raw(0x72).u32(i); }
  memoize() { return this.raw(0x94); }
  binget(i: number) { return this.raw(0x68, i); }
  longBinget(i: number) { return this.raw(0x6a).u32(i); }
  reduce() { return this.raw(0x52); }
  build() { return this.raw(0x62); }
  newobj() { return this.raw(0x81); }
  binpersid() { return this.raw(0x51); }
  setitem() { return this.raw(0x73); }
  setitems() { return this.raw(0x75); }
  append() { return this.raw(0x61); }
  appends() { return this.raw(0x65); }
  pop() { return this.raw(0x30); }
}

export interface TensorSpec {
  name: string;
  storage: string;
  storageType: string; // FloatStorage, HalfStorage, ...
  numel: number;
  offset: number;
  size: number[];
  stride: number[];
}

/**
 * The exact protocol-2 stream torch.save(model.state_dict()) writes (torch/serialization.py
 * _save with DEFAULT_PROTOCOL = 2 and the standard pickler), for a flat OrderedDict of tensors:
 *
 *   \x80\x02 c collections\nOrderedDict\n q\x00 ) R q\x01 (
 *     X<key> q.. c torch._utils\n_rebuild_tensor_v2\n q.. ( ( X'storage' q.. c torch\nFloatStorage\n q..
 *       X'0' q.. X'cpu' q.. K<numel> t q.. Q K<offset> K.. K.. \x86 q.. K.. K.. \x86 q.. \x89
 *       h\x00 ) R q.. t q.. R q..
 *     ... u
 *   } q.. X'_metadata' q.. h\x00 ) R q.. ( X'' q.. } q.. X'version' q.. K\x01 s ... u s b .
 *
 * Strings, globals and non-empty tuples are memoized (BINPUT), a repeated one is fetched with
 * BINGET; the empty tuple and small ints are not. Checked against real torch.save byte streams
 * quoted in public code (e.g. "\x80\x02ctorch._utils\n_rebuild_tensor_v2\nq\x00((X\x07\x00\x00\x00
 * storageq\x01ctorch\nFloatStorage\nq\x02X\x01\x00\x00\x000q\x03X\x03\x00\x00\x00cpuq\x04...tq\x05Q
 * K\x00...\x89ccollections\nOrderedDict\nq\x08)Rq\ttq\nRq\x0b.").
 */
export function torchStateDictPickle(tensors: TensorSpec[], metadataKeys: string[] = ['']): Uint8Array {
  const w = new PickleWriter();
  const memo = new Map<string, number>();
  let next = 0;
  const put = () => w.binput(next++);
  /** Save a string or global once, then BINGET it, as the pickler's memo does. */
  const str = (s: string) => {
    const k = `s:${s}`;
    if (memo.has(k)) return w.binget(memo.get(k)!);
    memo.set(k, next);
    w.binunicode(s);
    return put();
  };
  const glob = (m: string, n: string) => {
    const k = `g:${m}.${n}`;
    if (memo.has(k)) return w.binget(memo.get(k)!);
    memo.set(k, next);
    w.global(m, n);
    return put();
  };
  const smallInt = (v: number) => (v < 256 ? w.binint1(v) : v < 65536 ? w.binint2(v) : w.binint(v));
  const intTuple = (xs: number[]) => {
    if (xs.length === 0) return w.emptyTuple();
    if (xs.length > 3) w.mark();
    xs.forEach(smallInt);
    if (xs.length === 1) w.tuple1();
    else if (xs.length === 2) w.tuple2();
    else if (xs.length === 3) w.tuple3();
    else w.tuple();
    return put();
  };

  w.proto(2);
  glob('collections', 'OrderedDict');
  w.emptyTuple().reduce();
  put();
  if (tensors.length > 1) w.mark();
  for (const t of tensors) {
    str(t.name);
    glob('torch._utils', '_rebuild_tensor_v2');
    w.mark(); // args tuple of 6
    w.mark(); // persistent id tuple of 5
    str('storage');
    glob('torch', t.storageType);
    str(t.storage);
    str('cpu');
    smallInt(t.numel);
    w.tuple();
    put();
    w.binpersid();
    smallInt(t.offset);
    intTuple(t.size);
    intTuple(t.stride);
    w.newFalse(); // requires_grad
    glob('collections', 'OrderedDict'); // backward_hooks = OrderedDict()
    w.emptyTuple().reduce();
    put();
    w.tuple();
    put();
    w.reduce();
    put();
  }
  if (tensors.length > 1) w.setitems();
  else if (tensors.length === 1) w.setitem();
  // state = {'_metadata': OrderedDict({'': {'version': 1}, ...})}, applied with BUILD
  w.emptyDict();
  put();
  str('_metadata');
  glob('collections', 'OrderedDict');
  w.emptyTuple().reduce();
  put();
  if (metadataKeys.length > 1) w.mark();
  for (const k of metadataKeys) {
    str(k);
    w.emptyDict();
    put();
    str('version');
    w.binint1(1);
    w.setitem();
  }
  if (metadataKeys.length > 1) w.setitems();
  else if (metadataKeys.length === 1) w.setitem();
  w.setitem();
  w.build();
  w.stop();
  return w.bytes();
}
