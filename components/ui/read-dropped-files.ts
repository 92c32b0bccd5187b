import type { InputFile } from '@/lib/jobs/job-types';

/**
 * Files from a drop, folders included: walks DataTransferItem.webkitGetAsEntry() recursively and
 * keeps each file's path relative to what was dropped ("bert/model.safetensors"), which is how
 * sharded checkpoints and ONNX external data find their siblings. Only File handles are collected;
 * nothing is read here.
 */
export async function readDroppedFiles(dt: DataTransfer): Promise<InputFile[]> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
  }
  if (entries.length === 0) return Array.from(dt.files).map((file) => ({ path: file.name, file }));
  const out: InputFile[] = [];
  for (const e of entries) await walk(e, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: InputFile[]): Promise<void> {
  const path = entry.fullPath.replace(/^\/+/, '') || entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path, file });
    return;
  }
  if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries returns at most ~100 entries per call; keep calling until it returns none.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out);
    }
  }
}

/** Files from an <input type="file">; a folder picker (webkitdirectory) fills webkitRelativePath. */
export function filesFromInput(list: FileList | null): InputFile[] {
  return Array.from(list ?? []).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}
