/**
 * Structural similarity (Wang, Bovik, Sheikh & Simoncelli, 2004), as in their reference code:
 *
 *   μ, σ², σ_xy  local statistics under an 11×11 Gaussian window, σ = 1.5, normalized to sum 1
 *   SSIM(x, y) = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))     (eq. 13)
 *   C1 = (K1·L)², C2 = (K2·L)², K1 = 0.01, K2 = 0.03, L = 1 (images in [0, 1])
 *
 * The window is applied at 'valid' positions only (no padding), as the reference MATLAB
 * `filter2(w, x, 'valid')`; the SSIM of an image is the mean of its SSIM map, computed per channel
 * and averaged over channels. Statistics are biased (weights sum to 1), as in the paper.
 */

export const SSIM_WINDOW = 11;
const SSIM_SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

const KERNEL = gaussianKernel(SSIM_WINDOW, SSIM_SIGMA);

/**
 * Separable 'valid' Gaussian filtering of five maps at once (x, y, x², y², xy), since the 2-D
 * window is the outer product of the 1-D kernel with itself.
 */
function ssimPlane(a: Float32Array, b: Float32Array, offset: number, height: number, width: number): number {
  const s = SSIM_WINDOW;
  const wo = width - s + 1;
  const ho = height - s + 1;
  // Horizontal pass: [height, wo] per statistic.
  const rows = height * wo;
  const hx = new Float64Array(rows), hy = new Float64Array(rows), hxx = new Float64Array(rows), hyy = new Float64Array(rows), hxy = new Float64Array(rows);
  for (let r = 0; r < height; r++) {
    const base = offset + r * width;
    for (let c = 0; c < wo; c++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let k = 0; k < s; k++) {
        const w = KERNEL[k]!;
        const x = a[base + c + k]!;
        const y = b[base + c + k]!;
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        syy += w * y * y;
        sxy += w * x * y;
      }
      const i = r * wo + c;
      hx[i] = sx; hy[i] = sy; hxx[i] = sxx; hyy[i] = syy; hxy[i] = sxy;
    }
  }
  // Vertical pass and the SSIM map, accumulated into its mean.
  let total = 0;
  for (let r = 0; r < ho; r++) {
    for (let c = 0; c < wo; c++) {
      let mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
      for (let k = 0; k < s; k++) {
        const w = KERNEL[k]!;
        const i = (r + k) * wo + c;
        mx += w * hx[i]!;
        my += w * hy[i]!;
        exx += w * hxx[i]!;
        eyy += w * hyy[i]!;
        exy += w * hxy[i]!;
      }
      const vx = exx - mx * mx;
      const vy = eyy - my * my;
      const cxy = exy - mx * my;
      total += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
    }
  }
  return total / (ho * wo);
}

export interface PlaneShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/**
 * Mean SSIM of `count` image pairs stored NCHW in `a` and `b` (values in [0, 1]): the per-image
 * SSIM (mean over its map and channels) averaged over images.
 */
export function meanSsim(a: Float32Array, b: Float32Array, count: number, shape: PlaneShape): number {
  return ssimPerImage(a, b, count, shape).reduce((s, v) => s + v, 0) / count;
}

/** SSIM of each image pair (see `meanSsim`). */
export function ssimPerImage(a: Float32Array, b: Float32Array, count: number, shape: PlaneShape): number[] {
  const { channels, height, width } = shape;
  if (height < SSIM_WINDOW || width < SSIM_WINDOW) {
    throw new Error(`SSIM needs images of at least ${SSIM_WINDOW}×${SSIM_WINDOW} pixels (the Gaussian window), got ${height}×${width}`);
  }
  const plane = height * width;
  const need = count * channels * plane;
  if (a.length < need || b.length < need) throw new Error(`SSIM: ${count} images of ${channels}×${height}×${width} need ${need} values, got ${a.length} and ${b.length}`);
  const out: number[] = [];
  for (let n = 0; n < count; n++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += ssimPlane(a, b, (n * channels + c) * plane, height, width);
    out.push(sum / channels);
  }
  return out;
}
