/**
 * Self-contained HTML pages: a document with one inline style sheet, tables, and PNG images embedded
 * as base64 data URIs. Nothing external is referenced (no scripts, fonts or files), so one page can
 * be mailed or attached to an issue as it is.
 */
import { escapeXml as esc } from './svg.js';

const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1500px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; } h3 { font-size: 14px; margin: 16px 0 4px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 12px; color: #555; max-width: 520px; }
.row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
img.recon { image-rendering: pixelated; border: 1px solid #ccc; max-width: 420px; }
p.note { color: #555; font-size: 13px; }
`;

/** A table of plain-text cells (escaped here); the first `leftCols` columns are left-aligned. */
export function htmlTable(head: readonly string[], rows: readonly (readonly string[])[], leftCols = 1): string {
  const th = head.map((h, i) => `<th${i < leftCols ? ' class="l"' : ''}>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${i < leftCols ? ' class="l"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/** An `<img>` of PNG bytes embedded as a data URI, drawn with crisp (unsmoothed) pixels. */
export function pngImage(bytes: Uint8Array, alt: string): string {
  return `<img class="recon" alt="${esc(alt)}" title="${esc(alt)}" src="data:image/png;base64,${Buffer.from(bytes).toString('base64')}">`;
}

/** The whole document: `title` (escaped) as page title and heading, then `body` (HTML, as is). */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(title)}</h1>
${body}
</body>
</html>
`;
}
