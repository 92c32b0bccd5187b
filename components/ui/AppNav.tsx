'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { ForceCpuToggle } from './ForceCpuToggle';
import { ThemeToggle } from './ThemeToggle';

const ROUTES = [
  { href: '/', label: 'Models' },
  { href: '/spectra', label: 'Spectra' },
  { href: '/quantize', label: 'Quantize' },
  { href: '/prune', label: 'Prune' },
  { href: '/merge', label: 'Merge' },
  { href: '/report', label: 'Report' },
];

export function AppNav() {
  const path = usePathname();
  return (
    <header className="app-header">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Link href="/" className="brand">
        <span className="brand-mark" aria-hidden>
          ◧
        </span>
        WeightLens
      </Link>
      <nav className="app-nav" aria-label="Views">
        {ROUTES.map((r) => (
          <Link key={r.href} href={r.href} className={path === r.href ? 'active' : undefined} aria-current={path === r.href ? 'page' : undefined}>
            {r.label}
          </Link>
        ))}
      </nav>
      <div className="header-right">
        <span className="local-note" title="Files are read in your browser; nothing is uploaded.">
          Local only
        </span>
        <Link href="/#stored-results" className="local-note" aria-label="Stored results: see or clear the results kept in this browser">
          Stored results
        </Link>
        <ThemeToggle />
        <ForceCpuToggle />
      </div>
    </header>
  );
}
