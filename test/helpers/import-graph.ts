/**
 * The import graph of src/ by folder, and the two ways it can break the floors of src/floors.json:
 * an import that runs upward (or sideways, between folders of one floor), and folders that import
 * each other in a loop. Imports are read with TypeScript's own pre-processor, so static, dynamic,
 * re-export and type-only imports are all seen.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import of one module: the importing file and the imported file, relative to src/. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

/** The folder under src/ a module belongs to; files directly in src/ (the package entry) belong to ''. */
export function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 1 ? parts[0]! : '';
}

/** Every relative import between the .ts files under `srcDir`. */
export function readImportGraph(srcDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        const from = relative(srcDir, full).split(sep).join('/');
        for (const imported of ts.preProcessFile(readFileSync(full, 'utf8'), true, true).importedFiles) {
          if (!imported.fileName.startsWith('.')) continue;
          const target = resolve(dirname(full), imported.fileName).replace(/\.js$/, '.ts');
          edges.push({ from, to: relative(srcDir, target).split(sep).join('/') });
        }
      }
    }
  };
  walk(srcDir);
  return edges;
}

/** One line per import that leaves its folder for a folder not on a lower floor. */
export function floorViolations(floors: readonly (readonly string[])[], edges: readonly ImportEdge[]): string[] {
  const level = new Map<string, number>();
  floors.forEach((floor, i) => floor.forEach((folder) => level.set(folder, i)));
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const a = folderOf(from), b = folderOf(to);
    if (a === b || a === '') continue; // within a folder, or the package entry that re-exports everything
    const la = level.get(a), lb = level.get(b);
    if (la === undefined) problems.push(`${from}: folder '${a}' is on no floor; add it to src/floors.json`);
    else if (lb === undefined) problems.push(`${from} imports ${to}: folder '${b}' is on no floor; add it to src/floors.json`);
    else if (lb >= la) problems.push(`${from} imports ${to}: '${b}' (floor ${lb}) is not below '${a}' (floor ${la})`);
  }
  return [...new Set(problems)];
}

/** Loops among folders (each as a path a → b → … → a), found by depth-first search of the folder graph. */
export function folderLoops(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = folderOf(from), b = folderOf(to);
    if (a === b || a === '') continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
  }
  const loops: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (folder: string): void => {
    state.set(folder, 'open');
    path.push(folder);
    for (const b of [...(next.get(folder) ?? [])].sort()) {
      if (state.get(b) === 'open') loops.push([...path.slice(path.indexOf(b)), b]);
      else if (state.get(b) === undefined) visit(b);
    }
    path.pop();
    state.set(folder, 'done');
  };
  for (const folder of [...next.keys()].sort()) if (!state.has(folder)) visit(folder);
  return loops;
}
