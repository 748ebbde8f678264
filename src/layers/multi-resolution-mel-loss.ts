/**
 * The multi-resolution STFT / log-mel loss of neural audio codecs, inside the training graph.
 *
 * For each resolution r (FFT size N_r, hop H_r = N_r / 4, a periodic Hann window w of N_r samples,
 * M_r mel bands) and each signal x of T samples:
 *
 *   X_r[t, k] = Σ_{n<N_r} w[n] · x[t·H_r + n] · e^(−2πikn/N_r),   k = 0 … N_r/2, frames t wholly
 *               inside the signal (a signal shorter than N_r is zero-padded to one frame),
 *   |X_r|     = √(Re² + Im² + ε_mag),                              ε_mag = 1e-12 (only so that
 *               the gradient Re/|X| is 0, not 0/0, where a bin is exactly zero),
 *   Mel_r     = |X_r| · F_rᵀ   (F_r the Slaney mel filters of src/audio/metrics/mel-filterbank.ts),
 *
 * and, for a reconstruction x̂ and a target x, each a batch of B signals:
 *
 *   logMel_r  = mean_{b,t,m} | log₁₀ max(Mel_r(x̂), 10⁻⁵) − log₁₀ max(Mel_r(x), 10⁻⁵) |
 *   sc_r      = mean_b (√(‖ |X̂_r| − |X_r| ‖_F² + ε_sc) − √ε_sc) / √(‖ |X_r| ‖_F² + ε_sc),   ε_sc = 1e-12
 *               (the ε terms keep the gradient finite where the two spectra agree, and make
 *               sc 0 there, silence included; for a silent target and a sounding
 *               reconstruction sc is huge, as the ratio is undefined: use the log-mel term on
 *               data with digital silence)
 *   loss      = weight · (1/R) Σ_r ( logMelWeight · logMel_r + spectralConvergenceWeight · sc_r ).
 *
 * logMel_r is the multi-scale mel loss of DAC (Kumar et al. 2023: L1 between log₁₀ mel
 * spectrograms clamped at 10⁻⁵, mel of the magnitude, hop = window / 4) and sc_r the spectral
 * convergence term of the multi-resolution STFT loss of Parallel WaveGAN (Yamamoto et al. 2020),
 * taken per example so a loud utterance does not outweigh a quiet one. With the default
 * resolutions and weights the loss of a batch is exactly the mean over its examples of
 * `melDistance` (src/audio/metrics/mel-distance.ts), the metric vqlab evaluates speech with, so
 * training lowers the number that is reported (up to float32 rounding).
 *
 * The default resolutions are that metric's: FFT sizes 512, 1,024 and 2,048 (32, 64 and 128 ms at
 * 16 kHz), 64 mel bands each. DAC uses seven windows from 32 to 2,048 samples at 44.1 kHz with 5 to
 * 320 mels, EnCodec windows 2⁵ … 2¹¹ with 64 mels and SoundStream 2⁶ … 2¹¹. Keeping the metric's
 * three makes the training loss and the reported distance one quantity; at 16 kHz the shorter
 * windows (2–16 ms) would mostly weigh timing that the time-domain L1 term already fits, and 64
 * mel filters over the 65 or 129 bins of a 128- or 256-sample window leave the lowest filters
 * narrower than one bin (DAC scales its mel count with the window). Callers can
 * pass any list, e.g. EnCodec's with mels scaled to the bins.
 *
 * How the graph computes it, and what that costs:
 *  - framing and the DFT are one fixed-filter 1-D convolution per resolution: x [B, 1, T] with a
 *    [N_r, 1, N_r] filter of stride H_r gives [B, N_r, frames]. Its N_r output channels are the
 *    real parts w·cos of bins 0 … N_r/2 and the imaginary parts −w·sin of bins 1 … N_r/2 − 1: the
 *    imaginary parts of bin 0 and of the Nyquist bin are identically zero for a real frame, so
 *    the one-sided spectrum has exactly N_r real degrees of freedom and real and imaginary parts
 *    fused into one conv need no more output channels than that (not 2·(N_r/2 + 1));
 *  - every resolution's filter is shared by x̂ and x, and the target needs no backward pass: the
 *    training step differentiates the loss with respect to x̂ only, and the filters are constants,
 *    so autodiff emits one ConvTranspose (the input gradient) per resolution and no filter gradient;
 *  - per sample the DFT costs N_r multiply-adds per output channel and frame, i.e. 4·N_r
 *    multiply-adds per sample at hop N_r/4: 4·(512 + 1,024 + 2,048) = 14,336 per sample and
 *    signal for the defaults, against ≈ N_r/2·log₂N_r for an FFT. A radix-2 FFT in the graph would
 *    be log₂N_r stages of small Slice/Mul/Add/Concat nodes, each a pass over memory; the dense
 *    product is one GEMM per resolution, which is what ONNX Runtime runs fastest. The conv is
 *    lowered in its framed form (src/onnx/conv-forms.ts: the frames of the whole batch by Slices of
 *    the signal cut into hops, one MatMul; the input gradient by a MatMul and an overlap-add),
 *    which reads the filter once per batch instead of once per signal;
 *  - the mel filters are one MatMul with a constant [N_r/2 + 1, M_r] matrix on the frames-major
 *    magnitudes, shared by both signals;
 *  - the constants are N_r² floats per resolution (16 MiB at N_r = 2,048), so FFT sizes are capped
 *    at MAX_FFT_SIZE.
 */
import * as op from '../graph/ops.js';
import { formatShape, GraphError, shapeEquals, type Tensor } from '../graph/tensor.js';
import type { Graph } from '../graph/graph.js';
import { DEFAULT_MEL_RESOLUTIONS, type MelResolution } from '../audio/metrics/mel-distance.js';
import { melFilterbank } from '../audio/metrics/mel-filterbank.js';
import { hannWindow } from '../audio/metrics/stft.js';

export interface MultiResolutionMelLossOptions {
  /** Sample rate of both signals in Hz; places the mel filters. */
  readonly sampleRate: number;
  /** FFT sizes (powers of two, 16 … MAX_FFT_SIZE; hop = size / 4) and mel bands (default: DEFAULT_MEL_RESOLUTIONS, 512/1,024/2,048 × 64). */
  readonly resolutions?: readonly MelResolution[] | undefined;
  /** Weight of the L1 log₁₀-mel term (default 1). */
  readonly logMelWeight?: number | undefined;
  /** Weight of the spectral convergence term (default 0: the loss is the mel distance metric). */
  readonly spectralConvergenceWeight?: number | undefined;
  /** Factor on the whole loss (default 1). */
  readonly weight?: number | undefined;
}

/** The largest FFT size accepted: its DFT filter is 4,096² floats, 64 MiB of constants. */
export const MAX_FFT_SIZE = 4096;

const NAME = 'multiResolutionMelLoss';
/** log₁₀ floor of the mel energies, as DAC and the mel distance metric clamp them. */
const MEL_FLOOR = 1e-5;
const MAGNITUDE_EPS = 1e-12;
const CONVERGENCE_EPS = 1e-12;

/**
 * The loss above of `reconstruction` against `target`, a float32 scalar (rank 0). Both are
 * float32 tensors of one shape whose last axis is time, e.g. [B, 1, 1, T] (a signal as a one-row
 * image at the model seam), [B, 1, T] or [B, T]; every other axis counts as separate signals.
 */
export function multiResolutionMelLoss(reconstruction: Tensor, target: Tensor, options: MultiResolutionMelLossOptions): Tensor {
  const resolutions = options.resolutions ?? DEFAULT_MEL_RESOLUTIONS;
  const logMelWeight = options.logMelWeight ?? 1;
  const convergenceWeight = options.spectralConvergenceWeight ?? 0;
  const weight = options.weight ?? 1;
  checkArguments(reconstruction, target, options.sampleRate, resolutions, { logMelWeight, spectralConvergenceWeight: convergenceWeight, weight });

  const length = target.shape[target.rank - 1]!;
  const signals = target.size / length;
  const asSignals = (x: Tensor): Tensor => op.reshape(x, [signals, 1, length]);
  const [xHat, x] = [asSignals(reconstruction), asSignals(target)];
  const g = target.graph;

  const terms: Tensor[] = [];
  for (const r of resolutions) {
    const filter = dftFilter(g, r.fftSize);
    const magHat = magnitudes(xHat, filter, r.fftSize);
    const mag = magnitudes(x, filter, r.fftSize);
    if (logMelWeight > 0) {
      const mel = melMatrix(g, options.sampleRate, r);
      // |log₁₀ a − log₁₀ b| = |ln a − ln b| / ln 10: the constant is applied once, to the mean.
      const gap = op.abs(op.sub(logMelNatural(magHat, mel), logMelNatural(mag, mel)));
      terms.push(op.mul(op.reduceMean(gap), logMelWeight / Math.LN10));
    }
    if (convergenceWeight > 0) terms.push(op.mul(spectralConvergence(magHat, mag), convergenceWeight));
  }
  const total = terms.reduce((sum, t) => op.add(sum, t));
  return op.mul(total, weight / resolutions.length);
}

/**
 * |X| of every frame of x [B, 1, T], frames-major: [B, frames, N/2 + 1]. A signal shorter than
 * one window is zero-padded at the end to one frame, as the metric's STFT does.
 */
function magnitudes(x: Tensor, filter: Tensor, fftSize: number): Tensor {
  const length = x.shape[2]!;
  const padded = length < fftSize ? op.pad(x, [[0, 0], [0, 0], [0, fftSize - length]]) : x;
  const spectra = op.transpose(op.conv1d(padded, filter, { stride: fftSize / 4 }), [0, 2, 1]); // [B, frames, N]
  const bins = fftSize / 2 + 1;
  const re = op.slice(spectra, 2, 0, bins);
  const im = op.slice(spectra, 2, bins, fftSize); // bins 1 … N/2 − 1
  const imSquared = op.pad(op.mul(im, im), [[0, 0], [0, 0], [1, 1]]);
  return op.sqrt(op.add(op.add(op.mul(re, re), imSquared), MAGNITUDE_EPS));
}

/** ln max(|X|·Fᵀ, 10⁻⁵), [B, frames, mels]; max(a, c) = c + relu(a − c) passes a's gradient where a > c. */
function logMelNatural(magnitude: Tensor, melT: Tensor): Tensor {
  const mel = op.matmul(magnitude, melT);
  return op.log(op.add(op.relu(op.sub(mel, MEL_FLOOR)), MEL_FLOOR));
}

/** mean_b (√(‖ |X̂_b| − |X_b| ‖_F² + ε) − √ε) / √(‖ |X_b| ‖_F² + ε). */
function spectralConvergence(magHat: Tensor, mag: Tensor): Tensor {
  const diff = op.sub(magHat, mag);
  const num = op.sub(op.sqrt(op.add(op.reduceSum(op.mul(diff, diff), [1, 2]), CONVERGENCE_EPS)), Math.sqrt(CONVERGENCE_EPS));
  const den = op.sqrt(op.add(op.reduceSum(op.mul(mag, mag), [1, 2]), CONVERGENCE_EPS));
  return op.reduceMean(op.div(num, den));
}

/**
 * The fused DFT filter [N, 1, N]: output channel k ≤ N/2 is w[n]·cos(2πkn/N), channel N/2 + j
 * (j = 1 … N/2 − 1) is −w[n]·sin(2πjn/N), w the periodic Hann window. The angle is reduced
 * modulo N in integers before the float64 cos/sin, so large k·n lose no precision.
 */
function dftFilter(g: Graph, fftSize: number): Tensor {
  const window = hannWindow(fftSize, 'periodic');
  const bins = fftSize / 2 + 1;
  const data = new Float32Array(fftSize * fftSize);
  for (let k = 0; k < bins; k++) {
    for (let n = 0; n < fftSize; n++) data[k * fftSize + n] = window[n]! * Math.cos((2 * Math.PI * ((k * n) % fftSize)) / fftSize);
  }
  for (let j = 1; j < fftSize / 2; j++) {
    const row = (bins + j - 1) * fftSize;
    for (let n = 0; n < fftSize; n++) data[row + n] = -window[n]! * Math.sin((2 * Math.PI * ((j * n) % fftSize)) / fftSize);
  }
  return g.constant(data, [fftSize, 1, fftSize]);
}

/** The Slaney mel filters of the metric as a [N/2 + 1, mels] matrix (bins-major), for |X|·Fᵀ. */
function melMatrix(g: Graph, sampleRate: number, r: MelResolution): Tensor {
  const bank = melFilterbank(sampleRate, r.fftSize, r.mels);
  const data = new Float32Array(bank.bins * r.mels);
  for (let m = 0; m < r.mels; m++) {
    for (let k = bank.firstBin[m]!; k < bank.endBin[m]!; k++) data[k * r.mels + m] = bank.weights[m * bank.bins + k]!;
  }
  return g.constant(data, [bank.bins, r.mels]);
}

function checkArguments(
  reconstruction: Tensor,
  target: Tensor,
  sampleRate: number,
  resolutions: readonly MelResolution[],
  weights: Readonly<Record<'logMelWeight' | 'spectralConvergenceWeight' | 'weight', number>>,
): void {
  for (const t of [reconstruction, target]) {
    if (t.dtype !== 'float32') throw new GraphError(NAME, `expects float32 signals, got ${t.toString()}`);
  }
  if (!shapeEquals(reconstruction.shape, target.shape) || target.rank < 1) {
    throw new GraphError(NAME, `reconstruction ${formatShape(reconstruction.shape)} and target ${formatShape(target.shape)} must have one shape with time as the last axis`);
  }
  if (reconstruction.graph !== target.graph) throw new GraphError(NAME, 'reconstruction and target belong to different graphs');
  if (!(Number.isFinite(sampleRate) && sampleRate > 0)) throw new GraphError(NAME, `sampleRate must be a positive number of Hz, got ${sampleRate}`);
  if (resolutions.length === 0) throw new GraphError(NAME, 'needs at least one resolution');
  for (const r of resolutions) {
    const powerOfTwo = Number.isInteger(r.fftSize) && r.fftSize >= 16 && r.fftSize <= MAX_FFT_SIZE && (r.fftSize & (r.fftSize - 1)) === 0;
    if (!powerOfTwo) throw new GraphError(NAME, `fftSize ${r.fftSize} must be a power of two from 16 to ${MAX_FFT_SIZE}`);
    if (!(Number.isInteger(r.mels) && r.mels >= 1 && r.mels <= r.fftSize / 2 + 1)) {
      throw new GraphError(NAME, `mels ${r.mels} must be an integer from 1 to the ${r.fftSize / 2 + 1} bins of fftSize ${r.fftSize}`);
    }
  }
  for (const [name, value] of Object.entries(weights)) {
    if (!(Number.isFinite(value) && value >= 0)) throw new GraphError(NAME, `${name} must be a finite number ≥ 0, got ${value}`);
  }
  if (weights.logMelWeight === 0 && weights.spectralConvergenceWeight === 0) {
    throw new GraphError(NAME, 'logMelWeight and spectralConvergenceWeight are both 0; set one of them above 0');
  }
}
