import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { sortedRuns } from '../src/experiments/count-runs.js';
import { makeAxis } from '../src/report/axis.js';
import { barChart } from '../src/report/bar-chart.js';
import { lineChart } from '../src/report/line-chart.js';
import { escapeXml } from '../src/report/svg.js';
import { usageChart } from '../src/report/usage-chart.js';

/** Well-formedness by a real XML parser; returns the document tree for further checks. */
function parseSvg(svg: string): Record<string, unknown> {
  const valid = XMLValidator.validate(svg);
  assert.equal(valid, true, `not well-formed XML: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({ ignoreAttributes: false, processEntities: true, htmlEntities: false }).parse(svg) as Record<string, unknown>;
  assert.ok(doc['svg'], 'root element is <svg>');
  return doc;
}

function count(svg: string, cls: string): number {
  return svg.split(`class="${cls}"`).length - 1;
}

/** Text of <text class="…cls…"> elements, unescaped. */
function texts(svg: string, cls: string): string[] {
  const re = new RegExp(`<text[^>]*class="[^"]*\\b${cls}\\b[^"]*"[^>]*>([^<]*)</text>`, 'g');
  return [...svg.matchAll(re)].map((m) => new XMLParser().parse(`<t>${m[1]}</t>`).t as string).map(String);
}

test('line chart: one marker per point, one line per series, error bars, legend', () => {
  const svg = lineChart({
    title: 'utilization vs K',
    x: { label: 'K', scale: 'log2' },
    y: { label: 'utilization (%)', domain: [0, 100] },
    series: [
      { label: 'vq', points: [256, 1024, 4096, 16384, 65536].map((x, i) => ({ x, y: 90 - 20 * i, yErr: 2 })) },
      { label: 'simvq', points: [256, 1024, 4096].map((x) => ({ x, y: 100 })) },
    ],
  });
  parseSvg(svg);
  assert.equal(count(svg, 'point'), 8);
  assert.equal(count(svg, 'series-line'), 2);
  assert.equal(count(svg, 'error-bar'), 5);
  assert.equal(count(svg, 'legend-entry'), 2);
});

test('line chart: series whose colour repeats an earlier one get hollow markers, in the plot and the legend', () => {
  const series = Array.from({ length: 11 }, (_, i) => ({ label: `s${i}`, points: [{ x: 1, y: i }, { x: 2, y: i + 1 }] }));
  const svg = lineChart({ title: 't', x: { label: 'x' }, y: { label: 'y' }, series });
  parseSvg(svg);
  const groups = [...svg.matchAll(/<g class="series" data-label="(s\d+)">(.*?)<\/g>/g)];
  assert.equal(groups.length, 11);
  const strokeOf = (g: string): string => /stroke="(#[0-9a-f]{6})"/.exec(g)![1]!;
  assert.equal(strokeOf(groups[10]![2]!), strokeOf(groups[0]![2]!), 'the 11th series repeats the first colour');
  for (const [, label, g] of groups) {
    const fills = [...g!.matchAll(/<circle[^>]* fill="([^"]+)"[^>]*class="point"/g)].map((m) => m[1]);
    assert.deepEqual(fills, label === 's10' ? ['white', 'white'] : [strokeOf(g!), strokeOf(g!)], label);
  }
  const legend = [...svg.matchAll(/<g class="legend-entry">(.*?)<\/g>/g)].map((m) => m[1]!);
  assert.deepEqual(legend.map((e) => e.includes('<circle')), [...Array(10).fill(false), true]);
});

test('a long legend label widens the chart instead of being cut off; the plot keeps its size', () => {
  const chart = (label: string): { width: number; axisEnd: number; labelX: number } => {
    const svg = lineChart({
      title: 't', x: { label: 'K' }, y: { label: 'y' },
      series: [{ label: 'simvq', points: [{ x: 1, y: 1 }] }, { label, points: [{ x: 1, y: 2 }] }],
    });
    parseSvg(svg);
    const width = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
    const axisEnd = Number(/<g class="x-axis"><line x1="[\d.]+" x2="([\d.]+)"/.exec(svg)![1]);
    const entries = [...svg.matchAll(/<g class="legend-entry">.*?<text x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)];
    assert.deepEqual(entries.map((e) => e[2]), ['simvq', label]);
    return { width, axisEnd, labelX: Number(entries[1]![1]) };
  };
  const short = chart('vq');
  const long = chart('vq:init=normal:initScale=0.125');
  assert.equal(short.width, 520, 'short labels keep the default width');
  assert.equal(long.axisEnd - 62, short.axisEnd - 62, 'the plot area is unchanged');
  // 30 characters at 11 px (≤ 0.62 em each) fit between the label's x and the chart's right edge.
  assert.ok(long.width - long.labelX >= 30 * 0.62 * 11, `${long.width - long.labelX} px for the label`);
});

test('log2 axis: ticks at every power of two with plain labels, equally spaced', () => {
  const axis = makeAxis({ label: 'K', scale: 'log2' }, [256, 1024, 65536], [0, 800]);
  assert.deepEqual(axis.domain, [256, 65536]);
  assert.deepEqual(axis.ticks.map((t) => t.label), ['256', '512', '1024', '2048', '4096', '8192', '16384', '32768', '65536']);
  const gaps = axis.ticks.slice(1).map((t, i) => t.position - axis.ticks[i]!.position);
  for (const g of gaps) assert.ok(Math.abs(g - 100) < 1e-9, `equal spacing, got ${g}`);
  // In the rendered chart the same labels appear as x tick text.
  const svg = lineChart({ title: 't', x: { label: 'K', scale: 'log2' }, y: { label: 'y' }, series: [{ label: 'a', points: [{ x: 256, y: 1 }, { x: 65536, y: 2 }] }] });
  parseSvg(svg);
  assert.deepEqual(texts(svg, 'x-tick'), ['256', '512', '1024', '2048', '4096', '8192', '16384', '32768', '65536']);
});

test('log2 axis: a single value gets one power of two on each side; explicit ticks are honoured', () => {
  assert.deepEqual(makeAxis({ label: 'K', scale: 'log2' }, [1024], [0, 1]).ticks.map((t) => t.label), ['512', '1024', '2048']);
  const beta = makeAxis({ label: 'β', scale: 'log2', ticks: [0.1, 0.25, 0.5, 1, 2] }, [0.1, 2], [0, 1]);
  assert.deepEqual(beta.ticks.map((t) => t.label), ['0.1', '0.25', '0.5', '1', '2']);
  assert.ok(beta.domain[0] <= 0.1 && beta.domain[1] >= 2);
});

test('log10 axis: powers of ten with SI labels; values <= 0 are not drawn', () => {
  const axis = makeAxis({ label: 'count', scale: 'log10' }, [1, 5000], [300, 0]);
  assert.deepEqual(axis.ticks.map((t) => t.label), ['1', '10', '100', '1k', '10k']);
  assert.ok(axis.ticks[0]!.position > axis.ticks[4]!.position, 'larger counts are drawn higher');
  const svg = lineChart({ title: 'losses', x: { label: 'epoch' }, y: { label: 'loss', scale: 'log10' }, series: [{ label: 'l', points: [{ x: 1, y: 0.5 }, { x: 2, y: 0 }, { x: 3, y: 0.01 }, { x: 4, y: Number.NaN }] }] });
  parseSvg(svg);
  assert.equal(count(svg, 'point'), 2);
  assert.deepEqual(texts(svg, 'y-tick'), ['0.01', '0.1', '1']);
});

test('bar chart: one bar per non-null value, error bars, category labels', () => {
  const svg = barChart({
    title: 'utilization by variant', xLabel: 'variant',
    categories: ['vq', 'simvq (W)', 'simvq (C)', 'simvq (both)'],
    groups: [
      { label: 'K = 256', values: [40, 100, 45, 90], errors: [3, 0, 2, null] },
      { label: 'K = 1024', values: [10, 99, null, 80] },
    ],
    y: { label: 'utilization (%)', domain: [0, 100] },
  });
  parseSvg(svg);
  assert.equal(count(svg, 'bar'), 7);
  assert.equal(count(svg, 'error-bar'), 2);
  assert.deepEqual(texts(svg, 'x-tick'), ['vq', 'simvq (W)', 'simvq (C)', 'simvq (both)']);
  assert.throws(() => barChart({ title: 'x', xLabel: 'x', categories: ['a'], groups: [{ label: 'g', values: [1, 2] }], y: { label: 'y' } }), /2 values for 1 categories/);
});

test('text with <&>"\' is escaped and survives a round trip through the XML parser', () => {
  const nasty = `a <b> & "c" 'd'`;
  assert.equal(escapeXml(nasty), 'a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;');
  const svg = lineChart({ title: `title ${nasty}`, x: { label: `x ${nasty}` }, y: { label: 'y' }, series: [{ label: `s ${nasty}`, points: [{ x: 1, y: 1 }] }, { label: '<&>', points: [] }] });
  const doc = parseSvg(svg);
  assert.equal((doc['svg'] as Record<string, unknown>)['title'], `title ${nasty}`);
  assert.ok(texts(svg, 'axis-label').includes(`x ${nasty}`));
  const bars = barChart({ title: '<&>', xLabel: '<&>', categories: ['<&>'], groups: [{ label: '<&>', values: [1] }], y: { label: '<&>' } });
  parseSvg(bars);
  parseSvg(usageChart({ title: '<&>', runs: [[1, 1]] }));
});

test('usage chart: sorted runs of equal counts, dead codes shaded, uniform reference', () => {
  const counts = [0, 5, 1, 5, 0, 3, 0, 1];
  assert.deepEqual(sortedRuns(counts), [[5, 2], [3, 1], [1, 2], [0, 3]]);
  const svg = usageChart({ title: 'usage', runs: sortedRuns(counts) });
  parseSvg(svg);
  assert.equal(count(svg, 'dead-region'), 1);
  assert.equal(count(svg, 'uniform'), 1);
  assert.ok(svg.includes('5 / 8 codes used (62.5%)'));
  // One vertical + one horizontal segment per run of equal counts.
  const d = /class="usage"/.test(svg) ? /<path d="([^"]+)"[^>]*class="usage"/.exec(svg)![1]! : '';
  assert.equal((d.match(/H/g) ?? []).length, 4);
  // 65,536 codes stay compact: the path has one step per distinct count.
  const big = new Float64Array(65536);
  for (let i = 0; i < 700; i++) big[i] = 1 + (i % 37);
  const bigSvg = usageChart({ title: 'K = 65536', runs: sortedRuns(big) });
  parseSvg(bigSvg);
  assert.ok(bigSvg.length < 20000, `compact SVG, got ${bigSvg.length} chars`);
  assert.ok(bigSvg.includes('700 / 65536 codes used (1.1%)'));
});

test('charts without data are still valid SVG and say so', () => {
  const svg = lineChart({ title: 'empty', x: { label: 'x', scale: 'log2' }, y: { label: 'y', scale: 'log10' }, series: [] });
  parseSvg(svg);
  assert.ok(svg.includes('no data'));
  parseSvg(usageChart({ title: 'empty', runs: [] }));
  parseSvg(barChart({ title: 'empty', xLabel: 'x', categories: [], groups: [], y: { label: 'y' } }));
});
