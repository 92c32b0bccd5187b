'use client';
import { useEffect, useRef, type KeyboardEvent, type ReactNode, type RefObject } from 'react';

/** Rows or marks one PageUp/PageDown moves. */
export const PAGE_STEP = 10;

/** The index a navigation key moves to among `n` items from `i` (-1: none yet), or null for other keys. */
export function stepIndex(key: string, i: number, n: number): number | null {
  if (n === 0) return null;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return i < 0 ? 0 : Math.min(n - 1, i + 1);
    case 'ArrowLeft':
    case 'ArrowUp':
      return i < 0 ? 0 : Math.max(0, i - 1);
    case 'PageDown':
      return Math.min(n - 1, Math.max(0, i) + PAGE_STEP);
    case 'PageUp':
      return Math.max(0, i - PAGE_STEP);
    case 'Home':
      return 0;
    case 'End':
      return n - 1;
    default:
      return null;
  }
}

/**
 * Keyboard selection for a chart whose marks are layers (bars, points): the chart takes focus
 * (Tab), arrow keys / Home / End / PageUp / PageDown select the next, first, last… mark, and a
 * polite live region reads out what was selected.
 */
export function useChartKeys({
  names, selected, onSelect, describe,
}: {
  names: readonly string[];
  selected: string | null;
  onSelect(name: string): void;
  describe?(name: string): string;
}): { props: { tabIndex: number; onKeyDown(e: KeyboardEvent): void; 'aria-keyshortcuts': string }; live: ReactNode } {
  const onKeyDown = (e: KeyboardEvent) => {
    const j = stepIndex(e.key, selected ? names.indexOf(selected) : -1, names.length);
    if (j === null) return;
    e.preventDefault();
    const name = names[j];
    if (name !== undefined && name !== selected) onSelect(name);
  };
  const live = (
    <span className="visually-hidden" aria-live="polite" data-testid="chart-live">
      {selected ? (describe ? describe(selected) : selected) : ''}
    </span>
  );
  return { props: { tabIndex: 0, onKeyDown, 'aria-keyshortcuts': 'ArrowLeft ArrowRight Home End' }, live };
}

/**
 * Keyboard selection in a table of layers or tensors: the selected row is the one Tab reaches
 * (roving tabindex), ArrowUp/ArrowDown/Home/End/PageUp/PageDown select and focus another row,
 * Enter or Space selects the focused row. `names` is the order shown (after sorting and filtering).
 */
export function useRowKeys(
  names: readonly string[], selected: string | null, onSelect: (name: string) => void, container: RefObject<HTMLElement | null>,
  /** A windowed table brings row i into its window first (the row is not in the DOM otherwise). */
  scrollToIndex?: (i: number) => void,
) {
  const moved = useRef(false);
  useEffect(() => {
    if (!moved.current || !selected) return;
    const row = container.current?.querySelector<HTMLElement>(`tr[data-name="${CSS.escape(selected)}"]`);
    if (!row) return; // not drawn yet (a windowed table scrolling to it): the next render tries again
    moved.current = false;
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  });
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      const name = (e.target as HTMLElement).closest('tr')?.getAttribute('data-name');
      if (name) {
        e.preventDefault();
        onSelect(name);
      }
      return;
    }
    const j = stepIndex(e.key, selected ? names.indexOf(selected) : -1, names.length);
    if (j === null) return;
    e.preventDefault();
    const name = names[j];
    if (name === undefined) return;
    moved.current = true;
    scrollToIndex?.(j);
    if (name !== selected) onSelect(name);
    else container.current?.querySelector<HTMLElement>(`tr[data-name="${CSS.escape(name)}"]`)?.focus();
  };
  /** tabIndex of a row: 0 for the selected one (or the first when none is), -1 otherwise. */
  const tabIndexOf = (name: string) => (name === (selected && names.includes(selected) ? selected : names[0]) ? 0 : -1);
  return { onKeyDown, tabIndexOf };
}

/**
 * Keyboard zoom for a map chart (overview + zoomed inset): Enter or Space zooms at the centre,
 * arrow keys move the zoomed window by `step` cells (zooming first if needed), Escape closes it.
 */
export function zoomKeys(
  zoom: { row: number; col: number } | null, onZoom: (z: { row: number; col: number } | null) => void,
  rows: number, cols: number, step: { rows: number; cols: number },
): { tabIndex: number; onKeyDown(e: KeyboardEvent): void; 'aria-keyshortcuts': string } {
  const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, Math.round(v)));
  const centre = { row: clamp(rows / 2, rows), col: clamp(cols / 2, cols) };
  const onKeyDown = (e: KeyboardEvent) => {
    const at = zoom ?? centre;
    let next: { row: number; col: number } | null | undefined;
    if (e.key === 'Enter' || e.key === ' ') next = zoom ? undefined : centre;
    else if (e.key === 'Escape') next = zoom ? null : undefined;
    else if (e.key === 'ArrowLeft') next = { row: at.row, col: clamp(at.col - step.cols, cols) };
    else if (e.key === 'ArrowRight') next = { row: at.row, col: clamp(at.col + step.cols, cols) };
    else if (e.key === 'ArrowUp') next = { row: clamp(at.row - step.rows, rows), col: at.col };
    else if (e.key === 'ArrowDown') next = { row: clamp(at.row + step.rows, rows), col: at.col };
    if (next === undefined) return;
    e.preventDefault();
    onZoom(next);
  };
  return { tabIndex: 0, onKeyDown, 'aria-keyshortcuts': 'Enter Escape ArrowLeft ArrowRight ArrowUp ArrowDown' };
}
