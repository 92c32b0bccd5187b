import { create } from 'zustand';

/**
 * The report a user collects from the views: charts (standalone SVG text from export-svg) and
 * tables (sanitized <table> markup), in order, each with a note. Kept in localStorage as JSON so
 * it survives reloads and every page (and tab) sees the same report. Browser-only in practice,
 * but nothing here touches a DOM global at import time, and without localStorage it just lives
 * in memory.
 */

export const REPORT_STORAGE_KEY = 'weightlens.report.v1';
/** Upper bound on the stored JSON (characters); the browser's own quota may refuse earlier. */
export const MAX_REPORT_CHARS = 20 * 1024 * 1024;

export interface ReportItem {
  id: string;
  kind: 'chart' | 'table';
  title: string;
  /** Where it came from: model, settings, page URL (one line each). */
  caption: string;
  /** kind 'chart': the standalone SVG file's text. */
  svg?: string;
  /** kind 'table': a table's outerHTML, only table/thead/tbody/tr/th/td and text. */
  html?: string;
  note: string;
  addedAt: number;
}

export type NewReportItem = Omit<ReportItem, 'id' | 'addedAt' | 'note'> & { note?: string };

interface Stored {
  title: string;
  items: ReportItem[];
}

export interface ReportState extends Stored {
  /** True once the stored report has been read (after hydration on the client). */
  loaded: boolean;
  load(): void;
  /** Adds an item at the end; returns an error message instead when it cannot be stored. */
  add(item: NewReportItem): string | null;
  remove(id: string): void;
  /** Moves an item by delta places (−1 up, +1 down), clamped to the list. */
  move(id: string, delta: number): void;
  setNote(id: string, note: string): void;
  setTitle(title: string): void;
  clear(): void;
}

export const DEFAULT_REPORT_TITLE = 'WeightLens report';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // access denied (privacy settings, sandboxed frame)
  }
}

function isItem(v: unknown): v is ReportItem {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.id === 'string' &&
    (o.kind === 'chart' || o.kind === 'table') &&
    typeof o.title === 'string' &&
    typeof o.caption === 'string' &&
    (o.kind === 'chart' ? typeof o.svg === 'string' : typeof o.html === 'string') &&
    typeof o.addedAt === 'number'
  );
}

/** Parses stored JSON, dropping anything malformed rather than failing the whole report. */
export function parseStoredReport(text: string | null): Stored {
  const empty: Stored = { title: DEFAULT_REPORT_TITLE, items: [] };
  if (!text) return empty;
  try {
    const o = JSON.parse(text) as { title?: unknown; items?: unknown };
    const items = Array.isArray(o.items) ? o.items.filter(isItem).map((i) => ({ ...i, note: typeof i.note === 'string' ? i.note : '' })) : [];
    return { title: typeof o.title === 'string' ? o.title : DEFAULT_REPORT_TITLE, items };
  } catch {
    return empty;
  }
}

/** Writes the report; returns an error message when it is over the cap or the browser refuses. */
function save(s: Stored): string | null {
  const text = JSON.stringify({ title: s.title, items: s.items });
  if (text.length > MAX_REPORT_CHARS) {
    return `The report would be ${(text.length / 1048576).toFixed(1)} MB, over the ${MAX_REPORT_CHARS / 1048576} MB limit: remove some items first`;
  }
  const ls = storage();
  if (!ls) return null;
  try {
    ls.setItem(REPORT_STORAGE_KEY, text);
    return null;
  } catch (e) {
    return `The browser refused to store the report (${(text.length / 1048576).toFixed(1)} MB${e instanceof Error && e.name ? `, ${e.name}` : ''}): remove some items first`;
  }
}

let counter = 0;
function newId(): string {
  counter += 1;
  return `${Date.now().toString(36)}-${counter.toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

export const useReport = create<ReportState>((set, get) => {
  /** Reads the stored report first, so a change made on one page never overwrites another page's items. */
  const current = (): Stored => {
    if (!get().loaded) get().load();
    const { title, items } = get();
    return { title, items };
  };
  const commit = (next: Stored): string | null => {
    const err = save(next);
    if (!err) set(next);
    return err;
  };
  return {
    title: DEFAULT_REPORT_TITLE,
    items: [],
    loaded: false,
    load() {
      set({ ...parseStoredReport(storage()?.getItem(REPORT_STORAGE_KEY) ?? null), loaded: true });
    },
    add(item) {
      const s = current();
      return commit({ ...s, items: [...s.items, { ...item, note: item.note ?? '', id: newId(), addedAt: Date.now() }] });
    },
    remove(id) {
      const s = current();
      commit({ ...s, items: s.items.filter((i) => i.id !== id) });
    },
    move(id, delta) {
      const s = current();
      const from = s.items.findIndex((i) => i.id === id);
      if (from < 0) return;
      const to = Math.max(0, Math.min(s.items.length - 1, from + delta));
      if (to === from) return;
      const items = [...s.items];
      const [it] = items.splice(from, 1);
      if (it) items.splice(to, 0, it);
      commit({ ...s, items });
    },
    setNote(id, note) {
      const s = current();
      commit({ ...s, items: s.items.map((i) => (i.id === id ? { ...i, note } : i)) });
    },
    setTitle(title) {
      commit({ ...current(), title });
    },
    clear() {
      commit({ ...current(), items: [] });
    },
  };
});

/** Keeps every open tab's report in step: another tab's write arrives as a storage event. */
export function watchReportStorage(): () => void {
  if (typeof window === 'undefined') return () => {};
  const on = (e: StorageEvent) => {
    if (e.key === REPORT_STORAGE_KEY) useReport.getState().load();
  };
  window.addEventListener('storage', on);
  return () => window.removeEventListener('storage', on);
}
