import { create } from 'zustand';

/**
 * View settings that belong in the URL, so a view is a permalink. Only `cpu` for now:
 * ?cpu=1 forces the CPU twin instead of WebGPU.
 */

export interface SettingsState {
  forceCpu: boolean;
  setForceCpu(v: boolean): void;
}

export const useSettings = create<SettingsState>((set) => ({
  forceCpu: false,
  setForceCpu(v) {
    set({ forceCpu: v });
    writeUrlParam('cpu', v ? '1' : null);
  },
}));

function writeUrlParam(key: string, value: string | null): void {
  if (typeof window === 'undefined') return;
  const url = new URL(window.location.href);
  if (value === null) url.searchParams.delete(key);
  else url.searchParams.set(key, value);
  window.history.replaceState(window.history.state, '', url);
}

/** Called once on the client after hydration: the URL wins over defaults. */
export function loadSettingsFromUrl(): void {
  if (typeof window === 'undefined') return;
  const q = new URLSearchParams(window.location.search);
  useSettings.setState({ forceCpu: q.get('cpu') === '1' });
}
