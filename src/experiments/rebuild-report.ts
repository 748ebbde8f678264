/**
 * Regenerating an experiment directory's figures and report.html from its results.json. Used at the
 * end of every experiment and by `vqlab report DIR`, so a report can be redrawn (new chart code, a
 * merged results.json) without retraining.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { experimentDefinition } from './registry.js';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { readResults } from './results.js';
import type { ExperimentResults } from './types.js';
import { renderHtmlReport, type RunFigures } from './html-report.js';
import { lossCurveSvg, usageSvg } from './run-figures.js';

const FIGURES_DIR = 'figures';
const REPORT_HTML = 'report.html';

export interface RebuildSummary {
  readonly report: string;
  /** Written SVG files, relative to the experiment directory. */
  readonly figures: readonly string[];
}

export async function rebuildReport(dir: string, given?: ExperimentResults): Promise<RebuildSummary> {
  const results = given ?? readResults(dir);
  const def = experimentDefinition(results.experiment);
  const figDir = join(dir, FIGURES_DIR);
  mkdirSync(join(figDir, 'runs'), { recursive: true });
  const written: string[] = [];
  const figures = def.figures(results);
  for (const f of figures) {
    const rel = `${FIGURES_DIR}/${f.name}.svg`;
    await writeFileAtomic(join(dir, rel), `${f.svg}\n`);
    written.push(rel);
  }
  const runFigures = new Map<string, RunFigures>();
  const images = new Map<string, Uint8Array>();
  for (const r of results.runs) {
    const figs = { loss: lossCurveSvg(r), usage: usageSvg(r) };
    runFigures.set(r.spec.id, figs);
    for (const [kind, svg] of Object.entries(figs)) {
      const rel = `${FIGURES_DIR}/runs/${r.spec.id}-${kind}.svg`;
      await writeFileAtomic(join(dir, rel), `${svg}\n`);
      written.push(rel);
    }
    if (r.recon && existsSync(join(dir, r.recon))) images.set(r.recon, readFileSync(join(dir, r.recon)));
  }
  const report = join(dir, REPORT_HTML);
  await writeFileAtomic(report, renderHtmlReport({ results, def, figures, runFigures, images }));
  return { report, figures: written };
}
