/**
 * A PNG contact sheet of originals above their reconstructions: rows come in pairs, the upper row
 * of each pair the input images and the lower one their reconstructions, `columns` images per row,
 * each scaled up by an integer factor so small images (28×28 digits) stay visible.
 */
import type { ImageShape } from '../../models/model.js';
import { encodePng } from '../../images/encode-png.js';

export interface GridOptions {
  /** Images per row (default 8). */
  readonly columns?: number;
  /** Integer upscaling per pixel (default: so that a cell is at least 64 pixels high). */
  readonly scale?: number;
  /** Background between cells, in [0, 1] (default 0.5). */
  readonly gap?: number;
}

/** PNG bytes of the grid of the first `count` originals and reconstructions (NCHW in [0, 1]). */
export function reconstructionGrid(originals: Float32Array, reconstructions: Float32Array, count: number, shape: ImageShape, options: GridOptions = {}): Buffer {
  const columns = Math.max(1, Math.min(options.columns ?? 8, count));
  const scale = options.scale ?? Math.max(1, Math.ceil(64 / shape.height));
  const pairs = Math.ceil(count / columns);
  const border = 2;
  const cellH = shape.height * scale, cellW = shape.width * scale;
  const height = pairs * 2 * (cellH + border) + border;
  const width = columns * (cellW + border) + border;
  const plane = height * width;
  const out = new Float32Array(shape.channels * plane).fill(options.gap ?? 0.5);
  const imageSize = shape.channels * shape.height * shape.width;
  const paste = (source: Float32Array, index: number, top: number, left: number): void => {
    for (let c = 0; c < shape.channels; c++) {
      for (let y = 0; y < cellH; y++) {
        for (let x = 0; x < cellW; x++) {
          const v = source[index * imageSize + c * shape.height * shape.width + Math.floor(y / scale) * shape.width + Math.floor(x / scale)]!;
          out[c * plane + (top + y) * width + left + x] = v;
        }
      }
    }
  };
  for (let i = 0; i < count; i++) {
    const pair = Math.floor(i / columns), col = i % columns;
    const left = border + col * (cellW + border);
    const top = border + pair * 2 * (cellH + border);
    paste(originals, i, top, left);
    paste(reconstructions, i, top + cellH + border, left);
  }
  return encodePng(out, { channels: shape.channels, height, width });
}
