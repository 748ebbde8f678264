/**
 * The JSON that `vqlab encode` writes and `vqlab decode` reads. `decode` also accepts bare nested
 * arrays: one h×w grid, or a list of them.
 */
import { basename, extname } from 'node:path';

export interface IndicesFile {
  readonly checkpoint?: string;
  readonly codebook_size?: number;
  /** [h, w] of every grid, or [h, w, D] for a residual quantizer of depth D. */
  readonly grid?: readonly number[];
  /** h rows of w indices, or of w arrays of D indices (one per stage) for a residual quantizer. */
  readonly images: readonly { readonly file?: string; readonly indices: readonly (readonly (number | readonly number[])[])[] }[];
}

class IndicesFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndicesFileError';
  }
}

export interface IndexGrids {
  /** Names (source file names when known) of each grid. */
  readonly names: readonly (string | undefined)[];
  /** All grids, flattened row-major: count × h × w. */
  readonly indices: Int32Array;
}

type Cell = number | number[];

function isCell(x: unknown): x is Cell {
  return typeof x === 'number' || (Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number'));
}

function isGrid(v: unknown): v is Cell[][] {
  return Array.isArray(v) && v.length > 0 && v.every((row) => Array.isArray(row) && row.every(isCell));
}

/**
 * One PNG name per grid, `<stem>.decoded.png`, the stem from the encoded file's name or
 * `decoded-<i>`. Names must differ within one call (images `a/x.png` and `b/x.png` both have the
 * stem `x`), so a repeated stem gets the grid's position: `x.0.decoded.png`, `x.1.decoded.png`.
 */
export function decodedFileNames(names: readonly (string | undefined)[]): string[] {
  const stems = names.map((name, i) => (name !== undefined ? basename(name, extname(name)) : `decoded-${i}`));
  const count = new Map<string, number>();
  for (const s of stems) count.set(s, (count.get(s) ?? 0) + 1);
  const used = new Set<string>();
  return stems.map((stem, i) => {
    let candidate = count.get(stem)! > 1 ? `${stem}.${i}` : stem;
    while (used.has(candidate)) candidate = `${candidate}.${i}`;
    used.add(candidate);
    return `${candidate}.decoded.png`;
  });
}

/**
 * Parse and check indices JSON against the model's latent grid [height, width] (each cell an
 * array of `depth` stage indices when depth > 1).
 */
export function parseIndicesFile(json: unknown, source: string, height: number, width: number, depth = 1): IndexGrids {
  let grids: { name: string | undefined; grid: unknown }[];
  if (isGrid(json)) grids = [{ name: undefined, grid: json }];
  else if (Array.isArray(json) && json.every(isGrid)) grids = json.map((grid) => ({ name: undefined, grid }));
  else if (typeof json === 'object' && json !== null && Array.isArray((json as IndicesFile).images)) {
    grids = (json as IndicesFile).images.map((img) => ({ name: typeof img?.file === 'string' ? img.file : undefined, grid: img?.indices }));
  } else {
    throw new IndicesFileError(`${source} is neither \`vqlab encode\` output ({"images": [{"indices": ...}]}) nor an h×w array of indices (or a list of them)`);
  }
  if (grids.length === 0) throw new IndicesFileError(`${source} holds no index grids`);
  const per = height * width * depth;
  const indices = new Int32Array(grids.length * per);
  grids.forEach(({ grid }, i) => {
    const expected = `the model's latent grid is ${height}×${width}`;
    if (!isGrid(grid)) throw new IndicesFileError(`${source}: grid ${i} is not a grid of numbers; ${expected}`);
    if (grid.length !== height) throw new IndicesFileError(`${source}: grid ${i} has ${grid.length} rows but ${expected}`);
    const short = grid.findIndex((row) => row.length !== width);
    if (short >= 0) throw new IndicesFileError(`${source}: grid ${i} row ${short} has ${grid[short]!.length} ${depth === 1 ? 'indices' : 'cells'} but ${expected} (${width} per row)`);
    grid.forEach((row, y) => row.forEach((cell, x) => {
      const values = typeof cell === 'number' ? [cell] : cell;
      if (values.length !== depth) {
        throw new IndicesFileError(`${source}: grid ${i} has ${values.length} ${values.length === 1 && typeof cell === 'number' ? 'index' : 'indices'} at row ${y}, column ${x} but the model's quantizer has ${depth} stage${depth === 1 ? '' : 's'}${depth > 1 ? ' (write each cell as an array of one index per stage)' : ''}`);
      }
      values.forEach((v, s) => {
        if (!Number.isInteger(v)) throw new IndicesFileError(`${source}: grid ${i} has a non-integer index ${v} at row ${y}, column ${x}`);
        indices[i * per + (y * width + x) * depth + s] = v;
      });
    }));
  });
  return { names: grids.map((g) => g.name), indices };
}
