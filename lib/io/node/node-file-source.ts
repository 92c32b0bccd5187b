import { open, stat, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { ByteSource, ModelInput } from '../byte-source';
import { checkRange } from '../byte-source';
import { CancelledError, FormatError } from '../../base/errors';

/**
 * Node file handles for the CLI and tests. Only the CLI and Node tests import this file; the
 * browser bundle never does.
 */
export async function openNodeFile(filePath: string, displayName = path.basename(filePath)): Promise<ByteSource & { close(): Promise<void> }> {
  let fh;
  try {
    fh = await open(filePath, 'r');
  } catch (e) {
    throw new FormatError('missing-file', `${filePath}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const { size } = await fh.stat();
  const src = {
    name: displayName,
    size,
    async read(offset: number, length: number, signal?: AbortSignal) {
      if (signal?.aborted) throw new CancelledError();
      checkRange(src, offset, length);
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw new FormatError('truncated', `${displayName}: file shrank while reading at ${offset + done}`);
        done += bytesRead;
      }
      return buf;
    },
    async close() {
      await fh.close();
    },
  };
  return src;
}

/**
 * A file or a folder on disk. For a folder the primary file is chosen by the format registry
 * (`pickPrimary`), so here we list every file (non-recursive, plus one level for shards in
 * sub-folders is not needed in practice).
 */
export async function openNodeModel(target: string, pickPrimary: (names: string[]) => string | undefined): Promise<ModelInput & { close(): Promise<void> }> {
  let st;
  try {
    st = await stat(target);
  } catch {
    throw new FormatError('missing-file', `${target}: no such file or folder`);
  }
  const opened = new Map<string, Awaited<ReturnType<typeof openNodeFile>>>();
  const openRel = async (dir: string, rel: string) => {
    const full = path.resolve(dir, rel);
    if (!full.startsWith(path.resolve(dir) + path.sep) && full !== path.resolve(dir)) return undefined;
    const key = full;
    let s = opened.get(key);
    if (!s) {
      try {
        const fst = await stat(full);
        if (!fst.isFile()) return undefined;
      } catch {
        return undefined;
      }
      s = await openNodeFile(full, path.relative(dir, full).split(path.sep).join('/'));
      opened.set(key, s);
    }
    return s;
  };
  let dir: string;
  let primaryName: string;
  let files: string[];
  if (st.isDirectory()) {
    dir = target;
    files = (await readdir(target, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name).sort();
    const p = pickPrimary(files);
    if (!p) throw new FormatError('unknown-format', `${target}: no model file found in folder (looked for .safetensors, index.json, .onnx, .gguf, .npz, .npy, .pt, .bin)`);
    primaryName = p;
  } else {
    dir = path.dirname(target);
    primaryName = path.basename(target);
    files = [primaryName];
  }
  const primary = (await openRel(dir, primaryName))!;
  const all: ByteSource[] = [];
  for (const f of files) {
    const s = await openRel(dir, f);
    if (s) all.push(s);
  }
  return {
    label: target,
    primary,
    files: all,
    resolve: (rel) => openRel(dir, rel),
    async close() {
      for (const s of opened.values()) await s.close();
    },
  };
}
