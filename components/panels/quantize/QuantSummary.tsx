'use client';
import { toMarkdown } from '@/lib/charts/table-text';
import { useRef, useState } from 'react';
import { AddTableToReport } from '../../ui/AddTableToReport';
import { formatCount, formatStat } from '@/lib/charts/format-number';
import type { QuantLayerResult } from '@/lib/jobs/job-types';
import { quantSettingsRows } from '@/lib/state/quant-settings';

/** The settings and the result as rows, for the copyable table (Markdown or tab-separated). */
export function summaryRows(r: QuantLayerResult, model: string): [string, string][] {
  const rows: [string, string][] = [['model', model], ['layer', `${r.layer} (${r.rows} × ${r.cols}, rows = output channels)`], ...quantSettingsRows(r.settings)];
  rows.push(
    ['bits per weight', `${formatStat(r.bits.total)} = index ${formatStat(r.bits.index)} + codebook ${formatStat(r.bits.codebook)} + scale ${formatStat(r.bits.scale)} + zero ${formatStat(r.bits.zero)}`],
    ['SQNR', `${formatStat(r.error.sqnrDb)} dB`],
    ['relative Frobenius error', formatStat(r.error.relFrobenius)],
    ['MSE', formatStat(r.error.mse)],
  );
  if (r.usage) rows.push(['codeword usage', `entropy ${formatStat(r.usage.entropyBits)} bits, perplexity ${formatStat(r.usage.perplexity)}, ${r.usage.dead} dead of ${r.usage.k}${r.usage.books > 1 ? ` (over ${r.usage.books} codebooks)` : ''}`]);
  if (r.flippable !== null) rows.push(['free to flip (d₁/d₂ ≥ 0.9)', `${formatCount(r.flippable)} of ${formatCount(r.cells)} sub-vectors (${formatStat((100 * r.flippable) / r.cells)}%)`]);
  if (r.rtnAtEqualBits) rows.push([`scalar RTN ${r.rtnAtEqualBits.bits}-bit g128 (${formatStat(r.rtnAtEqualBits.bpw)} bpw)`, `${formatStat(r.rtnAtEqualBits.error.sqnrDb)} dB`]);
  if (r.iterations !== null && r.objectiveHistory) rows.push(['k-means', `${r.iterations} Lloyd iterations, objective ${formatStat(r.objectiveHistory[0] ?? NaN)} → ${formatStat(r.objectiveHistory.at(-1) ?? NaN)}`]);
  rows.push(['computed on', `${r.backend === 'webgpu' ? `WebGPU (${r.adapter ?? 'device'})` : 'CPU (WASM)'} in ${formatStat(r.ms / 1000)} s`]);
  return rows;
}

/** Headline metrics and the settings table a user can paste into a report. */
export function QuantSummary({ result: r, model }: { result: QuantLayerResult; model: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const tableRef = useRef<HTMLTableElement>(null);
  const rows = summaryRows(r, model);
  const copy = (kind: 'md' | 'tsv') => {
    const text = kind === 'md' ? toMarkdown({ header: ['setting', 'value'], rows }) : rows.map((x) => x.join('\t')).join('\n');
    void navigator.clipboard?.writeText(text).then(
      () => setCopied(kind === 'md' ? 'Markdown copied' : 'TSV copied'),
      () => setCopied('copy refused by the browser'),
    );
  };
  return (
    <section className="card q-summary" data-testid="quant-summary" data-sqnr={r.error.sqnrDb} data-bpw={r.bits.total} data-relf={r.error.relFrobenius} data-backend={r.backend}>
      <div className="q-headline">
        <div>
          <b data-testid="quant-sqnr">{formatStat(r.error.sqnrDb)}</b> dB SQNR
        </div>
        <div>
          <b data-testid="quant-bpw">{formatStat(r.bits.total)}</b> bits/weight
        </div>
        <div>
          relF <b>{formatStat(r.error.relFrobenius)}</b>
        </div>
        {r.rtnAtEqualBits && (
          <div className="muted">
            RTN {r.rtnAtEqualBits.bits}-bit: {formatStat(r.rtnAtEqualBits.error.sqnrDb)} dB at {formatStat(r.rtnAtEqualBits.bpw)} bpw
          </div>
        )}
      </div>
      <div className="card-head">
        <h4>Settings and results</h4>
        <button type="button" className="btn btn-small" onClick={() => copy('md')} data-testid="quant-copy-md">
          Copy Markdown
        </button>
        <button type="button" className="btn btn-small" onClick={() => copy('tsv')}>
          Copy TSV
        </button>
        <AddTableToReport tableRef={tableRef} title={`Quantization settings and results: ${r.layer}`} />
        {copied && <span className="muted small">{copied}</span>}
      </div>
      <table className="q-table" data-testid="quant-settings-table" ref={tableRef}>
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
