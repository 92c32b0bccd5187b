import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { AppNav } from '@/components/ui/AppNav';
import { themeCss } from '@/lib/charts/palette';
import { THEME_BOOT_SCRIPT } from '@/lib/state/theme';
import './globals.css';

export const metadata: Metadata = {
  title: 'WeightLens',
  description: 'See inside a model’s weights — spectra, codebooks, pruning masks and merge curves, computed locally in your browser.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    // suppressHydrationWarning: the boot script sets data-theme before React hydrates.
    <html lang="en" suppressHydrationWarning>
      <head>
        <style id="chart-colors" dangerouslySetInnerHTML={{ __html: themeCss() }} />
        <script dangerouslySetInnerHTML={{ __html: THEME_BOOT_SCRIPT }} />
      </head>
      <body>
        <AppNav />
        <main className="app-main" id="main" tabIndex={-1}>
          {children}
        </main>
        <footer className="app-footer">Everything runs in this tab: files are read locally, heavy math runs in web workers (WebGPU when available).</footer>
      </body>
    </html>
  );
}
