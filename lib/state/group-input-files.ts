import { extOf, pickPrimary } from '../formats/registry';
import type { InputFile, ModelSpec } from '../jobs/job-types';

/** Extensions that can be a model on their own (the rest are shards' siblings, external data, configs). */
const MODEL_EXTS = new Set(['safetensors', 'onnx', 'gguf', 'npz', 'npy', 'pt', 'pth', 'bin', 'ckpt']);
/** Sharded safetensors name their shards like this; a loose shard is not a model of its own. */
const SHARD_RE = /-\d{5}-of-\d{5}\.safetensors$/;

/**
 * What the user dropped or picked, as models to open: each top-level folder is one model (its
 * primary file picked like the CLI does), and each loose checkpoint file is its own model, with
 * the other loose files passed along so ONNX external data and shard indexes still resolve.
 */
export function groupInputFiles(files: readonly InputFile[]): ModelSpec[] {
  const folders = new Map<string, InputFile[]>();
  const loose: InputFile[] = [];
  for (const f of files) {
    const i = f.path.indexOf('/');
    if (i > 0) {
      const top = f.path.slice(0, i);
      let arr = folders.get(top);
      if (!arr) folders.set(top, (arr = []));
      arr.push(f);
    } else loose.push(f);
  }
  const specs: ModelSpec[] = [];
  for (const [folder, group] of folders) {
    const primary = pickPrimary(group.map((f) => f.path));
    if (primary) specs.push({ kind: 'files', files: group, primary, label: `${folder}/` });
  }
  const names = loose.map((f) => f.path);
  const index = names.find((n) => n.endsWith('.safetensors.index.json'));
  if (index) {
    specs.push({ kind: 'files', files: loose, primary: index, label: index });
  } else {
    for (const f of loose) {
      const ext = extOf(f.path);
      if (!MODEL_EXTS.has(ext) || SHARD_RE.test(f.path)) continue;
      specs.push({ kind: 'files', files: loose, primary: f.path, label: f.path });
    }
    // Loose shards without their index open as one model (the reader gathers the series).
    const firstShard = names.filter((n) => SHARD_RE.test(n)).sort()[0];
    if (firstShard) specs.push({ kind: 'files', files: loose, primary: firstShard, label: firstShard.replace(SHARD_RE, '.safetensors') });
    // Something was given but nothing looks like a checkpoint: open the first file so the user sees why.
    if (specs.length === 0 && loose.length > 0) specs.push({ kind: 'files', files: loose, primary: loose[0]!.path, label: loose[0]!.path });
  }
  return specs;
}
