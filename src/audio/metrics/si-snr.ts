/**
 * Scale-invariant signal-to-noise ratio (Le Roux et al., "SDR – half-baked or well done?",
 * ICASSP 2019, eq. 3–4): both signals made zero-mean, the reference scaled to its projection of
 * the estimate, s_t = (⟨ŝ, s⟩ / ‖s‖²) s, and SI-SNR = 10 log₁₀(‖s_t‖² / ‖ŝ − s_t‖²) in dB. A gain on
 * the estimate does not change it. An estimate equal to the reference gives +∞ (or, through rounding,
 * well over 100 dB); a constant (silent) estimate gives −∞.
 */
export function siSnr(reference: Float32Array, estimate: Float32Array): number {
  if (reference.length !== estimate.length) throw new RangeError(`siSnr compares signals of equal length, got ${reference.length} and ${estimate.length} samples`);
  const n = reference.length;
  if (n === 0) throw new RangeError('siSnr needs at least one sample');
  let meanS = 0, meanE = 0;
  for (let i = 0; i < n; i++) { meanS += reference[i]!; meanE += estimate[i]!; }
  meanS /= n;
  meanE /= n;
  let dot = 0, energy = 0;
  for (let i = 0; i < n; i++) {
    const s = reference[i]! - meanS;
    dot += s * (estimate[i]! - meanE);
    energy += s * s;
  }
  if (energy === 0) throw new RangeError('siSnr is undefined for a constant (silent) reference');
  const scale = dot / energy;
  let target = 0, noise = 0;
  for (let i = 0; i < n; i++) {
    const t = scale * (reference[i]! - meanS);
    const e = estimate[i]! - meanE - t;
    target += t * t;
    noise += e * e;
  }
  if (target === 0) return -Infinity;
  return 10 * Math.log10(target / noise);
}
