/**
 * Finite-difference gradient checker for graphs built from the primitives.
 *
 * For a function f building a float32 output y = f(x_1, …, x_m) in a fresh Graph, the checker forms
 * the scalar L = Σ y ⊙ R with R a fixed random tensor (fed as an input, so the backward pass sees a
 * generic, non-uniform upstream gradient ∂L/∂y = R), takes the analytic ∂L/∂x_k with `grad`, and
 * compares each checked element against the central difference
 *     ∂L/∂x[i] ≈ (L(x + h·e_i) − L(x − h·e_i)) / (x⁺[i] − x⁻[i]),
 * whose truncation error is O(h²). L is accumulated in float64 from the float32 output of one
 * compiled forward session, and the denominator uses the float32 values actually fed, so rounding
 * of x ± h does not bias the quotient.
 *
 * Test inputs must keep every element at least ~2h away from kinks (relu/abs at 0, ties for
 * max/min, integer boundaries of casts), since a central difference across a kink is meaningless.
 */
import assert from 'node:assert/strict';
import { grad } from '../../src/graph/autodiff.js';
import { Graph } from '../../src/graph/graph.js';
import * as op from '../../src/graph/ops.js';
import { formatShape, shapeSize, type Shape, type Tensor } from '../../src/graph/tensor.js';
import { Rng } from '../../src/init/rng.js';
import { CompiledGraph } from '../../src/runtime/session.js';

/** How to fill an input: explicit values, or a generator called per flat index. */
export type InputData = ArrayLike<number> | ((i: number, rng: Rng) => number);

export interface InputSpec {
  readonly shape: Shape;
  /** Default: standard normal from the check's seeded Rng. */
  readonly data?: InputData | undefined;
  /** Name in the graph and in failure messages (default `x0`, `x1`, …). */
  readonly name?: string | undefined;
  /** Compare this input's gradient (default true); set false for inputs differentiated elsewhere. */
  readonly check?: boolean;
}

export interface GradCheckOptions {
  readonly seed?: number;
  /** Relative step: h = eps · max(1, |x_i|) (default 1e-2, a good float32 compromise). */
  readonly eps?: number;
  /** Tolerance: |analytic − numeric| ≤ rtol · max(1, |numeric|) + atol. */
  readonly rtol?: number;
  readonly atol?: number;
  /** Elements checked per input; larger inputs are sampled at random (default 40). */
  readonly maxPerInput?: number;
}

export interface GradCheckReport {
  /** Number of (input, element) pairs compared. */
  readonly checked: number;
  /** Largest |analytic − numeric| seen. */
  readonly maxAbsError: number;
  /** The analytic gradients, one per input, for extra assertions by the caller. */
  readonly analytic: Float32Array[];
}

/** Everything a builder may need: the inputs (in spec order) and the graph to add constants to. */
export type Builder = (xs: Tensor[], g: Graph) => Tensor;

function fill(shape: Shape, data: InputData | undefined, rng: Rng, label: string): Float32Array {
  const n = shapeSize(shape);
  const out = new Float32Array(n);
  if (data === undefined) {
    for (let i = 0; i < n; i++) out[i] = rng.normal();
  } else if (typeof data === 'function') {
    for (let i = 0; i < n; i++) out[i] = data(i, rng);
  } else {
    assert.equal(data.length, n, `${label}: data has ${data.length} values for shape ${formatShape(shape)}`);
    for (let i = 0; i < n; i++) out[i] = data[i]!;
  }
  return out;
}

/** Row-major multi-index of flat index i, for readable failure messages. */
function multiIndex(i: number, shape: Shape): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return `[${idx.join(',')}]`;
}

/** Up to `max` distinct flat indices of [0, n), always including the first and last element. */
function sampleIndices(n: number, max: number, rng: Rng): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set<number>([0, n - 1]);
  const perm = rng.permutation(n);
  for (let j = 0; picked.size < max; j++) picked.add(perm[j]!);
  return [...picked].sort((a, b) => a - b);
}

/**
 * Check ∂(Σ f(xs) ⊙ R)/∂xs of `build` against central differences; fails with an assertion that
 * names the op label, the input, the element and both values. Resolves to a report on success.
 */
export async function gradCheck(label: string, specs: readonly InputSpec[], build: Builder, options: GradCheckOptions = {}): Promise<GradCheckReport> {
  const rng = new Rng(options.seed ?? 1234);
  const eps = options.eps ?? 1e-2;
  const rtol = options.rtol ?? 1e-2;
  const atol = options.atol ?? 1e-4;
  const maxPerInput = options.maxPerInput ?? 40;

  const g = new Graph();
  const names = specs.map((s, k) => s.name ?? `x${k}`);
  const xs = specs.map((s, k) => g.input(names[k]!, s.shape, 'float32', 'param'));
  const y = build(xs, g);
  assert.equal(y.dtype, 'float32', `${label}: the checked output must be float32, got ${y.toString()}`);
  const r = g.input('gradcheck_R', y.shape);
  const loss = op.reduceSum(op.mul(y, r)); // L = Σ_i y_i · R_i
  const grads = grad(loss, xs);

  const values = specs.map((s, k) => fill(s.shape, s.data, rng, `${label}/${names[k]}`));
  const rValues = fill(y.shape, undefined, rng, `${label}/R`);
  const feeds: Record<string, Float32Array> = { gradcheck_R: rValues };
  names.forEach((n, k) => (feeds[n] = values[k]!));

  // Keep every input in both sessions, even one the output ignores, so the feeds are the same.
  const keep = [...xs, r];
  const sessions: CompiledGraph[] = [];
  try {
    const backward = await CompiledGraph.create(g, Object.fromEntries(grads.map((t, k) => [`grad_${k}`, t])), { threads: 1, inputs: keep });
    sessions.push(backward);
    const forward = await CompiledGraph.create(g, { y }, { threads: 1, inputs: keep });
    sessions.push(forward);
    const out = await backward.run(feeds);
    const analytic = grads.map((_, k) => out[`grad_${k}`] as Float32Array);

    // L = Σ y ⊙ R in float64 from the float32 forward output.
    const lossAt = async (): Promise<number> => {
      const yv = (await forward.run(feeds)).y as Float32Array;
      let s = 0;
      for (let i = 0; i < yv.length; i++) s += yv[i]! * rValues[i]!;
      return s;
    };

    const failures: string[] = [];
    let checked = 0;
    let maxAbsError = 0;
    for (let k = 0; k < specs.length; k++) {
      if (specs[k]!.check === false) continue;
      const x = values[k]!;
      for (const i of sampleIndices(x.length, maxPerInput, rng)) {
        const orig = x[i]!;
        const h = eps * Math.max(1, Math.abs(orig));
        x[i] = orig + h;
        const plusX = x[i]!; // the float32 value actually fed
        const plus = await lossAt();
        x[i] = orig - h;
        const minusX = x[i]!;
        const minus = await lossAt();
        x[i] = orig;
        const numeric = (plus - minus) / (plusX - minusX);
        const a = analytic[k]![i]!;
        const err = Math.abs(a - numeric);
        checked++;
        maxAbsError = Number.isNaN(err) ? Infinity : Math.max(maxAbsError, err);
        if (!(err <= rtol * Math.max(1, Math.abs(numeric)) + atol)) {
          failures.push(
            `input '${names[k]}'${formatShape(specs[k]!.shape)} element ${multiIndex(i, specs[k]!.shape)} (x = ${orig}): ` +
              `analytic ${a}, numeric ${numeric}, |diff| ${err}`,
          );
        }
      }
    }
    if (failures.length) {
      const shown = failures.slice(0, 8).join('\n  ');
      assert.fail(`${label}: ${failures.length} of ${checked} gradient elements differ from central differences:\n  ${shown}`);
    }
    return { checked, maxAbsError, analytic };
  } finally {
    for (const c of sessions) await c.release();
  }
}
