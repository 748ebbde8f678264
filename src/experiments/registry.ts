/** The experiments `vqlab experiment NAME` can run, by name. */
import { beta } from './beta.js';
import { codebookSize } from './codebook-size.js';
import type { ExperimentDefinition } from './definition.js';
import { optimization } from './optimization.js';
import type { ExperimentKind } from './types.js';

export const EXPERIMENTS: Readonly<Record<ExperimentKind, ExperimentDefinition>> = {
  'codebook-size': codebookSize,
  optimization,
  beta,
};

export function experimentDefinition(kind: string): ExperimentDefinition {
  if (!Object.hasOwn(EXPERIMENTS, kind)) throw new Error(`unknown experiment '${kind}'; choose from ${Object.keys(EXPERIMENTS).join(', ')}`);
  return EXPERIMENTS[kind as ExperimentKind];
}
