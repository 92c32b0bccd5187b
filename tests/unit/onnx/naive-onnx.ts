/**
 * Test helper: a second, deliberately naive ONNX walker that holds the whole file in memory and
 * recurses, so tests can check the streaming reader against an independent path. It trusts its
 * input (only used on real, valid models) and reads raw_data tensors only.
 */

export interface NaiveTensor {
  /** Initializer name, or the Constant node's output name. */
  name: string;
  dims: number[];
  dataType: number;
  raw?: Uint8Array;
  kind: 'initializer' | 'constant';
  depth: number; // 0 = main graph
}

export interface NaiveNode {
  op: string;
  inputs: string[];
  outputs: string[];
  depth: number;
}

export function naiveOnnx(bytes: Uint8Array): { tensors: NaiveTensor[]; nodes: NaiveNode[] } {
  const tensors: NaiveTensor[] = [];
  const nodes: NaiveNode[] = [];
  const text = new TextDecoder();

  function* fields(start: number, end: number): Generator<{ f: number; w: number; v: number; a: number; b: number }> {
    let p = start;
    const vint = () => {
      let r = 0;
      let m = 1;
      for (;;) {
        const c = bytes[p++]!;
        r += (c & 0x7f) * m;
        m *= 128;
        if (!(c & 0x80)) return r;
      }
    };
    while (p < end) {
      const t = vint();
      const f = Math.floor(t / 8);
      const w = t % 8;
      if (w === 0) yield { f, w, v: vint(), a: 0, b: 0 };
      else if (w === 1) (p += 8);
      else if (w === 5) (p += 4);
      else {
        const len = vint();
        yield { f, w, v: len, a: p, b: p + len };
        p += len;
      }
    }
  }
  const str = (a: number, b: number) => text.decode(bytes.subarray(a, b));

  function tensor(a: number, b: number, kind: NaiveTensor['kind'], depth: number, name?: string): void {
    const t: NaiveTensor = { name: name ?? '', dims: [], dataType: 0, kind, depth };
    for (const x of fields(a, b)) {
      if (x.f === 1 && x.w === 0) t.dims.push(x.v);
      else if (x.f === 2) t.dataType = x.v;
      else if (x.f === 8 && name === undefined) t.name = str(x.a, x.b);
      else if (x.f === 9) t.raw = bytes.subarray(x.a, x.b);
    }
    tensors.push(t);
  }

  function graph(a: number, b: number, depth: number): void {
    for (const x of fields(a, b)) {
      if (x.f === 1) node(x.a, x.b, depth);
      else if (x.f === 5) tensor(x.a, x.b, 'initializer', depth);
    }
  }

  function node(a: number, b: number, depth: number): void {
    const n: NaiveNode = { op: '', inputs: [], outputs: [], depth };
    const attrs: [number, number][] = [];
    for (const x of fields(a, b)) {
      if (x.f === 1) n.inputs.push(str(x.a, x.b));
      else if (x.f === 2) n.outputs.push(str(x.a, x.b));
      else if (x.f === 4) n.op = str(x.a, x.b);
      else if (x.f === 5) attrs.push([x.a, x.b]);
    }
    nodes.push(n);
    for (const [aa, ab] of attrs) {
      for (const x of fields(aa, ab)) {
        if (x.f === 5 && n.op === 'Constant') tensor(x.a, x.b, 'constant', depth, n.outputs[0]);
        if (x.f === 6) graph(x.a, x.b, depth + 1);
      }
    }
  }

  for (const x of fields(0, bytes.length)) if (x.f === 7) graph(x.a, x.b, 0);
  return { tensors, nodes };
}
