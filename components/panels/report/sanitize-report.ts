/**
 * What goes into a report (and from there into an exported HTML file) is cleaned first, so an
 * item can neither run code nor load anything from the network, whatever localStorage holds:
 * tables keep only table/thead/tbody/tr/th/td and their text; SVGs lose scripts, foreign
 * content, event handlers and any link that is not a fragment or an embedded data: image.
 */

const TABLE_TAGS = new Set(['table', 'thead', 'tbody', 'tr', 'th', 'td']);
/** Elements dropped with everything inside them (their text is not content). */
const DROP_WITH_CONTENT = new Set(['script', 'style', 'template', 'noscript', 'iframe', 'object', 'embed', 'foreignobject', 'audio', 'video', 'link', 'meta']);

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Re-serialises the allowed structure from scratch: no attributes, other elements unwrapped to their text. */
function tableMarkup(node: Node): string {
  if (node.nodeType === 3) return escapeText(node.textContent ?? '');
  if (node.nodeType !== 1) return '';
  const el = node as Element;
  const tag = el.localName.toLowerCase();
  if (DROP_WITH_CONTENT.has(tag)) return '';
  const inner = Array.from(el.childNodes).map(tableMarkup).join('');
  return TABLE_TAGS.has(tag) ? `<${tag}>${inner}</${tag}>` : inner;
}

/** A table (element or HTML text) as clean markup; null when there is no <table> in it. */
export function sanitizeTableHtml(input: Element | string): string | null {
  let table: Element | null;
  if (typeof input === 'string') {
    const parsed = new DOMParser().parseFromString(`<!doctype html><body>${input}`, 'text/html');
    table = parsed.querySelector('table');
  } else {
    table = input.localName === 'table' ? input : input.querySelector('table');
  }
  return table ? tableMarkup(table) : null;
}

/** A CSS url() that is neither a fragment nor an embedded image, or an @import. */
const REMOTE_URL = /url\(\s*['"]?(?!#|data:image\/)|@import/i;

function safeRef(v: string): boolean {
  const t = v.trim().toLowerCase();
  return t.startsWith('#') || /^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/.test(t);
}

/** The standalone SVG text cleaned of anything active or remote; null when it is not an SVG document. */
export function sanitizeSvg(text: string): string | null {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement;
  if (doc.querySelector('parsererror') || root.localName !== 'svg') return null;
  const walk = (el: Element) => {
    for (const child of Array.from(el.children)) {
      if (DROP_WITH_CONTENT.has(child.localName.toLowerCase())) child.remove();
      else walk(child);
    }
    for (const a of Array.from(el.attributes)) {
      const name = a.name.toLowerCase();
      const bad =
        name.startsWith('on') ||
        ((name === 'href' || name.endsWith(':href') || name === 'src') && !safeRef(a.value)) ||
        /^\s*javascript:/i.test(a.value);
      if (bad) el.removeAttributeNode(a);
      else if (name === 'style' && REMOTE_URL.test(a.value)) {
        // Keep the presentation (export-svg inlines fill, stroke, fonts here); drop only what would fetch.
        el.setAttribute('style', a.value.split(';').filter((d) => !REMOTE_URL.test(d)).join(';'));
      }
    }
  };
  walk(root);
  return new XMLSerializer().serializeToString(root);
}

/** Base64 of UTF-8 text, for a data: URL (btoa only takes Latin-1). */
export function utf8Base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;base64,${utf8Base64(svg)}`;
}
