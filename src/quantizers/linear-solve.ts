/**
 * Solving x·W = t for row vectors x (host-side, float64): Gaussian elimination with partial
 * pivoting on Wᵀ xᵀ = tᵀ, factorized once for all right-hand sides. Used to re-seed SimVQ codes
 * (C_k = (v − b)·W⁻¹, simvq.ts); d is the code dimension (≤ a few hundred), so O(d³) is cheap.
 */

/**
 * Rows x_i [n, d] with x_i·W = t_i for W [d, d] (row-major, x·W convention) and targets t [n, d].
 * Throws `singularMessage` when a pivot is below 1e-10 times the largest entry of W.
 */
export function solveRowsAgainst(w: Float32Array, d: number, targets: Float64Array, singularMessage: string): Float64Array {
  // A = Wᵀ, so that A·xᵀ = tᵀ.
  const a = new Float64Array(d * d);
  let scale = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      a[i * d + j] = w[j * d + i]!;
      scale = Math.max(scale, Math.abs(w[j * d + i]!));
    }
  }
  const n = targets.length / d;
  const rhs = Float64Array.from(targets); // n right-hand sides, column j of B is rhs[i*d + j] over i
  for (let col = 0; col < d; col++) {
    let pivot = col;
    for (let r = col + 1; r < d; r++) if (Math.abs(a[r * d + col]!) > Math.abs(a[pivot * d + col]!)) pivot = r;
    if (!(Math.abs(a[pivot * d + col]!) > 1e-10 * scale)) throw new Error(singularMessage);
    if (pivot !== col) {
      for (let j = 0; j < d; j++) [a[col * d + j], a[pivot * d + j]] = [a[pivot * d + j]!, a[col * d + j]!];
      for (let i = 0; i < n; i++) [rhs[i * d + col], rhs[i * d + pivot]] = [rhs[i * d + pivot]!, rhs[i * d + col]!];
    }
    for (let r = col + 1; r < d; r++) {
      const f = a[r * d + col]! / a[col * d + col]!;
      if (f === 0) continue;
      for (let j = col; j < d; j++) a[r * d + j]! -= f * a[col * d + j]!;
      for (let i = 0; i < n; i++) rhs[i * d + r]! -= f * rhs[i * d + col]!;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let r = d - 1; r >= 0; r--) {
      let s = rhs[i * d + r]!;
      for (let j = r + 1; j < d; j++) s -= a[r * d + j]! * rhs[i * d + j]!;
      rhs[i * d + r] = s / a[r * d + r]!;
    }
  }
  return rhs;
}
