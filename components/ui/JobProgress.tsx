'use client';

/** A running job's progress bar, what it is doing, and its Cancel button. */
export function JobProgress({ value, max = 1, label, onCancel, cancelTestId }: { value: number; max?: number; label: string; onCancel(): void; cancelTestId: string }) {
  return (
    <>
      <progress max={max} value={value} />
      <span className="muted small">{label}</span>
      <button type="button" className="btn btn-small" onClick={onCancel} data-testid={cancelTestId}>
        Cancel
      </button>
    </>
  );
}
