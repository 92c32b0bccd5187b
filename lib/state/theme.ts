/**
 * The colour theme: light, dark, or the system's preference. Kept in localStorage (a reader's
 * preference, not part of a permalink) and applied as <html data-theme="…"> — absent for
 * "system", where the prefers-color-scheme media query decides. The boot script runs before the
 * first paint so a dark-theme user never sees a light flash.
 */

export type ThemeChoice = 'system' | 'light' | 'dark';
export const THEME_STORAGE_KEY = 'weightlens.theme';

export function parseThemeChoice(v: unknown): ThemeChoice {
  return v === 'light' || v === 'dark' ? v : 'system';
}

export function readThemeChoice(): ThemeChoice {
  try {
    return parseThemeChoice(window.localStorage.getItem(THEME_STORAGE_KEY));
  } catch {
    return 'system'; // storage blocked: the system preference
  }
}

export function applyThemeChoice(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  try {
    if (choice === 'system') window.localStorage.removeItem(THEME_STORAGE_KEY);
    else window.localStorage.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // storage blocked: the choice lasts for this page only
  }
}

/** Inline in <head>: sets data-theme from storage before the page paints. */
export const THEME_BOOT_SCRIPT = `try{var t=localStorage.getItem(${JSON.stringify(THEME_STORAGE_KEY)});if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}`;
