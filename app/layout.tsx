import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { AppNav } from '@/components/ui/AppNav';
import './globals.css';

export const metadata: Metadata = {
  title: 'WeightLens',
  description: 'See inside a model’s weights — spectra, codebooks, pruning masks and merge curves, computed locally in your browser.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <AppNav />
        <main className="app-main">{children}</main>
        <footer className="app-footer">Everything runs in this tab: files are read locally, heavy math runs in web workers (WebGPU when available).</footer>
      </body>
    </html>
  );
}
