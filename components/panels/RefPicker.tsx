'use client';

/** A labelled picker of an open model or demo file (an ONNX graph, an evaluation set); "—" for none. */
export function RefPicker({ label, value, choices, onChange, testId }: { label: string; value: string; choices: readonly { id: string; label: string }[]; onChange(id: string | null): void; testId: string }) {
  return (
    <label className="q-field">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value || null)} data-testid={testId}>
        <option value="">—</option>
        {choices.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
      </select>
    </label>
  );
}
