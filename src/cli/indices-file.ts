/**
 * The JSON that `vqlab encode` writes and `vqlab decode` reads. `decode` also accepts bare nested
 * arrays: one h×w grid, or a list of them. The file is sized before it is read, and every grid is
 * checked (shape, each index an integer in [0, K)) before the index array is allocated, so any
 * file ends in the grids or in one line that names the file and the first wrong value.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { limitExceeded, type InputLimits } from '../limits/input-limits.js';
import { shownValue as show } from '../limits/shown-value.js';

export interface IndicesFile {
  readonly checkpoint?: string;
  readonly codebook_size?: number;
  /** [h, w] of every grid, or [h, w, D] for a residual quantizer of depth D. */
  readonly grid?: readonly number[];
  /** h rows of w indices, or of w arrays of D indices (one per stage) for a residual quantizer. */
  readonly images: readonly { readonly file?: string; readonly indices: readonly (readonly (number | readonly number[])[])[] }[];
}

/** An indices file that cannot be decoded by the model at hand; the one-line message names the file and the fix. */
export class IndicesFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndicesFileError';
  }
}

/** What the model decodes: its latent grid, the indices per cell (residual depth) and K. */
export interface IndexGridShape {
  readonly height: number;
  readonly width: number;
  readonly depth: number;
  readonly codebookSize: number;
}

export interface IndexGrids {
  /** Names (source file names when known) of each grid. */
  readonly names: readonly (string | undefined)[];
  /** All grids, flattened row-major: count × h × w (× depth). */
  readonly indices: Int32Array;
}

/** Reads and parses an indices JSON file, refusing one over `limits.maxJsonBytes` before reading it. */
export function readIndicesJson(file: string, limits: InputLimits): unknown {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > limits.maxJsonBytes) throw new IndicesFileError(limitExceeded(`indices file ${file}`, 'maxJsonBytes', size, limits));
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof IndicesFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new IndicesFileError(`indices file ${file} does not exist; check the path`);
    if (code === 'EISDIR') throw new IndicesFileError(`indices file ${file} is a directory; give the JSON file \`vqlab encode\` wrote`);
    throw new IndicesFileError(`cannot read indices file ${file}: ${code ?? String(err)}; check the path and its permissions`);
  }
  return parseIndicesJson(text, file);
}

/** The JSON value in an indices file's text; text that is not JSON is refused in one line. */
export function parseIndicesJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new IndicesFileError(`${file} is not valid JSON; give the output of \`vqlab encode\``);
  }
}

/**
 * One file name per grid, `<stem>.decoded<extension>` (the modality's, for images `.png`), the
 * stem from the encoded file's name or `decoded-<i>`. Names must differ within one call (images `a/x.png` and `b/x.png` both have the
 * stem `x`), so a repeated stem gets the grid's position: `x.0.decoded.png`, `x.1.decoded.png`.
 */
export function decodedFileNames(names: readonly (string | undefined)[], extension: string): string[] {
  const stems = names.map((name, i) => (name !== undefined ? basename(name, extname(name)) : `decoded-${i}`));
  const count = new Map<string, number>();
  for (const s of stems) count.set(s, (count.get(s) ?? 0) + 1);
  const used = new Set<string>();
  return stems.map((stem, i) => {
    let candidate = count.get(stem)! > 1 ? `${stem}.${i}` : stem;
    while (used.has(candidate)) candidate = `${candidate}.${i}`;
    used.add(candidate);
    return `${candidate}.decoded${extension}`;
  });
}

/**
 * A source file name usable as the stem of an output file: a non-empty name of at most 200
 * characters (file systems allow 255 bytes) with no control characters, else none.
 */
function usableName(file: unknown): string | undefined {
  if (typeof file !== 'string') return undefined;
  const stem = basename(file, extname(file));
  return stem.length > 0 && stem !== '.' && stem !== '..' && stem.length <= 200 && !/[\u0000-\u001f\u007f]/.test(file) ? file : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}


/** How many arrays nest at the start of `v` (`[[1]]` → 2), counted up to `most`. */
function leadingNesting(v: unknown, most: number): number {
  let n = 0;
  for (let x = v; Array.isArray(x) && n < most; x = x[0]) n++;
  return n;
}

/** The grids of a file: a bare grid, a list of bare grids, or `vqlab encode` output. */
function gridsOf(json: unknown, source: string, shape: IndexGridShape): { name: string | undefined; grid: unknown }[] {
  const notIndices = `${source} is neither \`vqlab encode\` output ({"images": [{"indices": ...}]}) nor an h×w array of indices (or a list of them)`;
  if (Array.isArray(json)) {
    // A bare grid nests rows of cells (2 levels of arrays, 3 when a cell holds one index per stage); a list of grids nests one more.
    const gridNesting = shape.depth > 1 ? 3 : 2;
    return leadingNesting(json, gridNesting + 1) <= gridNesting ? [{ name: undefined, grid: json }] : json.map((grid) => ({ name: undefined, grid }));
  }
  if (!isRecord(json) || !Array.isArray(json.images)) throw new IndicesFileError(notIndices);
  const expectedGrid = shape.depth > 1 ? [shape.height, shape.width, shape.depth] : [shape.height, shape.width];
  if (json.grid !== undefined && !(Array.isArray(json.grid) && json.grid.length === expectedGrid.length && json.grid.every((v, i) => v === expectedGrid[i]))) {
    throw new IndicesFileError(`${source} declares grid ${show(json.grid)} but the model's latent grid is ${expectedGrid.join('×')}; decode it with the checkpoint that encoded it`);
  }
  if (json.codebook_size !== undefined && json.codebook_size !== shape.codebookSize) {
    throw new IndicesFileError(`${source} declares codebook_size ${show(json.codebook_size)} but the model has ${shape.codebookSize} codes; decode it with the checkpoint that encoded it`);
  }
  return json.images.map((img: unknown, i) => {
    if (!isRecord(img)) throw new IndicesFileError(`${source}: images[${i}] is ${show(img)}, expected {"file": …, "indices": h×w arrays}`);
    return { name: usableName(img.file), grid: img.indices };
  });
}

/** Checks one grid's shape (h rows of w cells of `depth` indices) and that every index is in [0, K). */
function checkGrid(grid: unknown, i: number, source: string, shape: IndexGridShape): void {
  const { height, width, depth, codebookSize } = shape;
  const expected = `the model's latent grid is ${height}×${width}`;
  if (!Array.isArray(grid)) throw new IndicesFileError(`${source}: grid ${i} is not a grid of numbers; ${expected}`);
  if (grid.length !== height) throw new IndicesFileError(`${source}: grid ${i} has ${grid.length} rows but ${expected}`);
  grid.forEach((row: unknown, y) => {
    if (!Array.isArray(row)) throw new IndicesFileError(`${source}: grid ${i} row ${y} is ${show(row)}, not a row of indices; ${expected}`);
    if (row.length !== width) throw new IndicesFileError(`${source}: grid ${i} row ${y} has ${row.length} ${depth === 1 ? 'indices' : 'cells'} but ${expected} (${width} per row)`);
    row.forEach((cell: unknown, x) => {
      const values: unknown[] = Array.isArray(cell) ? cell : [cell];
      if (values.length !== depth) {
        throw new IndicesFileError(`${source}: grid ${i} has ${values.length} ${values.length === 1 && !Array.isArray(cell) ? 'index' : 'indices'} at row ${y}, column ${x} but the model's quantizer has ${depth} stage${depth === 1 ? '' : 's'}${depth > 1 ? ' (write each cell as an array of one index per stage)' : ''}`);
      }
      for (const v of values) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= codebookSize) {
          throw new IndicesFileError(`${source}: grid ${i} has index ${show(v)} at row ${y}, column ${x}; indices are integers from 0 to ${codebookSize - 1} (K = ${codebookSize})`);
        }
      }
    });
  });
}

/**
 * Parse and check indices JSON against the model: its latent grid, `depth` indices per cell (a
 * residual quantizer's stages) and K. Every grid is checked before the result is allocated, and
 * since each index takes at least two bytes of JSON, the result is at most twice the file in Int32s.
 */
export function parseIndicesFile(json: unknown, source: string, shape: IndexGridShape): IndexGrids {
  const grids = gridsOf(json, source, shape);
  if (grids.length === 0) throw new IndicesFileError(`${source} holds no index grids`);
  grids.forEach(({ grid }, i) => checkGrid(grid, i, source, shape));
  const per = shape.height * shape.width * shape.depth;
  const indices = new Int32Array(grids.length * per);
  let at = 0;
  for (const { grid } of grids) {
    for (const row of grid as unknown[][]) {
      for (const cell of row) {
        if (Array.isArray(cell)) for (const v of cell as number[]) indices[at++] = v;
        else indices[at++] = cell as number;
      }
    }
  }
  return { names: grids.map((g) => g.name), indices };
}
