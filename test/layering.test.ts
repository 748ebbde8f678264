import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floorViolations, folderLoops, readImportGraph } from './helpers/import-graph.js';

// dist/test/layering.test.js → the repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const srcDir = join(root, 'src');
const floors: string[][] = JSON.parse(readFileSync(join(srcDir, 'floors.json'), 'utf8')).floors;

test('the checks catch an upward import, a sideways import, an unplaced folder and a loop', () => {
  const edges = [
    { from: 'train/train.ts', to: 'graph/ops.ts' },
    { from: 'graph/ops.ts', to: 'train/train.ts' },
    { from: 'eval/evaluator.ts', to: 'tokenize/tokenizer.ts' },
    { from: 'attic/old.ts', to: 'graph/ops.ts' },
  ];
  const problems = floorViolations([['graph'], ['eval', 'tokenize'], ['train']], edges);
  assert.deepEqual(problems, [
    "graph/ops.ts imports train/train.ts: 'train' (floor 2) is not below 'graph' (floor 0)",
    "eval/evaluator.ts imports tokenize/tokenizer.ts: 'tokenize' (floor 1) is not below 'eval' (floor 1)",
    "attic/old.ts: folder 'attic' is on no floor; add it to src/floors.json",
  ]);
  assert.deepEqual(folderLoops(edges), [['graph', 'train', 'graph']]);
  assert.deepEqual(folderLoops(edges.filter((e) => e.from !== 'graph/ops.ts')), []);
});

test('every folder of src/ stands on exactly one floor', () => {
  const placed = floors.flat();
  assert.equal(new Set(placed).size, placed.length, `a folder is on two floors: ${placed.join(', ')}`);
  const folders = readdirSync(srcDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  assert.deepEqual([...placed].sort(), folders);
});

test('every import of src/ runs downward, and no folders import each other in a loop', () => {
  const edges = readImportGraph(srcDir);
  assert.ok(edges.length > 300, `only ${edges.length} imports found; the reader is broken`);
  assert.deepEqual(floorViolations(floors, edges), []);
  assert.deepEqual(folderLoops(edges), []);
});
