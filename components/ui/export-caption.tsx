'use client';
import { createContext, useContext, useMemo, type ReactNode } from 'react';

/** What an exported chart says it came from: the model and the settings of the view that drew it. */
export interface ExportCaption {
  model: string;
  settings: string;
}

export const ExportCaptionContext = createContext<ExportCaption | null>(null);

/** Gives every ExportButtons below it the model and settings to print under an exported chart. */
export function ExportCaptionProvider({ model, settings, children }: { model: string; settings: string; children: ReactNode }) {
  const value = useMemo(() => ({ model, settings }), [model, settings]);
  return <ExportCaptionContext.Provider value={value}>{children}</ExportCaptionContext.Provider>;
}

export function useExportCaption(): ExportCaption | null {
  return useContext(ExportCaptionContext);
}

/** "key value, key value" from a settings object's plain fields (booleans as on/off; empty and nested ones left out). */
export function settingsText(s: object): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (v === null || v === undefined || v === '' || typeof v === 'object' || typeof v === 'function') continue;
    parts.push(`${k} ${typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)}`);
  }
  return parts.join(', ');
}
