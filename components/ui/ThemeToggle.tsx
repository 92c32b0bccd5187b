'use client';
import { useEffect, useState } from 'react';
import { applyThemeChoice, readThemeChoice, type ThemeChoice } from '@/lib/state/theme';

/** Light, dark or the system's theme; the choice is remembered in this browser. */
export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>('system');
  useEffect(() => setChoice(readThemeChoice()), []);
  return (
    <label className="toggle theme-toggle">
      <span className="visually-hidden">Colour theme</span>
      <select
        value={choice}
        onChange={(e) => {
          const c = e.target.value as ThemeChoice;
          setChoice(c);
          applyThemeChoice(c);
        }}
        data-testid="theme"
        aria-label="Colour theme"
      >
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
