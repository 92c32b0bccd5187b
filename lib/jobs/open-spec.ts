import { UnsupportedError, FormatError } from '../base/errors';
import { blobSource, modelFromSources, singleFileModel, type ModelInput } from '../io/byte-source';
import { openHttpModel } from '../io/http-source';
import type { ModelSpec } from './job-types';

/** Servers that ignore Range get one whole download, but only for files this small. */
export const MAX_WHOLE_DOWNLOAD_BYTES = 256 * 2 ** 20;

/** Turns a ModelSpec (File handles or a URL) into the ModelInput the format readers take. Runs in a worker. */
export async function openSpec(spec: ModelSpec, signal?: AbortSignal): Promise<ModelInput> {
  if (spec.kind === 'files') {
    const sources = spec.files.map((f) => blobSource(f.file, f.path));
    const primary = sources.find((s) => s.name === spec.primary);
    if (!primary) throw new FormatError('missing-file', `${spec.primary}: not among the ${sources.length} opened files`);
    return modelFromSources(sources, primary, spec.label ?? spec.primary);
  }
  try {
    return await openHttpModel(spec.url, fetch, signal);
  } catch (e) {
    if (!(e instanceof UnsupportedError && e.code === 'no-range')) throw e;
    return wholeDownload(spec.url, signal);
  }
}

/** Fallback for a server without Range support: fetch the (small) file once and read it as a Blob. */
async function wholeDownload(url: string, signal?: AbortSignal): Promise<ModelInput> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new FormatError('missing-file', `${url}: HTTP ${res.status}`);
  const len = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(len) && len > MAX_WHOLE_DOWNLOAD_BYTES) {
    await res.body?.cancel();
    throw new UnsupportedError('no-range', `${url}: server does not support HTTP Range requests and the file is ${len} bytes; download it and open it locally`);
  }
  const blob = await res.blob();
  const name = decodeURIComponent(new URL(url, 'http://x/').pathname.split('/').pop() || url);
  return { ...singleFileModel(blobSource(blob, name)), label: url };
}
