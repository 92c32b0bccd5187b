'use client';
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { groupInputFiles } from '@/lib/state/group-input-files';
import { useModels } from '@/lib/state/models-store';
import type { InputFile } from '@/lib/jobs/job-types';
import { filesFromInput, readDroppedFiles } from '../ui/read-dropped-files';
import { DemoModels } from './DemoModels';

/** Every way in: drop files or a folder, pick files or a folder, paste a URL, or open a demo model. */
export function OpenPanel() {
  const open = useModels((s) => s.open);
  const [dragging, setDragging] = useState(false);
  const [url, setUrl] = useState('');
  const folderRef = useRef<HTMLInputElement | null>(null);

  useEffect(() => {
    // Not in React's typings; the attribute makes the picker choose a folder.
    folderRef.current?.setAttribute('webkitdirectory', '');
  }, []);

  const openFiles = (files: InputFile[]) => {
    for (const spec of groupInputFiles(files)) void open(spec);
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    openFiles(await readDroppedFiles(e.dataTransfer));
  };
  const onUrl = (e: FormEvent) => {
    e.preventDefault();
    const u = url.trim();
    if (!u) return;
    void open({ kind: 'url', url: new URL(u, window.location.href).href, label: u });
    setUrl('');
  };

  return (
    <section className="open-panel">
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p className="drop-title">Drop checkpoint files or a model folder here</p>
        <p className="muted">safetensors (sharded too), ONNX (with external data), GGUF, .npy/.npz, PyTorch zip · read in your browser, never uploaded</p>
        <div className="drop-actions">
          <label className="btn btn-primary">
            Choose files
            <input type="file" multiple hidden data-testid="file-input" onChange={(e) => {
              openFiles(filesFromInput(e.target.files));
              e.target.value = '';
            }} />
          </label>
          <label className="btn">
            Choose folder
            <input ref={folderRef} type="file" multiple hidden data-testid="folder-input" onChange={(e) => {
              openFiles(filesFromInput(e.target.files));
              e.target.value = '';
            }} />
          </label>
        </div>
        <form className="url-form" onSubmit={onUrl}>
          <input
            type="text"
            inputMode="url"
            placeholder="https://huggingface.co/…/resolve/main/model.safetensors (read with HTTP Range)"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            data-testid="url-input"
            aria-label="Model URL"
          />
          <button type="submit" className="btn" data-testid="url-open">
            Open URL
          </button>
        </form>
      </div>
      <DemoModels />
    </section>
  );
}
