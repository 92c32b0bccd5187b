import { describe, expect, it } from 'vitest';
import { memorySource, singleFileModel, type ByteSource } from '@/lib/io/byte-source';
import { readGguf } from '@/lib/formats/read-gguf';
import { METADATA_KEEP_ITEMS, METADATA_KEEP_STRING_BYTES } from '@/lib/formats/gguf/read-gguf-value';
import { buildGguf, type GgufValue } from './gguf-writer';

async function metadataOf(kv: [string, GgufValue][], version = 3): Promise<Record<string, unknown>> {
  const src = await readGguf(singleFileModel(memorySource(buildGguf({ version, kv }), 'm.gguf')));
  return src.metadata;
}

const s = (value: string): GgufValue => ({ type: 'string', value });
const i32 = (value: number): GgufValue => ({ type: 'i32', value });
const seq16 = () => Array.from({ length: 16 }, (_, i) => i);

describe('GGUF metadata values', () => {
  it('every scalar type', async () => {
    const m = await metadataOf([
      ['a.u8', { type: 'u8', value: 255 }],
      ['a.i8', { type: 'i8', value: -128 }],
      ['a.u16', { type: 'u16', value: 65535 }],
      ['a.i16', { type: 'i16', value: -32768 }],
      ['a.u32', { type: 'u32', value: 4294967295 }],
      ['a.i32', { type: 'i32', value: -2147483648 }],
      ['a.f32', { type: 'f32', value: 1.5 }],
      ['a.f64', { type: 'f64', value: Math.PI }],
      ['a.bool.t', { type: 'bool', value: true }],
      ['a.bool.f', { type: 'bool', value: false }],
      ['a.u64', { type: 'u64', value: 123456789012345n }],
      ['a.i64', { type: 'i64', value: -9007199254740991n }],
      ['a.string', s('Llama 3 — 8B 🦙')],
      ['a.empty', s('')],
    ]);
    expect(m).toMatchObject({
      'a.u8': 255, 'a.i8': -128, 'a.u16': 65535, 'a.i16': -32768, 'a.u32': 4294967295, 'a.i32': -2147483648,
      'a.f32': 1.5, 'a.f64': Math.PI, 'a.bool.t': true, 'a.bool.f': false,
      'a.u64': 123456789012345, 'a.i64': -9007199254740991, 'a.string': 'Llama 3 — 8B 🦙', 'a.empty': '',
    });
    expect(m['gguf.version']).toBe(3);
  });

  it('stays JSON-safe: 64-bit integers past 2^53 become strings, non-finite floats become names', async () => {
    const m = await metadataOf([
      ['big.u64', { type: 'u64', value: 2n ** 64n - 1n }],
      ['big.i64', { type: 'i64', value: -(2n ** 63n) }],
      ['f.nan', { type: 'f32', value: NaN }],
      ['f.inf', { type: 'f64', value: -Infinity }],
    ]);
    expect(m['big.u64']).toBe('18446744073709551615');
    expect(m['big.i64']).toBe('-9223372036854775808');
    expect(m['f.nan']).toBe('NaN');
    expect(m['f.inf']).toBe('-Infinity');
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('arrays, including nested arrays and an empty one', async () => {
    const m = await metadataOf([
      ['arr.i32', { type: 'array', itemType: 'i32', items: [i32(1), i32(-2), i32(3)] }],
      ['arr.str', { type: 'array', itemType: 'string', items: [s('a'), s('bc')] }],
      ['arr.bool', { type: 'array', itemType: 'bool', items: [{ type: 'bool', value: true }, { type: 'bool', value: false }] }],
      ['arr.empty', { type: 'array', itemType: 'f32', items: [] }],
      ['arr.nested', {
        type: 'array', itemType: 'array', items: [
          { type: 'array', itemType: 'i32', items: [i32(1), i32(2)] },
          { type: 'array', itemType: 'string', items: [s('x')] },
          { type: 'array', itemType: 'array', items: [{ type: 'array', itemType: 'u8', items: [{ type: 'u8', value: 7 }] }] },
        ],
      }],
      ['after', s('still parsed')],
    ]);
    expect(m['arr.i32']).toEqual([1, -2, 3]);
    expect(m['arr.str']).toEqual(['a', 'bc']);
    expect(m['arr.bool']).toEqual([true, false]);
    expect(m['arr.empty']).toEqual([]);
    expect(m['arr.nested']).toEqual([[1, 2], ['x'], [[7]]]);
    expect(m['after']).toBe('still parsed');
  });

  it('a 150k-string vocab is summarised as its length and first 16 items, read in a few chunks', async () => {
    const n = 150_000;
    const vocab: GgufValue = { type: 'array', itemType: 'string', items: Array.from({ length: n }, (_, i) => s(`▁token_${i}`)) };
    const scores: GgufValue = { type: 'array', itemType: 'f32', items: Array.from({ length: n }, (_, i) => ({ type: 'f32', value: -i })) };
    const nestedLong: GgufValue = {
      type: 'array', itemType: 'array',
      items: Array.from({ length: 40 }, (_, i) => ({ type: 'array', itemType: 'string', items: Array.from({ length: 20 }, (_, j) => s(`${i}.${j}`)) })),
    };
    const bytes = buildGguf({ kv: [['tokenizer.ggml.tokens', vocab], ['tokenizer.ggml.scores', scores], ['nested.long', nestedLong], ['general.name', s('big vocab')]] });
    expect(bytes.length).toBeGreaterThan(2_000_000);
    const reads: number[] = [];
    const inner = memorySource(bytes, 'vocab.gguf');
    const counted: ByteSource = { name: inner.name, size: inner.size, read: (o, l, sig) => (reads.push(l), inner.read(o, l, sig)) };
    const m = (await readGguf(singleFileModel(counted))).metadata;
    expect(m['tokenizer.ggml.tokens']).toEqual({ itemType: 'string', length: n, head: Array.from({ length: 16 }, (_, i) => `▁token_${i}`) });
    expect(m['tokenizer.ggml.scores']).toEqual({ itemType: 'f32', length: n, head: Array.from({ length: 16 }, (_, i) => -i) });
    const nl = m['nested.long'] as { length: number; head: { length: number; head: string[] }[] };
    expect(nl.length).toBe(40);
    expect(nl.head.length).toBe(16);
    expect(nl.head[3]).toEqual({ itemType: 'string', length: 20, head: Array.from({ length: 16 }, (_, j) => `3.${j}`) });
    expect(m['general.name']).toBe('big vocab');
    expect(JSON.stringify(m).length).toBeLessThan(20_000);
    expect(reads.length).toBeLessThan(10);
  });

  it('a very long string is cut in metadata, and parsing continues after it', async () => {
    const long = 'x'.repeat(200_000);
    const m = await metadataOf([['tokenizer.chat_template', s(long)], ['next', i32(5)]]);
    const kept = m['tokenizer.chat_template'] as string;
    expect(kept.startsWith('x'.repeat(65536))).toBe(true);
    expect(kept.endsWith('… (200000 bytes)')).toBe(true);
    expect(m['next']).toBe(5);
  });

  it('what a header keeps is bounded in total, however its arrays nest', async () => {
    const u8 = (value: number): GgufValue => ({ type: 'u8', value });
    const cube: GgufValue = {
      type: 'array', itemType: 'array', items: Array.from({ length: 16 }, () => ({
        type: 'array', itemType: 'array', items: Array.from({ length: 16 }, () => ({ type: 'array', itemType: 'u8', items: Array.from({ length: 16 }, (_, i) => u8(i)) })),
      })),
    }; // 16 + 256 + 4096 kept items each
    const kv: [string, GgufValue][] = Array.from({ length: 30 }, (_, i) => [`cube.${i}`, cube]);
    kv.push(['last', s('kept')]);
    const m = await metadataOf(kv);
    let items = 0;
    const count = (v: unknown): void => {
      const list = Array.isArray(v) ? v : (v as { head?: unknown[] }).head;
      if (!list) return;
      items += list.length;
      list.forEach(count);
    };
    for (let i = 0; i < 30; i++) count(m[`cube.${i}`]);
    expect(items).toBeLessThanOrEqual(METADATA_KEEP_ITEMS);
    expect(items).toBeGreaterThan(METADATA_KEEP_ITEMS - 16);
    expect(m['cube.0']).toEqual(Array.from({ length: 16 }, () => Array.from({ length: 16 }, () => seq16())));
    expect(m['cube.29']).toEqual({ itemType: 'array', length: 16, head: [] });
    expect(m['last']).toBe('kept');
  });

  it('string bytes kept are bounded in total', async () => {
    const n = Math.ceil(METADATA_KEEP_STRING_BYTES / 65536) + 2;
    const kv: [string, GgufValue][] = Array.from({ length: n }, (_, i) => [`s.${i}`, s('y'.repeat(65536))]);
    const m = await metadataOf(kv);
    expect(m['s.0']).toBe('y'.repeat(65536));
    expect(m[`s.${n - 1}`]).toBe('… (65536 bytes)');
    const kept = Object.values(m).reduce<number>((a, v) => a + (typeof v === 'string' ? v.replace(/… \(\d+ bytes\)$/, '').length : 0), 0);
    expect(kept).toBe(METADATA_KEEP_STRING_BYTES);
  });

  it('a key named __proto__ stays plain data', async () => {
    const m = await metadataOf([['__proto__', s('not a prototype')], ['constructor', i32(1)]]);
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(m, '__proto__')?.value).toBe('not a prototype');
    expect(m['constructor']).toBe(1);
  });

  it('GGUF v2 files read the same way', async () => {
    const m = await metadataOf([['general.name', s('v2')], ['n', { type: 'u64', value: 7n }]], 2);
    expect(m['gguf.version']).toBe(2);
    expect(m['general.name']).toBe('v2');
    expect(m['n']).toBe(7);
  });
});
