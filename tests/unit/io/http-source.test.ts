import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openHttpModel, openHttpSource } from '@/lib/io/http-source';
import { openModel } from '@/lib/formats/registry';
import { writeSafetensors } from '@/lib/formats/write-safetensors';

/**
 * A real static server on 127.0.0.1 answering Range requests with 206 + Content-Range, like
 * Hugging Face's CDN. Paths under /no-range/ ignore Range (200 + whole body), as some servers do.
 * It counts the body bytes it sends, to prove what opening a model downloads.
 */
function startServer(files: Map<string, Uint8Array>) {
  const stats = { bodyBytes: 0, requests: [] as string[], seen: new Set<string>() };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ignoreRange = url.pathname.startsWith('/no-range/');
    const body = files.get(ignoreRange ? url.pathname.slice('/no-range'.length) : url.pathname);
    stats.requests.push(`${req.method} ${url.pathname} ${req.headers.range ?? ''}`);
    if (url.pathname.startsWith('/gated/')) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('forbidden');
      return;
    }
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (ignoreRange || !m) {
      stats.bodyBytes += body.byteLength;
      res.writeHead(200, { 'content-length': body.byteLength, 'accept-ranges': ignoreRange ? 'none' : 'bytes' });
      res.end(body);
      return;
    }
    const start = Number(m[1]);
    const end = Math.min(m[2] ? Number(m[2]) : body.byteLength - 1, body.byteLength - 1);
    if (start > end) {
      res.writeHead(416, { 'content-range': `bytes */${body.byteLength}` });
      res.end();
      return;
    }
    // /flaky/: the first answer to each range is a 206 with an empty body (what Chromium's HTTP
    // cache has sent after a reload); /short/: every answer is.
    const key = `${url.pathname} ${start}-${end}`;
    if (start > 0 && (url.pathname.startsWith('/short/') || (url.pathname.startsWith('/flaky/') && !stats.seen.has(key)))) {
      stats.seen.add(key);
      res.writeHead(206, { 'content-length': 0, 'content-range': `bytes ${start}-${end}/${body.byteLength}` });
      res.end();
      return;
    }
    const part = body.subarray(start, end + 1);
    stats.bodyBytes += part.byteLength;
    res.writeHead(206, { 'content-length': part.byteLength, 'content-range': `bytes ${start}-${end}/${body.byteLength}`, 'accept-ranges': 'bytes' });
    res.end(part);
  });
  return { server, stats };
}

const ramp = (n: number, base: number) => new Float32Array(n).map((_, k) => base + k);

// One big tensor so that downloading it by mistake would dwarf the header.
const single = writeSafetensors(
  [
    { name: 'big', shape: [256, 256], dtype: 'F32', data: ramp(65536, 0) },
    { name: 'small', shape: [4, 4], dtype: 'BF16', data: ramp(16, -8) },
  ],
  { format: 'pt' },
);
const headerEnd = (b: Uint8Array) => 8 + Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));

const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
const shard1 = writeSafetensors([{ name: 'a', shape: [1000], dtype: 'F16', data: ramp(1000, 0).map((v) => v % 64) }]);
const shard2 = writeSafetensors([{ name: 'b', shape: [3, 2], dtype: 'I32', data: ramp(6, 100) }]);
const index = new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 2024 }, weight_map: { a: shardNames[0], b: shardNames[1] } }));

describe('HTTP Range ByteSource', () => {
  const files = new Map<string, Uint8Array>([
    ['/m/model.safetensors', single],
    ['/flaky/model.safetensors', single],
    ['/short/model.safetensors', single],
    ['/sharded/model.safetensors.index.json', index],
    [`/sharded/${shardNames[0]}`, shard1],
    [`/sharded/${shardNames[1]}`, shard2],
    ['/broken/model.safetensors.index.json', index],
    [`/broken/${shardNames[0]}`, shard1],
  ]);
  const { server, stats } = startServer(files);
  let base = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('opens a safetensors URL downloading only the header, then only the tensor read', async () => {
    stats.bodyBytes = 0;
    const input = await openHttpModel(`${base}/m/model.safetensors`);
    expect(input.primary).toMatchObject({ name: 'model.safetensors', size: single.byteLength });
    const src = await openModel(input);
    expect(src.tensors.map((t) => [t.name, t.shape, t.dtype])).toEqual([
      ['big', [256, 256], 'F32'],
      ['small', [4, 4], 'BF16'],
    ]);
    expect(src.metadata).toEqual({ format: 'pt' });
    // 1-byte size probe + 16-byte sniff + length + header, nothing of the 256 KB of data.
    expect(stats.bodyBytes).toBeLessThanOrEqual(1 + 16 + headerEnd(single));
    expect(single.byteLength).toBeGreaterThan(256 * 1024);

    const before = stats.bodyBytes;
    expect(Array.from(await src.read('small'))).toEqual(Array.from(ramp(16, -8)));
    expect(stats.bodyBytes - before).toBe(32);
    const big = await src.read('big');
    expect(big[65535]).toBe(65535);
    expect(stats.bodyBytes - before).toBe(32 + 256 * 1024);
  });

  it('resolves the shards of an index by relative URL', async () => {
    stats.bodyBytes = 0;
    stats.requests.length = 0;
    const src = await openModel(await openHttpModel(`${base}/sharded/model.safetensors.index.json`));
    expect(src.format).toBe('safetensors-sharded');
    expect(src.tensors.map((t) => [t.name, t.file])).toEqual([
      ['a', shardNames[0]],
      ['b', shardNames[1]],
    ]);
    expect(stats.requests.some((r) => r.startsWith(`GET /sharded/${shardNames[1]}`))).toBe(true);
    expect(stats.bodyBytes).toBeLessThan(index.byteLength + headerEnd(shard1) + headerEnd(shard2) + 64);
    expect(Array.from(await src.read('b'))).toEqual([100, 101, 102, 103, 104, 105]);
    expect(Array.from(await src.read('a')).slice(60, 68)).toEqual([60, 61, 62, 63, 0, 1, 2, 3]);
  });

  it('a shard the server does not have is a clear missing-file error', async () => {
    await expect(openModel(await openHttpModel(`${base}/broken/model.safetensors.index.json`))).rejects.toMatchObject({
      kind: 'FormatError',
      code: 'missing-file',
      message: expect.stringContaining(`shard "${shardNames[1]}"`),
    });
  });

  it('a server that ignores Range is a clear UnsupportedError', async () => {
    const url = `${base}/no-range/m/model.safetensors`;
    await expect(openHttpModel(url)).rejects.toMatchObject({
      kind: 'UnsupportedError',
      code: 'no-range',
      message: expect.stringMatching(/no-range\/m\/model\.safetensors: server does not support HTTP Range requests.*download the file/),
    });
  });

  it('a 404 is a clear missing-file error', async () => {
    await expect(openHttpSource(`${base}/nothing/here.safetensors`)).rejects.toMatchObject({
      kind: 'FormatError',
      code: 'missing-file',
      message: expect.stringContaining('/nothing/here.safetensors: not found (HTTP 404)'),
    });
  });

  it('a 403 (gated file) is not mistaken for a missing file', async () => {
    await expect(openHttpModel(`${base}/gated/model.safetensors`)).rejects.toMatchObject({
      kind: 'UnsupportedError',
      code: 'http-status',
      message: expect.stringContaining('/gated/model.safetensors: HTTP 403 (access denied'),
    });
  });

  it('asks once more when a range comes back empty, and reports a range that stays short', async () => {
    const src = await openModel(await openHttpModel(`${base}/flaky/model.safetensors`));
    const small = await src.read('small');
    expect(Array.from(small)).toEqual(Array.from(ramp(16, -8)));
    expect(stats.requests.filter((r) => r.startsWith('GET /flaky/') && r.endsWith(`${headerEnd(single) + 4 * 65536}-${headerEnd(single) + 4 * 65536 + 31}`))).toHaveLength(2);
    const bad = openModel(await openHttpModel(`${base}/short/model.safetensors`));
    await expect(bad).rejects.toThrow(/model\.safetensors: asked for \d+ bytes at \d+, server sent 0/);
  });

  it('reads past the end are refused before any request', async () => {
    const src = await openHttpSource(`${base}/m/model.safetensors`);
    const n = stats.requests.length;
    await expect(src.read(single.byteLength - 4, 8)).rejects.toMatchObject({ code: 'truncated', message: expect.stringContaining('model.safetensors') });
    expect(stats.requests.length).toBe(n);
  });
});
