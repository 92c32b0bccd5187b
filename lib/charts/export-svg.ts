/**
 * A chart's on-screen <svg> turned into a standalone SVG file: the styles that came from class
 * rules in the app's CSS are inlined (an exported file carries no stylesheet, so without this
 * frames render with a black fill and bars lose their colour), and the chart is framed by a header
 * with its title and a footer naming the model, settings and permalink it came from.
 *
 * No DOM globals are touched at import or call time: the element, its document and
 * getComputedStyle are passed in, so the layout half (exportLayout, wrapText) runs anywhere.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';

/** The presentation properties that class rules set on the charts and that change how they look. */
export const INLINED_PROPERTIES = [
  'fill',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'stroke-linecap',
  'stroke-linejoin',
  'opacity',
  'fill-opacity',
  'stroke-opacity',
  'font-size',
  'font-family',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
  'image-rendering',
  'visibility',
] as const;

/** Elements that draw nothing themselves; their computed style would only bloat the file. */
const SKIP_STYLE = new Set(['title', 'desc', 'style', 'script', 'metadata']);

export const EXPORT_FONT = 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif';
export const TITLE_FONT_PX = 14;
export const CAPTION_FONT_PX = 10;
const PAD = 10;
const LINE_GAP = 1.35;
/** Average glyph width over font size for a sans-serif face: wrapping errs wide so lines fit. */
const CHAR_WIDTH_EM = 0.6;

/** Greedy word wrap to at most maxChars per line; a word longer than a line (a URL) is cut into pieces. */
export function wrapText(text: string, maxChars: number): string[] {
  const limit = Math.max(8, Math.floor(maxChars));
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    let w = word;
    while (w.length > limit) {
      if (line) {
        lines.push(line);
        line = '';
      }
      lines.push(w.slice(0, limit));
      w = w.slice(limit);
    }
    if (!line) line = w;
    else if (line.length + 1 + w.length <= limit) line += ` ${w}`;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export interface ExportLayout {
  width: number;
  height: number;
  /** Where the chart sits: below the header. */
  chartY: number;
  titleLines: { text: string; y: number }[];
  captionLines: { text: string; y: number }[];
}

/** Places the title above and the caption lines below a chart of the given size so that nothing overlaps. */
export function exportLayout(chartWidth: number, chartHeight: number, title: string, caption: readonly string[]): ExportLayout {
  const width = Math.max(1, Math.ceil(chartWidth));
  const inner = width - 2 * PAD;
  const titleLines = title.trim() ? wrapText(title.trim(), inner / (TITLE_FONT_PX * CHAR_WIDTH_EM)) : [];
  const captionText = caption.flatMap((c) => (c.trim() ? wrapText(c.trim(), inner / (CAPTION_FONT_PX * CHAR_WIDTH_EM)) : []));
  const titleStep = TITLE_FONT_PX * LINE_GAP;
  const capStep = CAPTION_FONT_PX * LINE_GAP;
  // Baselines: first line one font size below the padding, later lines one line step apart.
  const header = titleLines.length ? PAD + titleLines.length * titleStep + PAD / 2 : 0;
  const chartY = Math.ceil(header);
  const footTop = chartY + Math.ceil(chartHeight);
  const footer = captionText.length ? PAD / 2 + captionText.length * capStep + PAD / 2 : 0;
  return {
    width,
    height: footTop + Math.ceil(footer),
    chartY,
    titleLines: titleLines.map((text, i) => ({ text, y: PAD + TITLE_FONT_PX + i * titleStep })),
    captionLines: captionText.map((text, i) => ({ text, y: footTop + PAD / 2 + CAPTION_FONT_PX + i * capStep })),
  };
}

/** The subset of CSSStyleDeclaration read here. */
export interface ComputedStyleLike {
  getPropertyValue(property: string): string;
}

export interface ExportSvgOptions {
  title: string;
  /** Footer lines: model, settings, page URL. */
  caption: readonly string[];
  /** The on-screen size of the chart (getBoundingClientRect), used when width/height attributes are missing. */
  width?: number;
  height?: number;
  getComputedStyle(el: Element): ComputedStyleLike;
  /** Background, title and caption colours: the chart's theme as shown (light by default). */
  colors?: { background: string; title: string; caption: string };
}

export const LIGHT_EXPORT_COLORS = { background: '#ffffff', title: '#1d2939', caption: '#475467' } as const;

function num(v: string | null): number | null {
  if (v === null) return null;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** Copies the computed presentation properties of `src` and its descendants onto the parallel clone `dst`. */
function inlineStyles(src: Element, dst: Element, cs: ExportSvgOptions['getComputedStyle']): void {
  if (!SKIP_STYLE.has(src.localName)) {
    const style = cs(src);
    const decl: string[] = [];
    for (const p of INLINED_PROPERTIES) {
      const v = style.getPropertyValue(p).trim();
      if (v) decl.push(`${p}:${v}`);
    }
    const own = dst.getAttribute('style');
    // The element's own inline style goes last so it still wins where it says something.
    dst.setAttribute('style', [decl.join(';'), own ?? ''].filter(Boolean).join(';'));
  }
  const a = src.children;
  const b = dst.children;
  for (let i = 0; i < a.length && i < b.length; i++) {
    const s = a[i];
    const d = b[i];
    if (s && d) inlineStyles(s, d, cs);
  }
}

function textEl(doc: Document, x: number, y: number, text: string, px: number, weight: string, fill: string): SVGTextElement {
  const t = doc.createElementNS(SVG_NS, 'text');
  t.setAttribute('x', String(x));
  t.setAttribute('y', String(y));
  t.setAttribute('style', `font-family:${EXPORT_FONT};font-size:${px}px;font-weight:${weight};fill:${fill};text-anchor:start`);
  t.textContent = text;
  return t;
}

/**
 * Builds the standalone SVG for `svg` (not attached to any document). Embedded <image> data URLs
 * stay as they are; an xlink:href copy is added for viewers that only read that.
 */
/** A colour that may go into a style attribute: #hex or rgb()/rgba() of numbers, else the fallback. */
export function safeColor(v: string | undefined, fallback: string): string {
  const t = (v ?? '').trim();
  return /^#[0-9a-f]{3,8}$/i.test(t) || /^rgba?\([\d.,\s%]+\)$/i.test(t) ? t : fallback;
}

/** The export's background, title and caption colours: the given ones where safe, light otherwise. */
export function exportColors(c?: Partial<ExportSvgOptions['colors']>): NonNullable<ExportSvgOptions['colors']> {
  return {
    background: safeColor(c?.background, LIGHT_EXPORT_COLORS.background),
    title: safeColor(c?.title, LIGHT_EXPORT_COLORS.title),
    caption: safeColor(c?.caption, LIGHT_EXPORT_COLORS.caption),
  };
}

export function buildExportSvg(svg: SVGSVGElement, opts: ExportSvgOptions): SVGSVGElement {
  const doc = svg.ownerDocument;
  const colors = exportColors(opts.colors);
  const clone = svg.cloneNode(true) as SVGSVGElement;
  inlineStyles(svg, clone, opts.getComputedStyle);
  for (const img of Array.from(clone.getElementsByTagNameNS(SVG_NS, 'image'))) {
    const href = img.getAttribute('href');
    if (href && !img.getAttributeNS(XLINK_NS, 'href')) img.setAttributeNS(XLINK_NS, 'xlink:href', href);
  }
  const w = num(svg.getAttribute('width')) ?? opts.width ?? 300;
  const h = num(svg.getAttribute('height')) ?? opts.height ?? 150;
  const layout = exportLayout(w, h, opts.title, opts.caption);

  const root = doc.createElementNS(SVG_NS, 'svg');
  root.setAttribute('xmlns', SVG_NS);
  root.setAttribute('xmlns:xlink', XLINK_NS);
  root.setAttribute('width', String(layout.width));
  root.setAttribute('height', String(layout.height));
  root.setAttribute('viewBox', `0 0 ${layout.width} ${layout.height}`);
  const label = svg.getAttribute('aria-label');
  if (label) root.setAttribute('aria-label', label);

  const bg = doc.createElementNS(SVG_NS, 'rect');
  bg.setAttribute('x', '0');
  bg.setAttribute('y', '0');
  bg.setAttribute('width', String(layout.width));
  bg.setAttribute('height', String(layout.height));
  bg.setAttribute('style', `fill:${colors.background};stroke:none`);
  bg.setAttribute('data-export', 'background');
  root.appendChild(bg);

  if (layout.titleLines.length) {
    const g = doc.createElementNS(SVG_NS, 'g');
    g.setAttribute('data-export', 'title');
    for (const l of layout.titleLines) g.appendChild(textEl(doc, PAD, l.y, l.text, TITLE_FONT_PX, '600', colors.title));
    root.appendChild(g);
  }

  // The chart as a nested <svg>: keeps its own coordinate system (and viewBox, if any) and clips
  // whatever it draws outside itself, so it cannot run into the header or footer.
  clone.removeAttribute('class');
  clone.setAttribute('x', '0');
  clone.setAttribute('y', String(layout.chartY));
  clone.setAttribute('width', String(w));
  clone.setAttribute('height', String(h));
  clone.setAttribute('overflow', 'hidden');
  const cloneStyle = (clone.getAttribute('style') ?? '').replace(/(^|;)\s*(overflow|display)\s*:[^;]*/g, '');
  clone.setAttribute('style', cloneStyle);
  root.appendChild(clone);

  if (layout.captionLines.length) {
    const g = doc.createElementNS(SVG_NS, 'g');
    g.setAttribute('data-export', 'caption');
    for (const l of layout.captionLines) g.appendChild(textEl(doc, PAD, l.y, l.text, CAPTION_FONT_PX, '400', colors.caption));
    root.appendChild(g);
  }
  return root;
}
