'use client';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { buildExportSvg, exportColors } from '@/lib/charts/export-svg';
import { useReport } from '@/lib/state/report-store';
import { sanitizeSvg } from '../panels/report/sanitize-report';
import { useExportCaption } from './export-caption';

/** PNG exports are drawn at twice the on-screen size, sharp enough for slides. */
export const PNG_SCALE = 2;

interface Standalone {
  text: string;
  width: number;
  height: number;
  title: string;
  caption: string[];
  /** The export background (the chart theme's), painted under the PNG too. */
  background: string;
}

/** How long "Added to report" stays up. */
const ADDED_STATUS_MS = 2500;

function download(href: string, file: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = file;
  a.click();
}

function pngBlob(s: Standalone): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = Math.ceil(s.width * PNG_SCALE);
      canvas.height = Math.ceil(s.height * PNG_SCALE);
      const ctx = canvas.getContext('2d');
      if (!ctx) return reject(new Error('no 2D canvas context'));
      ctx.fillStyle = s.background;
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas gave no PNG'))), 'image/png');
    };
    img.onerror = () => reject(new Error('the exported SVG did not render'));
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(s.text)}`;
  });
}

/**
 * Downloads the chart as a standalone .svg (styles inlined, title above, model/settings/permalink
 * below), as a .png at 2×, or copies that PNG to the clipboard. The title defaults to the heading
 * of the card the chart sits in; the caption to the nearest ExportCaptionProvider and the page URL.
 */
export function ExportButtons({ svgRef, name, title, caption }: { svgRef: RefObject<SVGSVGElement | null>; name: string; title?: string; caption?: string[] }) {
  const ctx = useExportCaption();
  const [status, setStatus] = useState('');

  const build = (): Standalone | null => {
    const svg = svgRef.current;
    if (!svg) return null;
    const heading = svg.closest('.card')?.querySelector('h4')?.textContent?.trim();
    const t = title ?? (heading || svg.getAttribute('aria-label') || name);
    const lines = caption ?? [[ctx?.model, ctx?.settings].filter(Boolean).join(' · '), window.location.href];
    const box = svg.getBoundingClientRect();
    // The export keeps the theme on screen: its background and text are the chart's own colours.
    const theme = window.getComputedStyle(svg);
    const colors = exportColors({ background: theme.getPropertyValue('--chart-bg'), title: theme.getPropertyValue('--chart-ink'), caption: theme.getPropertyValue('--chart-ink-2') });
    const root = buildExportSvg(svg, { title: t, caption: lines, width: box.width, height: box.height, getComputedStyle: (el) => window.getComputedStyle(el), colors });
    return { text: new XMLSerializer().serializeToString(root), width: Number(root.getAttribute('width')), height: Number(root.getAttribute('height')), title: t, caption: lines.filter(Boolean), background: colors.background };
  };

  const statusTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (statusTimer.current) clearTimeout(statusTimer.current);
  }, []);
  const onReport = () => {
    const s = build();
    if (!s) return;
    const svg = sanitizeSvg(s.text);
    const err = svg === null ? 'the chart did not serialise as SVG' : useReport.getState().add({ kind: 'chart', title: s.title, caption: s.caption.join('\n'), svg });
    setStatus(err ?? 'Added to report');
    if (statusTimer.current) clearTimeout(statusTimer.current);
    // The confirmation is transient; an error stays until the next action.
    if (!err) statusTimer.current = setTimeout(() => setStatus((cur) => (cur === 'Added to report' ? '' : cur)), ADDED_STATUS_MS);
  };

  const onSvg = () => {
    const s = build();
    if (!s) return;
    const url = URL.createObjectURL(new Blob([s.text], { type: 'image/svg+xml' }));
    download(url, `${name}.svg`);
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const onPng = () => {
    const s = build();
    if (!s) return;
    pngBlob(s).then(
      (b) => {
        const url = URL.createObjectURL(b);
        download(url, `${name}.png`);
        setTimeout(() => URL.revokeObjectURL(url), 1000);
      },
      (e: Error) => setStatus(`PNG failed: ${e.message}`),
    );
  };
  const onCopy = () => {
    const s = build();
    if (!s) return;
    if (typeof ClipboardItem === 'undefined' || !navigator.clipboard?.write) {
      setStatus('Copy not available in this browser');
      return;
    }
    setStatus('Copying…');
    // The item takes the promise so the write starts inside the click (Safari requires that).
    navigator.clipboard.write([new ClipboardItem({ 'image/png': pngBlob(s) })]).then(
      () => setStatus('Copied'),
      (e: unknown) => setStatus(`Copy refused${e instanceof Error && e.message ? `: ${e.message}` : ''}`),
    );
  };
  return (
    <span className="export-buttons">
      <button type="button" className="btn btn-small" onClick={onSvg} data-testid="export-svg" aria-label="Download chart as SVG">
        SVG
      </button>
      <button type="button" className="btn btn-small" onClick={onPng} data-testid="export-png" aria-label="Download chart as PNG at 2× size">
        PNG
      </button>
      <button type="button" className="btn btn-small" onClick={onCopy} data-testid="export-copy" aria-label="Copy chart to the clipboard as PNG">
        Copy
      </button>
      <button type="button" className="btn btn-small" onClick={onReport} data-testid="export-report" aria-label="Add chart to the report">
        + Report
      </button>
      {status && (
        <span className="muted small" role="status" data-testid="export-status">
          {status}
        </span>
      )}
    </span>
  );
}
