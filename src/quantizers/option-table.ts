/**
 * The README's tables of quantizers and their options, written from the registry and the option
 * schemas, so that the documentation cannot drift from what the code accepts. The README holds the
 * text between QUANTIZER_OPTIONS_MARKERS; test/quantizer-option-table.test.ts fails when it differs
 * from `quantizerOptionsMarkdown()`, and `npm run readme:options` rewrites it.
 *
 * Options shared by several quantizers (the common K, d, β and weight; the codebook options) get
 * one table each; a quantizer's own table lists only the options it defines itself, so that a
 * shared option is described once.
 */
import { CODEBOOK_OPTIONS } from './codebook-options.js';
import { describeDefault, settableFromCommandLine, type OptionDefinition, type OptionSchema } from './option-schema.js';
import { COMMON_OPTIONS } from './options.js';
import { QUANTIZERS } from './registry.js';

export const QUANTIZER_OPTIONS_MARKERS = { start: '<!-- quantizer-options:start -->', end: '<!-- quantizer-options:end -->' } as const;

const SHARED: readonly OptionSchema[] = [COMMON_OPTIONS, CODEBOOK_OPTIONS];

function isShared(key: string, spec: OptionDefinition): boolean {
  return SHARED.some((group) => group[key] === spec);
}

function typeOf(spec: OptionDefinition): string {
  switch (spec.type) {
    case 'choice':
      return spec.choices.join(' \\| ');
    case 'integer-list':
      return 'integers';
    default:
      return spec.type;
  }
}

function boundsOf(spec: OptionDefinition): string {
  if (!('min' in spec || 'max' in spec)) return '';
  const parts: string[] = [];
  if (spec.min !== undefined) parts.push(`${spec.minExclusive ? '>' : '≥'} ${spec.min}`);
  if (spec.max !== undefined) parts.push(`${spec.maxExclusive ? '<' : '≤'} ${spec.max}`);
  return parts.join(', ');
}

function table(options: readonly (readonly [string, OptionDefinition])[]): string[] {
  const rows = ['| option | type | default | bounds | what it does |', '| --- | --- | --- | --- | --- |'];
  for (const [key, spec] of options) {
    rows.push(`| \`${key}\` | ${typeOf(spec)} | ${describeDefault(spec)} | ${boundsOf(spec)} | ${spec.doc.replaceAll('|', '\\|')} |`);
  }
  return rows;
}

function settable(schema: OptionSchema): [string, OptionDefinition][] {
  return Object.entries(schema).filter(([, spec]) => settableFromCommandLine(spec));
}

/** The markdown between the README's markers (without them). */
export function quantizerOptionsMarkdown(): string {
  const lines: string[] = ['| name | what it is |', '| --- | --- |'];
  for (const entry of Object.values(QUANTIZERS)) lines.push(`| \`${entry.name}\` | ${entry.summary} |`);
  lines.push('', 'Options every codebook quantizer (`vq`, `ema`, `simvq`, `lfq`) takes:', '', ...table(settable(COMMON_OPTIONS)));
  lines.push('', 'Codebook options (`vq` and `simvq` take all of them, `ema` those it lists):', '', ...table(settable(CODEBOOK_OPTIONS)));
  for (const entry of Object.values(QUANTIZERS)) {
    const all = settable(entry.options);
    const own = all.filter(([key, spec]) => !isShared(key, spec));
    const codebook = all.filter(([key, spec]) => CODEBOOK_OPTIONS[key as keyof typeof CODEBOOK_OPTIONS] === spec).map(([key]) => `\`${key}\``);
    lines.push('', `\`${entry.name}\`'s own options${codebook.length ? ` (and the codebook options ${codebook.join(', ')})` : ''}${entry.name === 'residual' ? ' (and every option of its base, applied to each stage)' : ''}:`, '');
    lines.push(...table(own));
  }
  return lines.join('\n');
}

/** `readme` with the text between the markers replaced by `quantizerOptionsMarkdown()`. */
export function withQuantizerOptions(readme: string): string {
  const { start, end } = QUANTIZER_OPTIONS_MARKERS;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the README has no ${start} … ${end} block to hold the quantizer options`);
  return `${readme.slice(0, from + start.length)}\n${quantizerOptionsMarkdown()}\n${readme.slice(to)}`;
}
