'use client';
import type { RefObject } from 'react';

/** Downloads the chart's SVG as .svg, or rasterised at 2x as .png. */
export function ExportButtons({ svgRef, name }: { svgRef: RefObject<SVGSVGElement | null>; name: string }) {
  const serialize = (): string | null => {
    const svg = svgRef.current;
    if (!svg) return null;
    const clone = svg.cloneNode(true) as SVGSVGElement;
    clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
    const style = document.createElementNS('http://www.w3.org/2000/svg', 'style');
    style.textContent = 'text{font:11px system-ui,sans-serif;fill:#333}';
    clone.insertBefore(style, clone.firstChild);
    return new XMLSerializer().serializeToString(clone);
  };
  const download = (href: string, file: string) => {
    const a = document.createElement('a');
    a.href = href;
    a.download = file;
    a.click();
  };
  const onSvg = () => {
    const text = serialize();
    if (!text) return;
    const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
    download(url, `${name}.svg`);
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const onPng = () => {
    const text = serialize();
    const svg = svgRef.current;
    if (!text || !svg) return;
    const { width, height } = svg.getBoundingClientRect();
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = Math.ceil(width * 2);
      canvas.height = Math.ceil(height * 2);
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.scale(2, 2);
      ctx.drawImage(img, 0, 0, width, height);
      download(canvas.toDataURL('image/png'), `${name}.png`);
    };
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  };
  return (
    <span className="export-buttons">
      <button type="button" className="btn btn-small" onClick={onSvg} data-testid="export-svg">
        SVG
      </button>
      <button type="button" className="btn btn-small" onClick={onPng} data-testid="export-png">
        PNG
      </button>
    </span>
  );
}
