/**
 * The singular value decomposition A = U·diag(σ)·Vᵀ of a small dense matrix (SimVQ's d×d
 * projection W, d = 64), by one-sided Jacobi rotations (Hestenes 1958; Demmel & Veselić 1992):
 * plane rotations applied to pairs of columns of A, accumulated in V, until every pair of columns
 * is orthogonal. The columns are then U·σ, so σ are their norms. It is accurate to machine
 * precision relative to each σ and needs no other library; for d = 64 a handful of sweeps of
 * d²/2 rotations suffice.
 *
 * In float64 throughout. A's rows are given row-major, m ≥ n.
 */

export interface SingularValueDecomposition {
  /** σ in descending order, length n. */
  readonly values: Float64Array;
  /** U, m×n row-major, orthonormal columns (columns of zero σ are left zero). */
  readonly u: Float64Array;
  /** V, n×n row-major, orthogonal. */
  readonly v: Float64Array;
}

const MAX_SWEEPS = 60;

/** The SVD of `a` (m×n, row-major, m ≥ n). */
export function singularValueDecomposition(a: ArrayLike<number>, m: number, n: number): SingularValueDecomposition {
  if (!(Number.isInteger(m) && Number.isInteger(n) && n >= 1 && m >= n)) throw new Error(`singularValueDecomposition: needs an m×n matrix with m >= n >= 1, got ${m}×${n}`);
  if (a.length !== m * n) throw new Error(`singularValueDecomposition: ${m}×${n} needs ${m * n} values, got ${a.length}`);
  // Work on columns (column-major) so each rotation touches two contiguous arrays.
  const cols = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => a[i * n + j]!));
  for (const c of cols) if (!c.every(Number.isFinite)) throw new Error('singularValueDecomposition: the matrix has a non-finite entry');
  const vCols = Array.from({ length: n }, (_, j) => { const e = new Float64Array(n); e[j] = 1; return e; });
  const eps = Number.EPSILON;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const x = cols[p]!, y = cols[q]!;
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < m; i++) { alpha += x[i]! * x[i]!; beta += y[i]! * y[i]!; gamma += x[i]! * y[i]!; }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that zeroes the off-diagonal entry of the 2×2 Gram matrix [[α, γ], [γ, β]].
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(x, y, c, s);
        rotate(vCols[p]!, vCols[q]!, c, s);
      }
    }
    if (!rotated) break;
  }
  const norms = cols.map((c) => Math.hypot(...c));
  const order = norms.map((_, j) => j).sort((i, j) => norms[j]! - norms[i]!);
  const values = Float64Array.from(order, (j) => norms[j]!);
  const u = new Float64Array(m * n);
  const v = new Float64Array(n * n);
  order.forEach((j, k) => {
    const sigma = norms[j]!;
    for (let i = 0; i < m; i++) u[i * n + k] = sigma > 0 ? cols[j]![i]! / sigma : 0;
    for (let i = 0; i < n; i++) v[i * n + k] = vCols[j]![i]!;
  });
  return { values, u, v };
}

/** (x, y) ← (c·x − s·y, s·x + c·y), in place. */
function rotate(x: Float64Array, y: Float64Array, c: number, s: number): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!, yi = y[i]!;
    x[i] = c * xi - s * yi;
    y[i] = s * xi + c * yi;
  }
}
