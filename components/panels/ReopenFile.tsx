'use client';
import { useState } from 'react';
import { formatBytes } from '@/lib/charts/format-number';
import { sameFileProblem, type FileIdentity } from '@/lib/state/model-identity';
import { useModels } from '@/lib/state/models-store';

/**
 * A permalink made from a local file: the page cannot read the user's disk by itself, so it asks
 * for the same file and checks its size and header hash before opening it (and showing results).
 */
export function ReopenFile({ want }: { want: FileIdentity }) {
  const open = useModels((s) => s.open);
  const [problem, setProblem] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  return (
    <div className="card" data-testid="reopen-file" data-name={want.name}>
      <p>
        This view was made from the local file <b className="mono">{want.name}</b> ({formatBytes(want.size)}). Files never leave your machine, so open the same file
        again to continue; WeightLens checks its size and header before showing anything.
      </p>
      <input
        type="file"
        aria-label={`Open ${want.name}`}
        data-testid="reopen-file-input"
        onChange={async (e) => {
          const f = e.target.files?.[0];
          if (!f) return;
          setChecking(true);
          const why = await sameFileProblem(f, want);
          setChecking(false);
          setProblem(why);
          if (!why) void open({ kind: 'files', files: [{ path: f.name, file: f }], primary: f.name });
        }}
      />
      {checking && <span className="muted small"> checking…</span>}
      {problem && (
        <p className="sp-err" data-testid="reopen-file-problem">
          {problem}
        </p>
      )}
    </div>
  );
}
