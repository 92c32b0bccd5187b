import { describe, expect, it } from 'vitest';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { PickleGlobal, PickleSet, PickleTuple, unpickle, type UnpickleHooks } from '@/lib/formats/pickle/unpickle';
import { collectTensors } from '@/lib/formats/pickle/collect-tensors';
import { TorchStorage, TorchTensor } from '@/lib/formats/pickle/torch-unpickle';
import { readZipModel } from '@/lib/formats/read-zip-model';
import { FormatError, LimitError } from '@/lib/base/errors';
import { MAX_PICKLE_BYTES } from '@/lib/base/limits';
import { buildZip } from '../zip/build-zip';
import { PickleWriter } from './build-pickle';

/** Hooks that allow nothing: plain-data pickles need no globals. */
const noGlobals: UnpickleHooks = {
  allowGlobal: () => false,
  call: () => {
    throw new Error('unreachable');
  },
  persistentLoad: () => {
    throw new Error('unreachable');
  },
};
const run = (w: PickleWriter, maxOps?: number) => unpickle(w.bytes(), 't.pkl', noGlobals, maxOps);
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('unpickle: plain data', () => {
  it('builds dicts, lists, tuples, numbers and strings', () => {
    const w = new PickleWriter().proto(2).emptyDict().mark();
    w.binunicode('ints').mark().binint1(7).binint2(300).binint(-5).long1(-129n).long1(2n ** 60n).tuple();
    w.binunicode('f').binfloat(-0.375);
    w.binunicode('flags').newTrue().newFalse().none().tuple3();
    w.binunicode('list').emptyList().mark().binint1(1).binint1(2).appends().binint1(3).append();
    w.binunicode('utf8').shortBinunicode('größe');
    w.setitems().stop();
    const d = run(w) as Map<string, unknown>;
    expect((d.get('ints') as PickleTuple).items).toEqual([7, 300, -5, -129, 2n ** 60n]);
    expect(d.get('f')).toBe(-0.375);
    expect((d.get('flags') as PickleTuple).items).toEqual([true, false, null]);
    expect(d.get('list')).toEqual([1, 2, 3]);
    expect(d.get('utf8')).toBe('größe');
  });

  it('shares memoized objects (BINPUT/BINGET, LONG_BINPUT/LONG_BINGET, DUP, POP, POP_MARK)', () => {
    const w = new PickleWriter().proto(2).emptyList().binput(0).longBinput(70000);
    w.binget(0).append(); // the list contains itself
    w.mark().binint1(9).binint1(9).raw(0x31); // POP_MARK discards the marked items
    w.binint1(1).raw(0x32).pop().pop(); // DUP then POP twice
    w.longBinget(70000).pop().stop();
    const l = run(w) as unknown[];
    expect(l[0]).toBe(l);
  });

  it('treats sets as listable data', () => {
    const w = new PickleWriter().proto(4).raw(0x8f).mark().binint1(1).binint1(2).raw(0x90).stop();
    expect((run(w) as PickleSet).items).toEqual([1, 2]);
  });
});

describe('unpickle: hostile streams', () => {
  it('refuses any global the hooks do not allow, naming it', () => {
    const e = codeOf(() => run(new PickleWriter().proto(2).global('nt', 'system').stop())) as FormatError;
    expect(e).toBeInstanceOf(FormatError);
    expect(e.code).toBe('forbidden-pickle');
    expect(e.message).toMatch(/^t\.pkl: pickle imports nt\.system at byte 2/);
  });

  for (const [op, name] of [[0x82, 'EXT1'], [0x83, 'EXT2'], [0x84, 'EXT4'], [0x6f, 'OBJ'], [0x97, 'NEXT_BUFFER'], [0x98, 'READONLY_BUFFER'], [0x56, 'UNICODE']] as const) {
    it(`refuses opcode ${name}`, () => {
      const e = codeOf(() => run(new PickleWriter().proto(2).raw(op, 1, 0, 0, 0).stop())) as FormatError;
      expect(e.code).toBe('forbidden-pickle');
      expect(e.message).toContain(`(${name}) at byte 2`);
    });
  }

  it('refuses a memo key that was never stored', () => {
    const e = codeOf(() => run(new PickleWriter().proto(2).binget(5).stop())) as FormatError;
    expect(e.code).toBe('bad-pickle');
    expect(e.message).toBe('t.pkl: memo key 5 is not defined at byte 2');
  });

  it('refuses stack underflow and a TUPLE without MARK', () => {
    expect(codeOf(() => run(new PickleWriter().proto(2).tuple2().stop()))).toMatchObject({ code: 'bad-pickle' });
    expect(codeOf(() => run(new PickleWriter().proto(2).tuple().stop()))).toMatchObject({ code: 'bad-pickle' });
  });

  it('refuses a string length past the end of the pickle', () => {
    const w = new PickleWriter().proto(2).raw(0x58, 0xff, 0xff, 0xff, 0x7f, 0x41).stop();
    expect(codeOf(() => run(w))).toMatchObject({ code: 'truncated' });
  });

  it('stops after MAX_PICKLE_OPS opcodes', () => {
    const w = new PickleWriter().proto(2);
    for (let i = 0; i < 100; i++) w.none().pop();
    w.none().stop();
    expect(run(w, 1000)).toBeNull();
    const e = codeOf(() => run(w, 50));
    expect(e).toBeInstanceOf(LimitError);
    expect((e as Error).message).toBe('t.pkl: pickle runs more than 50 opcodes (MAX_PICKLE_OPS)');
  });

  it('refuses a REDUCE whose arguments are not a tuple', () => {
    const hooks: UnpickleHooks = { ...noGlobals, allowGlobal: () => true, call: () => null };
    const e = codeOf(() => unpickle(new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyList().reduce().stop().bytes(), 'r.pkl', hooks));
    expect(e).toMatchObject({ code: 'bad-pickle' });
  });

  it('refuses a data.pkl declared larger than MAX_PICKLE_BYTES before inflating it', async () => {
    const pkl = new PickleWriter().proto(2).none().stop().bytes();
    const z = buildZip([{ name: 'archive/data.pkl', data: pkl, method: 8, cdUncompressedSize: MAX_PICKLE_BYTES + 1 }]);
    const e = await readZipModel(singleFileModel(memorySource(z.bytes, 'huge.pt'))).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LimitError);
    expect((e as Error).message).toMatch(/^huge\.pt: member "archive\/data\.pkl" is .* over MAX_PICKLE_BYTES/);
  });
});

describe('collectTensors', () => {
  const t = new TorchTensor(new TorchStorage('0', 'F32', 'cpu', 4), 0, [4], [1]);

  it('names tensors by path and survives cycles and shared containers', () => {
    const a = new Map<unknown, unknown>([['w', t]]);
    const cyc: unknown[] = [];
    cyc.push(cyc, a);
    // A chain where each level references the previous one twice: 2^40 paths if walked naively.
    let level: unknown = new Map([['leaf', t]]);
    for (let i = 0; i < 40; i++) level = new PickleTuple([level, level]);
    const root = new Map<unknown, unknown>([
      ['model', a],
      ['again', a],
      ['cycle', cyc],
      ['deep', level],
      [new PickleTuple([1, 2]), t], // a tuple key has no name
      [3, new PickleGlobal('torch', 'float32')],
    ]);
    const { tensors, skippedKeys } = collectTensors(root, 'x');
    expect(tensors.map((n) => n.name)).toEqual(['model.w', `deep${'.0'.repeat(40)}.leaf`]);
    expect(skippedKeys).toBe(1);
  });

  it('keeps two tensors whose paths spell the same name', () => {
    const root = new Map<unknown, unknown>([
      ['a.b', t],
      ['a', new Map([['b', t]])],
    ]);
    expect(collectTensors(root, 'x').tensors.map((n) => n.name)).toEqual(['a.b', 'a.b#2']);
  });

  it('names a bare tensor (torch.save(tensor)) "tensor"', () => {
    expect(collectTensors(t, 'x').tensors.map((n) => n.name)).toEqual(['tensor']);
  });
});
