/** The plotting module's public surface: SVG line, bar and usage charts assembled as strings. */
export { escapeXml } from './svg.js';
export { makeAxis, type AxisSpec, type ScaleKind, type Tick } from './axis.js';
export { lineChart, type LineChartOptions, type Point, type Series } from './line-chart.js';
export { barChart, type BarChartOptions, type BarGroup } from './bar-chart.js';
export { usageChart, type CountStep, type UsageChartOptions } from './usage-chart.js';
export { PALETTE, colorAt } from './chart-frame.js';
