/**
 * Rewrites the quantizer option tables of README.md from the option schemas (`npm run
 * readme:options`); test/quantizer-option-table.test.ts checks that the README is in step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withQuantizerOptions } from '../../src/quantizers/option-table.js';
import { REPO_ROOT } from './readme-example.js';

const path = join(REPO_ROOT, 'README.md');
writeFileSync(path, withQuantizerOptions(readFileSync(path, 'utf8')));
console.log(`updated the quantizer options in ${path}`);
