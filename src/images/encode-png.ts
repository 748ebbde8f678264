/** Writing planar float images as 8-bit PNG files. */
import { PNG } from 'pngjs';

/** Encode planar CHW values (clamped to [0, 1]) as an 8-bit PNG: grayscale for 1 channel, RGB for 3. */
export function encodePng(pixels: Float32Array, shape: { readonly channels: number; readonly height: number; readonly width: number }): Buffer {
  const { channels, height, width } = shape;
  if (channels !== 1 && channels !== 3) throw new RangeError(`PNG output needs 1 or 3 channels, got ${channels}`);
  const png = new PNG({ width, height });
  const plane = height * width;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[(channels === 1 ? 0 : c) * plane + i]!;
      png.data[4 * i + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png, channels === 1 ? { colorType: 0 } : { colorType: 2 });
}
