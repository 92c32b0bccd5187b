import { FormatError, UnsupportedError, CancelledError } from '../base/errors';
import type { ByteSource, ModelInput } from './byte-source';
import { checkRange } from './byte-source';

type FetchFn = typeof fetch;

function fileNameOf(url: string): string {
  try {
    const u = new URL(url);
    const last = u.pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : u.host;
  } catch {
    return url;
  }
}

/**
 * A remote file read with HTTP Range requests, so a Hugging Face `resolve/main/...` link or any
 * static server works without downloading the file. The size comes from a one-byte range probe
 * (Content-Range total), which also proves the server honours ranges.
 */
/** Tries of a range read that came back short or misplaced. */
export const RANGE_ATTEMPTS = 2;

export async function openHttpSource(url: string, fetchFn: FetchFn = fetch, signal?: AbortSignal): Promise<ByteSource> {
  const name = fileNameOf(url);
  let res: Response;
  try {
    res = await fetchFn(url, { headers: { Range: 'bytes=0-0' }, cache: 'no-store', signal });
  } catch (e) {
    if (signal?.aborted) throw new CancelledError();
    throw new FormatError('missing-file', `${url}: request failed (${(e as Error).message})`);
  }
  if (res.status === 404) throw new FormatError('missing-file', `${url}: not found (HTTP 404)`);
  if (!res.ok) {
    await res.body?.cancel();
    // Not 'missing-file': a sibling lookup must not report a gated (401/403) or failing server as a missing shard.
    const why = res.status === 401 || res.status === 403 ? ' (access denied: a gated or private file? download it and open it locally)' : '';
    throw new UnsupportedError('http-status', `${url}: HTTP ${res.status}${why}`);
  }
  let size: number;
  if (res.status === 206) {
    const cr = res.headers.get('content-range') ?? '';
    const m = /\/(\d+)\s*$/.exec(cr);
    if (!m) throw new UnsupportedError('no-range', `${url}: server sent 206 without a total size in Content-Range`);
    size = Number(m[1]);
    await res.body?.cancel();
  } else {
    // Server ignored Range: only acceptable for a small file we can hold.
    const len = Number(res.headers.get('content-length') ?? NaN);
    await res.body?.cancel();
    throw new UnsupportedError(
      'no-range',
      `${url}: server does not support HTTP Range requests${Number.isFinite(len) ? ` (file is ${len} bytes)` : ''}; download the file and open it locally`,
    );
  }
  const src: ByteSource = {
    name,
    size,
    async read(offset, length, sig) {
      checkRange(src, offset, length);
      if (length === 0) return new Uint8Array(0);
      // Range reads bypass the browser's HTTP cache: Chromium's cache, asked for several ranges of
      // one URL at once after a reload, has answered 206 with an empty body. A short or misplaced
      // answer is asked for once more before it is reported.
      let last = '';
      for (let attempt = 0; attempt < RANGE_ATTEMPTS; attempt++) {
        let r: Response;
        try {
          r = await fetchFn(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` }, cache: 'no-store', signal: sig });
        } catch (e) {
          if (sig?.aborted) throw new CancelledError();
          throw new FormatError('truncated', `${name}: range request failed (${(e as Error).message})`);
        }
        if (r.status !== 206) {
          // Cancel the body: a server that ignores Range would otherwise stream the whole file.
          await r.body?.cancel();
          throw new UnsupportedError('no-range', `${name}: expected HTTP 206 for a range, got ${r.status}`);
        }
        const start = /bytes\s+(\d+)-/.exec(r.headers.get('content-range') ?? '');
        if (start && Number(start[1]) !== offset) {
          await r.body?.cancel();
          last = `${name}: asked for bytes from ${offset}, server sent a range from ${start[1]}`;
          continue;
        }
        const buf = new Uint8Array(await r.arrayBuffer());
        if (buf.byteLength === length) return buf;
        last = `${name}: asked for ${length} bytes at ${offset}, server sent ${buf.byteLength}`;
      }
      throw new FormatError('truncated', last);
    },
  };
  return src;
}

/** A model at a URL; siblings (shards, external data) resolve against the URL's folder. */
export async function openHttpModel(url: string, fetchFn: FetchFn = fetch, signal?: AbortSignal): Promise<ModelInput> {
  const primary = await openHttpSource(url, fetchFn, signal);
  const cache = new Map<string, Promise<ByteSource | undefined>>();
  return {
    label: url,
    primary,
    files: [primary],
    resolve(rel) {
      let p = cache.get(rel);
      if (!p) {
        const target = new URL(rel, url).toString();
        p = openHttpSource(target, fetchFn, signal).catch((e: unknown) => {
          if (e instanceof FormatError && e.code === 'missing-file') return undefined;
          throw e;
        });
        cache.set(rel, p);
      }
      return p;
    },
  };
}
