/** Markdown (GitHub) tables of plain-text cells, for numbers quoted in Markdown documents. */

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A table with a header row; the first `leftCols` columns are left-aligned, the rest right-aligned. */
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[], leftCols = 1): string {
  const lines = [
    `| ${head.map(cell).join(' | ')} |`,
    `|${head.map((_, i) => (i < leftCols ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}
