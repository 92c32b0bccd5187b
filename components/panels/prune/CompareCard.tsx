'use client';
import { useMemo, useRef } from 'react';
import { DIFF_COLORS, maskDiffImage } from '@/lib/charts/prune/mask-image';
import type { Mask } from '@/lib/jobs/job-types';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';
import { canvasUrl } from '@/components/charts/canvas-url';

const rgb = (c: readonly number[]) => `rgb(${c.join(',')})`;

/** Two masks of the same layer: kept by both, only by A, only by B; Jaccard of the kept sets. */
export function CompareCard({ a, b, labelA, labelB, name }: { a: Mask; b: Mask; labelA: string; labelB: string; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(640);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const w = Math.max(120, width - 16);
  const img = useMemo(() => {
    const d = maskDiffImage(a, b, Math.floor(w), 300);
    return { ...d, href: canvasUrl(d.rgba, d.width, d.height) };
  }, [a, b, w]);
  const h = Math.round(Math.max(60, Math.min(300, (w * a.rows) / a.cols)));
  const legend: [string, readonly number[], number][] = [
    ['both keep', DIFF_COLORS.both, img.counts.both],
    [`only ${labelA}`, DIFF_COLORS.onlyA, img.counts.onlyA],
    [`only ${labelB}`, DIFF_COLORS.onlyB, img.counts.onlyB],
  ];
  return (
    <section className="card pr-card" data-testid="prune-compare" data-jaccard={img.jaccard} data-only-a={img.counts.onlyA} data-only-b={img.counts.onlyB}>
      <div className="card-head">
        <h4>
          {labelA} vs {labelB}
        </h4>
        <span className="small">
          Jaccard <b>{img.jaccard.toFixed(4)}</b> · Hamming {img.counts.onlyA + img.counts.onlyB}
        </span>
        <ExportButtons svgRef={svgRef} name={`${name}-compare`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={width} height={h + 24} role="img" aria-label={`Mask difference, ${labelA} against ${labelB}`} className="sp-svg">
          <image href={img.href} x={8} y={4} width={w} height={h} preserveAspectRatio="none" style={{ imageRendering: 'pixelated' }} />
          <rect x={8} y={4} width={w} height={h} className="sp-frame" />
          {legend.map(([label, c, n], i) => (
            <g key={label} transform={`translate(${8 + i * 200},${h + 18})`}>
              <rect x={0} y={-9} width={10} height={10} fill={rgb(c)} />
              <text x={14} y={0} className="tick">{`${label} (${n})`}</text>
            </g>
          ))}
        </svg>
      </div>
    </section>
  );
}
