/**
 * Minimal SVG/XML string building. Figures are assembled as strings (no DOM, no canvas) so they
 * can be written to files and inlined into a self-contained HTML report unchanged.
 *
 * Every piece of text and every attribute value passes through `escapeXml`, so labels taken from
 * user input (run names, CLI options) can never break the document.
 */

/** Escape the five XML special characters; safe for text content and double-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      default: return '&apos;';
    }
  });
}

export type AttrValue = string | number | undefined;

/** Numbers in coordinates are rounded to 2 decimals: enough for screen output, much smaller files. */
export function fmtCoord(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`svg: non-finite coordinate ${v}`);
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

function attrs(a: Readonly<Record<string, AttrValue>>): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === 'number' ? fmtCoord(v) : escapeXml(v)}"`;
  }
  return s;
}

/** An element whose children are already-serialized markup (from `el`/`text`). */
export function el(tag: string, a: Readonly<Record<string, AttrValue>> = {}, children: readonly string[] = []): string {
  return children.length === 0 ? `<${tag}${attrs(a)}/>` : `<${tag}${attrs(a)}>${children.join('')}</${tag}>`;
}

/** An element holding escaped text. */
export function textEl(tag: string, a: Readonly<Record<string, AttrValue>>, content: string): string {
  return `<${tag}${attrs(a)}>${escapeXml(content)}</${tag}>`;
}

/** The root <svg> element (no XML declaration, so the same string can be inlined into HTML). */
export function svgRoot(width: number, height: number, children: readonly string[], title?: string): string {
  const head = title === undefined ? [] : [textEl('title', {}, title)];
  return el('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    width, height,
    viewBox: `0 0 ${fmtCoord(width)} ${fmtCoord(height)}`,
    'font-family': 'Helvetica, Arial, sans-serif',
    'font-size': 11,
  }, [...head, ...children]);
}
