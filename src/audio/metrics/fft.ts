/**
 * The power spectrum of real frames by an iterative radix-2 FFT (Cooley–Tukey, decimation in
 * time, bit-reversed input order), in float64 so the metrics built on it do not depend on the
 * rounding of float32 sums.
 */

/** A transform of one power-of-two size, its twiddle factors and bit-reversal table computed once. */
export class PowerSpectrum {
  /** Bins of the one-sided spectrum: size / 2 + 1, from 0 Hz to the Nyquist frequency. */
  readonly bins: number;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly reversed: Uint32Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) throw new RangeError(`an FFT size is a power of two ≥ 2, got ${size}`);
    this.bins = size / 2 + 1;
    this.cos = new Float64Array(size / 2);
    this.sin = new Float64Array(size / 2);
    for (let k = 0; k < size / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / size);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    const bits = Math.log2(size);
    this.reversed = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.reversed[i] = r;
    }
    this.re = new Float64Array(size);
    this.im = new Float64Array(size);
  }

  /**
   * |X[k]|² for k = 0 … size/2 of the DFT X[k] = Σₙ x[n] e^(−2πikn/size) of `frame`, zero-padded to
   * the transform size (a frame longer than it is an error), written to `out`.
   */
  power(frame: ArrayLike<number>, out: Float64Array = new Float64Array(this.bins)): Float64Array {
    const { size, re, im, reversed, cos, sin } = this;
    if (frame.length > size) throw new RangeError(`a frame of ${frame.length} samples does not fit an FFT of size ${size}`);
    for (let i = 0; i < size; i++) {
      const j = reversed[i]!;
      re[i] = j < frame.length ? frame[j]! : 0;
      im[i] = 0;
    }
    for (let half = 1; half < size; half *= 2) {
      const step = size / (2 * half);
      for (let start = 0; start < size; start += 2 * half) {
        for (let k = 0; k < half; k++) {
          const wr = cos[k * step]!, wi = sin[k * step]!;
          const a = start + k, b = a + half;
          const tr = wr * re[b]! - wi * im[b]!;
          const ti = wr * im[b]! + wi * re[b]!;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
    for (let k = 0; k < this.bins; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
    return out;
  }
}
