/**
 * How each convolution primitive becomes ONNX: the plain `Conv`/`ConvTranspose` node, or a faster
 * exact form chosen by shape. Every form computes the same sums as the plain node (only the
 * order of the fp32 additions differs); `test/conv-forms.test.ts` compares each form with the
 * plain one and runs the finite-difference checks through them.
 *
 * Why not always the plain node: ONNX Runtime's CPU `Conv` runs one im2col + GEMM per image, and
 * on the reference model's 7×7 maps that GEMM has 49 rows, so it reaches well under half of what
 * its MatMul does. For constant weights ORT rewrites convs into its blocked NCHWc kernels
 * (`NchwcTransformer`, which only fires when the weight is an initializer, and reorders the
 * filter once at load); a training step feeds its weights as inputs, so that never happens. The
 * forms below call the same `com.microsoft.nchwc` kernels directly and reorder the filter inside
 * the graph (a Reshape/Transpose of a few hundred KB per step).
 *
 * Measured on the 2-vCPU AMD EPYC (AVX2, block 8) this was tuned on, batch 128, ORT 1.30, one
 * thread, median CPU ms per call (the machine was shared, so CPU time rather than wall time):
 *
 *   pass (shape)                         plain   NCHWc   im2col+MatMul  sub-pixel NCHWc
 *   Conv 3×3 128→128 on 7×7               45.5    31.6    ~49 (3 runs)
 *   Conv 3×3 128→32 on 7×7                21.5     9.3
 *   Conv 3×3 64→128 on 7×7                26.8    18.9
 *   Conv 4×4 s2 64→128, 14×14→7×7         42.4    31.3
 *   Conv 1×1 32→128 / 128→64               4.4 / 5.1   5.0 / 5.7        (plain kept)
 *   ∂x 3×3 128→128 (ConvTranspose s1)     41.9    26.2 (flipped filter)
 *   ∂x 3×3 128→32                         20.3    11.6
 *   ∂x 3×3 64→128                         23.1    13.9
 *   ConvTranspose 4×4 s2 128→64, 7→14     54.6                             43.5 (4 phases)
 *                                                          one 3×3 conv with zero taps: 77.0
 *   ∂w 3×3 128→128                   57–81 (swapped conv)   63.2 (swapped)  49–56
 *   ∂w 3×3 128→32                         42.3    17.5    37.4
 *   ∂w 3×3 64→128                         30.0    28.8    26.0
 *   ∂w 1×1 32→128 / 128→64          5.6 / 18.9  8.9 / 12.1  2.9 / 6.0
 *   ∂w 4×4 s2 64→128                      42.7    55.5    58.3           (plain kept)
 *
 * The same passes at block 16, on a 2-vCPU AMD EPYC with AVX-512 (ORT 1.30, batch 128, one thread,
 * `npm run bench -- conv-forms`: median CPU ms of 15 calls, median of 3 runs). Every choice made at
 * block 8 holds at 16, so the choices below do not depend on the block:
 *
 *   pass (shape)                         plain   NCHWc   im2col+MatMul  sub-pixel NCHWc
 *   Conv 3×3 128→128 on 7×7               29.8    19.4
 *   Conv 3×3 128→32 on 7×7                10.4     5.4
 *   Conv 3×3 64→128 on 7×7                14.9    10.5
 *   Conv 4×4 s2 64→128, 14×14→7×7         26.3    19.5
 *   Conv 1×1 32→128 / 128→64               1.1 / 1.7   1.1 / 2.5        (plain kept)
 *   ∂x 3×3 128→128 (ConvTranspose s1)     35.5    20.7 (flipped filter)
 *   ∂x 3×3 128→32                         11.8     6.0
 *   ∂x 3×3 64→128                         16.7     9.2
 *   ConvTranspose 4×4 s2 128→64, 7→14     29.4                             20.7 (4 phases)
 *   ∂w 3×3 128→128                   51.9 (swapped conv)   40.8 (swapped)  30.8
 *   ∂w 3×3 128→32                         18.9     9.7    19.2
 *   ∂w 3×3 64→128                         25.2    21.5    15.2
 *   ∂w 1×1 32→128 / 128→64          2.8 / 10.7            0.8 / 2.1
 *   ∂w 4×4 s2 64→128                      27.9            32.4           (plain kept)
 *
 * 1-D convolutions (audio) have their own forms and measurements, in the last section of this file.
 */
import type { Node } from '../graph/tensor.js';
import { intAttr, intsAttr, strAttr, type Emitter } from './emitter.js';
import { emitConcat } from './webgpu-forms.js';

/** The forms each primitive can take (see the table above). */
export type ConvForm = 'plain' | 'nchwc' | 'framed';
export type ConvTransposeForm = 'plain' | 'nchwc-flipped' | 'sub-pixel' | 'overlap-add';
export type FilterGradForm = 'im2col' | 'swapped-nchwc' | 'swapped-plain';

/** Where the blocked kernels may be used: ORT's NCHWc channel block (8 with AVX2, 16 with AVX-512). */
export interface ConvTarget {
  readonly nchwcBlock: number;
  /**
   * Take these forms wherever they apply instead of the measured choice; only for measuring the
   * forms against each other (`npm run bench -- conv-forms`). A forced form that does not apply to
   * a shape (channels not whole blocks, another stride) falls back to the choice.
   */
  readonly force?: { readonly conv?: ConvForm; readonly convTranspose?: ConvTransposeForm; readonly filterGrad?: FilterGradForm };
}

const NCHWC = 'com.microsoft.nchwc';

/** ONNX Conv attributes, one entry per spatial axis (pads: all begins, then all ends). */
interface ConvGeometry {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
}

function convAttrs(g: ConvGeometry): ReturnType<typeof intsAttr>[] {
  return [
    intsAttr('kernel_shape', g.kernel),
    intsAttr('strides', g.strides),
    intsAttr('pads', g.pads),
    intsAttr('dilations', g.dilations),
    intAttr('group', 1),
  ];
}

const blocked = (target: ConvTarget | undefined, ...channels: number[]): target is ConvTarget =>
  target !== undefined && target.nchwcBlock > 1 && channels.every((c) => c % target.nchwcBlock === 0);

/**
 * The OIHW filter `w` [O, I, kh, kw] in the layout NchwcConv reads for blocked input
 * (MLAS "OIHWBiBo"): [O/B][I/B][kh][kw][B input channels][B output channels], still declared as
 * [O, I, kh, kw].
 */
function blockFilter(e: Emitter, w: string, o: number, i: number, kh: number, kw: number, b: number): string {
  const split = e.value('Reshape', [w, e.ints([o / b, b, i / b, b, kh, kw])]);
  const moved = e.value('Transpose', [split], [intsAttr('perm', [0, 2, 4, 5, 3, 1])]);
  return e.value('Reshape', [moved, e.ints([o, i, kh, kw])]);
}

/** x (NCHW) through one NchwcConv with an already blocked filter, back to NCHW in `out`. */
function nchwcConv(e: Emitter, x: string, filter: string, outChannels: number, g: ConvGeometry, out: string): void {
  const xb = e.value('ReorderInput', [x], [], NCHWC);
  const yb = e.value('Conv', [xb, filter], convAttrs(g), NCHWC);
  e.node('ReorderOutput', [yb], [out], [intAttr('channels', outChannels)], NCHWC);
}

export function lowerConv(e: Emitter, n: Node, target: ConvTarget | undefined): void {
  if (n.inputs[0]!.rank === 3) return lowerConv1d(e, n, target);
  const [x, w] = n.inputs as [Node['inputs'][0], Node['inputs'][0]];
  const [o, i, kh, kw] = w.shape as [number, number, number, number];
  const p = n.attrs.pad as number;
  const [s, d] = [n.attrs.stride as number, n.attrs.dilation as number];
  const g: ConvGeometry = { kernel: [kh, kw], strides: [s, s], pads: [p, p, p, p], dilations: [d, d] };
  const out = n.outputs[0]!.name;
  if (blocked(target, o, i) && (target.force?.conv ?? convForm(kh, kw)) === 'nchwc') {
    return nchwcConv(e, x.name, blockFilter(e, w.name, o, i, kh, kw, target.nchwcBlock), o, g, out);
  }
  e.node('Conv', [x.name, w.name], [out], convAttrs(g));
}

/** The measured choice for a conv whose channels are whole blocks: 1×1 convs stay plain (no faster in NCHWc). */
function convForm(kh: number, kw: number): ConvForm {
  return kh * kw > 1 ? 'nchwc' : 'plain';
}

/** Taps of a 4-tap, stride-2, pad-1 transposed kernel that output phase r (0 or 1) uses, in correlation order. */
const PHASE_TAPS: readonly (readonly [number, number])[] = [
  [3, 1], // y[2m]   = x[m−1]·w[3] + x[m]·w[1]
  [2, 0], // y[2m+1] = x[m]·w[2]   + x[m+1]·w[0]
];

export function lowerConvTranspose(e: Emitter, n: Node, target: ConvTarget | undefined): void {
  if (n.inputs[0]!.rank === 3) return lowerConvTranspose1d(e, n, target);
  const [x, w] = n.inputs as [Node['inputs'][0], Node['inputs'][0]];
  const [ci, co, kh, kw] = w.shape as [number, number, number, number];
  const s = n.attrs.stride as number;
  const p = n.attrs.pad as number;
  const d = n.attrs.dilation as number;
  const outputPadding = n.attrs.outputPadding as number;
  const out = n.outputs[0]!.name;
  const [ph, pw] = [d * (kh - 1) - p, d * (kw - 1) - p];
  const flippable = s === 1 && ph >= 0 && pw >= 0;
  const subPixelShape = s === 2 && kh === 4 && kw === 4 && p === 1 && d === 1 && outputPadding === 0;
  // Measured: both blocked forms beat the plain node wherever they apply, except for 1×1 kernels.
  const chosen: ConvTransposeForm = kh * kw === 1 ? 'plain' : flippable ? 'nchwc-flipped' : subPixelShape ? 'sub-pixel' : 'plain';
  const forced = target?.force?.convTranspose;
  const applies = forced === 'plain' || (forced === 'nchwc-flipped' && flippable) || (forced === 'sub-pixel' && subPixelShape);
  const form = forced !== undefined && applies ? forced : chosen;
  if (blocked(target, ci, co)) {
    const b = target.nchwcBlock;
    if (form === 'nchwc-flipped') {
      // Stride 1: a transposed convolution is the convolution with the spatially flipped filter,
      // channels swapped, padded by d·(k−1) − p.
      const swapped = e.value('Transpose', [w.name], [intsAttr('perm', [1, 0, 2, 3])]);
      const flipped = e.value('Slice', [swapped, e.ints([-1, -1]), e.ints([-(2 ** 62), -(2 ** 62)]), e.ints([2, 3]), e.ints([-1, -1])]);
      const g: ConvGeometry = { kernel: [kh, kw], strides: [1, 1], pads: [ph, pw, ph, pw], dilations: [d, d] };
      return nchwcConv(e, x.name, blockFilter(e, flipped, co, ci, kh, kw, b), co, g, out);
    }
    if (form === 'sub-pixel') return subPixel(e, x.name, w.name, ci, co, b, out);
  }
  const attrs = convAttrs({ kernel: [kh, kw], strides: [s, s], pads: [p, p, p, p], dilations: [d, d] });
  attrs.push(intsAttr('output_padding', [outputPadding, outputPadding]));
  e.node('ConvTranspose', [x.name, w.name], [out], attrs);
}

/**
 * Stride-2 4×4 pad-1 ConvTranspose as four 2×2 convolutions on the input, one per output phase
 * (Shi et al. 2016, "sub-pixel convolution"), sharing one reorder of x; the phases are
 * concatenated on the channel axis (in the blocked layout each phase is a run of whole blocks)
 * and interleaved by DepthToSpace. Each output value is the same two-by-two sum of products as
 * in the plain node, with no multiplications by zero.
 */
function subPixel(e: Emitter, x: string, w: string, ci: number, co: number, b: number, out: string): void {
  const wT = e.value('Transpose', [w], [intsAttr('perm', [1, 0, 2, 3])]);
  const xb = e.value('ReorderInput', [x], [], NCHWC);
  const phases: string[] = [];
  for (const r of [0, 1]) {
    for (const c of [0, 1]) {
      const rows = e.value('Gather', [wT, e.ints(PHASE_TAPS[r]!)], [intAttr('axis', 2)]);
      const taps = e.value('Gather', [rows, e.ints(PHASE_TAPS[c]!)], [intAttr('axis', 3)]);
      const g: ConvGeometry = { kernel: [2, 2], strides: [1, 1], pads: [1 - r, 1 - c, r, c], dilations: [1, 1] };
      phases.push(e.value('Conv', [xb, blockFilter(e, taps, co, ci, 2, 2, b)], convAttrs(g), NCHWC));
    }
  }
  const stacked = emitConcat(e, phases, 1);
  const depth = e.value('ReorderOutput', [stacked], [intAttr('channels', 4 * co)], NCHWC);
  e.node('DepthToSpace', [depth], [out], [intAttr('blocksize', 2), strAttr('mode', 'DCR')]);
}

/**
 * ∂L/∂w of y = conv(x, w) from x [N, C, H, W] and gy [N, O, Ho, Wo]:
 *   ∂L/∂w[o,c,a,b] = Σ_{n,i,j} gy[n,o,i,j] · x[n, c, i·s − p + a·d, j·s − p + b·d].
 * Three forms (table in the file comment):
 *  - im2col + one MatMul: the kh·kw shifted (strided) views of x, channels last, side by side
 *    form an [N·Ho·Wo, kh·kw·C] matrix; gyᵀ [O, N·Ho·Wo] times it is ∂L/∂w with taps outermost.
 *    Best for 1×1 and for stride-1 kernels with many output channels.
 *  - the swapped convolution (batch ↔ channels, gy as the filter, stride d, dilation s), in
 *    NCHWc when N and O are whole blocks: best for the 128→32 residual conv;
 *  - the same swapped convolution as a plain Conv otherwise (kept for the stride-2 4×4 convs).
 */
export function lowerConvFilterGrad(e: Emitter, n: Node, target: ConvTarget | undefined): void {
  if (n.inputs[0]!.rank === 3) return lowerConvFilterGrad1d(e, n);
  const [x, gy] = n.inputs as [Node['inputs'][0], Node['inputs'][0]];
  const [batch, c, h, wd] = x.shape as [number, number, number, number];
  const [, o, ho, wo] = gy.shape as [number, number, number, number];
  const [kh, kw] = n.attrs.kernel as readonly [number, number];
  const s = n.attrs.stride as number;
  const p = n.attrs.pad as number;
  const d = n.attrs.dilation as number;
  const out = n.outputs[0]!.name;
  const swappedBlocked = s === 1 && d === 1 && blocked(target, batch, o);
  const chosen: FilterGradForm = kh * kw === 1 || (s === 1 && o >= 64) ? 'im2col' : swappedBlocked ? 'swapped-nchwc' : 'swapped-plain';
  const forced = target?.force?.filterGrad;
  const form = forced !== undefined && (forced !== 'swapped-nchwc' || swappedBlocked) ? forced : chosen;
  if (form === 'im2col') return im2colFilterGrad(e, x.name, gy.name, { batch, c, o, outSize: [ho, wo], kernel: [kh, kw], s, p, d }, out);

  const xT = e.value('Transpose', [x.name], [intsAttr('perm', [1, 0, 2, 3])]);
  const gyT = e.value('Transpose', [gy.name], [intsAttr('perm', [1, 0, 2, 3])]);
  // The swapped conv yields H + 2p − s·(Ho − 1) ≥ kh taps per axis; the extra ones lie past the kernel.
  const [th, tw] = [h + 2 * p - s * (ho - 1), wd + 2 * p - s * (wo - 1)];
  const g: ConvGeometry = { kernel: [ho, wo], strides: [d, d], pads: [p, p, p, p], dilations: [s, s] };
  let full: string;
  if (form === 'swapped-nchwc' && target !== undefined) {
    full = e.temp();
    nchwcConv(e, xT, blockFilter(e, gyT, o, batch, ho, wo, target.nchwcBlock), o, g, full);
  } else {
    full = e.value('Conv', [xT, gyT], convAttrs(g));
  }
  const cropped = th === kh && tw === kw ? full : e.value('Slice', [full, e.ints([0, 0]), e.ints([kh, kw]), e.ints([2, 3])]);
  e.node('Transpose', [cropped], [out], [intsAttr('perm', [1, 0, 2, 3])]);
}

function im2colFilterGrad(
  e: Emitter,
  x: string,
  gy: string,
  q: { batch: number; c: number; o: number; outSize: readonly number[]; kernel: readonly number[]; s: number; p: number; d: number },
  out: string,
): void {
  // Works for any number r of spatial axes: x is [N, C, ...spatial], the taps run row-major.
  const r = q.kernel.length;
  const spatial = q.kernel.map((_, i) => i + 1); // the spatial axes once channels are last
  const taps = q.kernel.reduce((m, k) => m * k, 1);
  const rowsCount = q.batch * q.outSize.reduce((m, k) => m * k, 1);
  const channelsLast = e.value('Transpose', [x], [intsAttr('perm', [0, ...spatial.map((a) => a + 1), 1])]);
  let cols: string;
  if (taps === 1 && q.s === 1 && q.p === 0) {
    cols = channelsLast;
  } else {
    const padSpatial = q.kernel.map(() => q.p);
    const padded = q.p ? e.value('Pad', [channelsLast, e.ints([0, ...padSpatial, 0, 0, ...padSpatial, 0])], [strAttr('mode', 'constant')]) : channelsLast;
    const views = kernelOffsets(q.kernel).map((offset) => {
      const start = offset.map((a) => a * q.d);
      const end = offset.map((a, i) => a * q.d + q.s * (q.outSize[i]! - 1) + 1);
      return e.value('Slice', [padded, e.ints(start), e.ints(end), e.ints(spatial), e.ints(q.kernel.map(() => q.s))]);
    });
    cols = views.length > 1 ? emitConcat(e, views, r + 1) : views[0]!;
  }
  const rows = e.value('Reshape', [cols, e.ints([rowsCount, taps * q.c])]);
  const gyRows = e.value('Reshape', [e.value('Transpose', [gy], [intsAttr('perm', [1, 0, ...spatial.map((a) => a + 1)])]), e.ints([q.o, rowsCount])]);
  const product = e.value('MatMul', [gyRows, rows]);
  const tapsLast = e.value('Reshape', [product, e.ints([q.o, ...q.kernel, q.c])]);
  e.node('Transpose', [tapsLast], [out], [intsAttr('perm', [0, r + 1, ...spatial])]);
}

/** Every tap position of a kernel, row-major ([0,0], [0,1], … for 2-D). */
function kernelOffsets(kernel: readonly number[]): number[][] {
  return kernel.reduce<number[][]>((acc, k) => acc.flatMap((prefix) => Array.from({ length: k }, (_, a) => [...prefix, a])), [[]]);
}

// ---------------------------------------------------------------- one spatial axis
//
// 1-D convolutions ([N, C, T], weights [Cout, Cin, k]). Their plain forms are ONNX's 1-D Conv and
// ConvTranspose. ORT's blocked kernels are 2-D only, so the blocked forms view the signal as a
// height-1 image [N, C, 1, T] with a [1, k] kernel (Reshapes of the same buffer), unpadded and
// unstrided along the height. The choices are in the comment of conv1dForm.

interface Conv1dAttrs {
  readonly k: number;
  readonly s: number;
  readonly p: number;
  readonly d: number;
}

function conv1dAttrs(n: Node, k: number): Conv1dAttrs {
  return { k, s: n.attrs.stride as number, p: n.attrs.pad as number, d: n.attrs.dilation as number };
}

/** The 1-D geometry as ONNX 1-D attributes. */
const along1d = (a: Conv1dAttrs): ConvGeometry => ({ kernel: [a.k], strides: [a.s], pads: [a.p, a.p], dilations: [a.d] });

/** The same geometry on a height-1 image: nothing happens along the height. */
const asImageRow = (a: Conv1dAttrs, pads: readonly [number, number] = [a.p, a.p]): ConvGeometry =>
  ({ kernel: [1, a.k], strides: [1, a.s], pads: [0, pads[0], 0, pads[1]], dilations: [1, a.d] });

/**
 * x [N, C, T] through the blocked conv of `filter` ([O, I, k], still unblocked) viewed as a height-1
 * image, back to [N, O, To] in `out`.
 */
function nchwcConv1d(e: Emitter, x: Node['inputs'][0], filter: string, o: number, i: number, g: ConvGeometry, outShape: readonly number[], out: string, b: number): void {
  const [batch, c, t] = x.shape as [number, number, number];
  const image = e.value('Reshape', [x.name, e.ints([batch, c, 1, t])]);
  const rows = e.temp();
  nchwcConv(e, image, blockFilter(e, filter, o, i, 1, g.kernel[1]!, b), o, g, rows);
  e.node('Reshape', [rows, e.ints(outShape)], [out]);
}

/**
 * The measured choice for a 1-D conv whose channels are whole blocks (`npm run bench -- conv-forms`,
 * the 1-D passes, batch 16 × 8,000 samples, block 16, one thread, median CPU ms; measured while
 * the 2-vCPU machine ran a load of ~14, so the small differences are within noise):
 *
 *   pass                                   plain   NCHWc
 *   Conv1d k3 d1 32→16, T 8000            7.8–10.2   5.6–7.6
 *   Conv1d k3 d9 128→64, T 1000           6.0–6.1   5.4–6.7
 *   Conv1d k3 d3 256→128, T 200           4.1–4.4   4.0–4.3
 *   Conv1d k4 s2 32→64, 8000→4000           11.5     10.2–10.3
 *   Conv1d k8 s4 64→128, 4000→1000        17.2–17.7  13.7–15.5
 *   Conv1d k10 s5 128→256, 1000→200       11.9–13.0  11.4–13.0
 *   Conv1d k16 s8 256→512, 200→25         10.7–13.5  16.3–17.9
 *   ∂x k3 d1 32→16 (ConvTranspose s1)     35.6–41.3   7.0–7.2 (flipped filter)
 *   ∂x k3 d9 128→64                       23.0–24.3   6.7
 *
 *   input gradient (stride-1 ConvTranspose)   plain ConvTranspose   plain Conv, flipped filter
 *   ∂x k3 16→8 (channels not whole blocks)          26.7–29.1               5.7–8.5
 *   ∂x k1 8→16                                       4.3–7.2                1.4–1.7
 *   ∂x k3 d9 64→32, T 1000                           9.4–14.0               1.6–1.9
 *   ∂x k7 1→16 (the first conv)                      3.5–4.6                2.4–2.5
 *
 *   pass                                   plain ConvTranspose   sub-pixel (2-tap NCHWc conv)
 *   ConvT1d k4 s2 64→32, 4000→8000            30.6–33.0            10.9–12.2
 *   ConvT1d k8 s4 128→64, 1000→4000             40.0               16.6–17.2
 *   ConvT1d k10 s5 256→128, 200→1000          30.1–39.3            23.0–25.7
 *   ConvT1d k16 s8 512→256, 25→200            28.8–31.3            44.3–46.1
 *
 * So the blocked kernel for 2 to 10 taps (at parity or better), the plain node for 1 tap and for
 * the 16-tap stride-8 conv (a third slower blocked). ORT's 1-D ConvTranspose is 2–7× slower than
 * the conv with the flipped filter, blocked or not, so stride-1 transposes always take that form,
 * and the strided ones with k = 2s become one sub-pixel conv (subPixel1d) up to stride 5 (the
 * stride-8 one measured 36.1 as a plain sub-pixel conv, against 27.6 for ConvTranspose).
 */
function conv1dForm(k: number): ConvForm {
  return k > 1 && k <= 10 ? 'nchwc' : 'plain';
}

function lowerConv1d(e: Emitter, n: Node, target: ConvTarget | undefined): void {
  const [x, w] = n.inputs as [Node['inputs'][0], Node['inputs'][0]];
  const [o, i, k] = w.shape as [number, number, number];
  const a = conv1dAttrs(n, k);
  const y = n.outputs[0]!;
  if (target !== undefined && i === 1 && framesFit(a) && target.force?.conv !== 'plain') return framedConv1d(e, x, w.name, o, a, y.shape, y.name);
  if (blocked(target, o, i) && (target.force?.conv ?? conv1dForm(k)) === 'nchwc') {
    return nchwcConv1d(e, x, w.name, o, i, asImageRow(a), y.shape, y.name, target.nchwcBlock);
  }
  e.node('Conv', [x.name, w.name], [y.name], convAttrs(along1d(a)));
}

function lowerConvTranspose1d(e: Emitter, n: Node, target: ConvTarget | undefined): void {
  const [x, w] = n.inputs as [Node['inputs'][0], Node['inputs'][0]];
  const [ci, co, k] = w.shape as [number, number, number];
  const a = conv1dAttrs(n, k);
  const outputPadding = n.attrs.outputPadding as number;
  const y = n.outputs[0]!;
  // Stride 1 (the input gradient of every stride-1 conv): the conv with the flipped filter, as in
  // 2-D, lowered as that conv would be (blocked or plain), also for 1 tap: ORT's 1-D ConvTranspose
  // is 2–7× slower than either (conv1dForm's table).
  const edge = a.d * (k - 1) - a.p;
  const flippable = a.s === 1 && edge >= 0;
  // SEANet's upsampling (and the input gradient of its downsampling): k = 2s, which sub-pixel
  // phases turn into one 2-tap conv; the phases cover output steps [0, (T+1)·s) before the crop.
  const subPixelShape = a.s > 1 && k === 2 * a.s && a.d === 1 && outputPadding <= a.p;
  // Measured (conv1dForm's table): sub-pixel is 2.3–3× faster up to stride 4, ~1.4× at 5, and a
  // half slower at stride 8 (2-tap conv to 8·Cout channels over a few dozen steps).
  // The adjoint of a framed conv (one output channel, k a multiple of s ≥ 2): framedConv1d's table.
  const overlapAddShape = co === 1 && framesFit(a);
  const chosen: ConvTransposeForm = flippable ? 'nchwc-flipped' : overlapAddShape ? 'overlap-add' : subPixelShape && a.s <= 5 ? 'sub-pixel' : 'plain';
  const forced = target?.force?.convTranspose;
  const applies = forced === 'plain' || (forced === 'nchwc-flipped' && flippable) || (forced === 'sub-pixel' && subPixelShape) || (forced === 'overlap-add' && overlapAddShape);
  const form = forced !== undefined && applies ? forced : chosen;
  if (form === 'overlap-add' && target !== undefined) return overlapAdd1d(e, x, w.name, ci, a, y.shape, y.name);
  if (form === 'nchwc-flipped' && target !== undefined) {
    const swapped = e.value('Transpose', [w.name], [intsAttr('perm', [1, 0, 2])]);
    const flipped = k > 1 ? e.value('Slice', [swapped, e.ints([-1]), e.ints([-(2 ** 62)]), e.ints([2]), e.ints([-1])]) : swapped;
    if (blocked(target, ci, co) && conv1dForm(k) === 'nchwc') {
      return nchwcConv1d(e, x, flipped, co, ci, asImageRow({ ...a, s: 1 }, [edge, edge]), y.shape, y.name, target.nchwcBlock);
    }
    return e.node('Conv', [x.name, flipped], [y.name], convAttrs({ kernel: [k], strides: [1], pads: [edge, edge], dilations: [a.d] }));
  }
  if (form === 'sub-pixel' && target !== undefined) return subPixel1d(e, x, w.name, ci, co, a, y.shape, y.name, target);
  const attrs = convAttrs(along1d(a));
  attrs.push(intsAttr('output_padding', [outputPadding]));
  e.node('ConvTranspose', [x.name, w.name], [y.name], attrs);
}

/**
 * A stride-s transposed conv with k = 2s taps as one 2-tap conv with s·Cout outputs (Shi et al.
 * 2016's sub-pixel convolution in 1-D). With j + p = m·s + r (0 ≤ r < s), output step j receives
 * exactly two taps: y[j] = x[m]·w[r] + x[m−1]·w[r+s]. So phase r is the 2-tap correlation of x
 * (one zero at each end) with taps (w[r+s], w[r]), for m = 0 … T; the s phases side by side are one
 * conv, interleaved by a Reshape/Transpose into (T+1)·s steps, of which [p, p + To) are the output.
 * Each output is the same sum of products as in the plain node.
 */
function subPixel1d(e: Emitter, x: Node['inputs'][0], w: string, ci: number, co: number, a: Conv1dAttrs, outShape: readonly number[], out: string, target: ConvTarget): void {
  const [batch, , t] = x.shape as [number, number, number];
  const s = a.s;
  // w [Cin, Cout, 2s] → taps [q, r] with a = q·s + r; tap 0 of phase r is q = 1, tap 1 is q = 0.
  const split = e.value('Reshape', [w, e.ints([ci, co, 2, s])]);
  const flipped = e.value('Slice', [split, e.ints([-1]), e.ints([-(2 ** 62)]), e.ints([2]), e.ints([-1])]);
  const phaseMajor = e.value('Transpose', [flipped], [intsAttr('perm', [3, 1, 0, 2])]);
  const filter = e.value('Reshape', [phaseMajor, e.ints([s * co, ci, 2])]);
  const g: Conv1dAttrs = { k: 2, s: 1, p: 1, d: 1 };
  let phases: string;
  if (blocked(target, ci, s * co)) {
    phases = e.temp();
    nchwcConv1d(e, x, filter, s * co, ci, asImageRow(g), [batch, s * co, t + 1], phases, target.nchwcBlock);
  } else {
    phases = e.value('Conv', [x.name, filter], convAttrs(along1d(g)));
  }
  const split4 = e.value('Reshape', [phases, e.ints([batch, s, co, t + 1])]);
  const interleaved = e.value('Transpose', [split4], [intsAttr('perm', [0, 2, 3, 1])]);
  const steps = e.value('Reshape', [interleaved, e.ints([batch, co, (t + 1) * s])]);
  e.node('Slice', [steps, e.ints([a.p]), e.ints([a.p + outShape[2]!]), e.ints([2])], [out]);
}

/**
 * Framing forms, for a 1-D conv of one input channel whose kernel is m ≥ 1 whole strides s ≥ 2
 * long (k = m·s, dilation 1), the analysis filterbank of a short-time transform
 * (src/layers/multi-resolution-mel-loss.ts: k = N, s = N / 4, one output channel per real or
 * imaginary DFT coefficient). ORT's Conv runs it as an im2col and a GEMM per signal, whose filter
 * (N² floats, 16 MiB at N = 2,048) is read again for every signal of the batch, and its
 * ConvTranspose likewise. Here the frames of every signal are built from m Slices of the signal cut
 * into hops (no copy per tap), so the whole batch is one MatMul [B·frames, k]·[k, O]; the
 * adjoint is the MatMul of the coefficients with the filter, giving each frame's k samples, and an
 * overlap-add of the m hop-long parts of the frames (one Sum of m shifted copies). Each output is
 * the same sum of products as in the plain node.
 *
 * Measured at batch 16 × 8,000 samples, one thread, median CPU ms, on the 2-vCPU AVX-512 machine
 * at a load of 11–18 (so differences under ~20 % are noise). The passes on their own (`npm run
 * bench -- conv-forms`, filter fed as an input):
 *
 *   pass                                         plain       framed / overlap-add
 *   Conv1d k2048 s512 1→2048, 8000→12          20.4–23.4            9.2–14.1
 *   ConvT1d k2048 s512 2048→1, 12→7680         39.4–58.7           11.9
 *
 * and, built as graphs of primitives (frames by Slices, MatMul, autodiff's adjoint), forward and
 * input gradient together at stride k/4 with a constant filter, plain Conv + ConvTranspose against
 * frames + MatMul: 3.8–4.0 against 2.0–2.3 at k = 64, 5.6–6.7 / 4.2–4.8 at 256, 8.7–10.5 / 6.2–7.4
 * at 512, 39.9–43.7 / 22.5–23.1 at 2,048. The whole default mel loss with its gradient
 * (src/layers/multi-resolution-mel-loss.ts) took 87–94 plain and 58–64 in these forms.
 */
function framesFit(a: Conv1dAttrs): boolean {
  return a.d === 1 && a.s >= 2 && a.k % a.s === 0;
}

function framedConv1d(e: Emitter, x: Node['inputs'][0], w: string, o: number, a: Conv1dAttrs, outShape: readonly number[], out: string): void {
  const [batch, , t] = x.shape as [number, number, number];
  const frames = outShape[2]!;
  const taps = a.k / a.s;
  const hops = frames + taps - 1; // (To − 1)·s + k ≤ T + 2p samples, all that the frames read
  const padded = a.p ? e.value('Pad', [x.name, e.ints([0, 0, a.p, 0, 0, a.p])], [strAttr('mode', 'constant')]) : x.name;
  const used = hops * a.s === t + 2 * a.p ? padded : e.value('Slice', [padded, e.ints([0]), e.ints([hops * a.s]), e.ints([2])]);
  const chunks = e.value('Reshape', [used, e.ints([batch, hops, a.s])]);
  const parts = Array.from({ length: taps }, (_, j) => (taps === 1 ? chunks : e.value('Slice', [chunks, e.ints([j]), e.ints([j + frames]), e.ints([1])])));
  const framed = parts.length > 1 ? emitConcat(e, parts, 2) : parts[0]!;
  const filter = e.value('Transpose', [e.value('Reshape', [w, e.ints([o, a.k])])], [intsAttr('perm', [1, 0])]);
  const product = e.value('MatMul', [framed, filter]); // [B, frames, O]
  e.node('Transpose', [product], [out], [intsAttr('perm', [0, 2, 1])]);
}

/** The adjoint of framedConv1d: x [B, Cin, Tin] and w [Cin, 1, k] to the one-channel signal of a stride-s ConvTranspose. */
function overlapAdd1d(e: Emitter, x: Node['inputs'][0], w: string, ci: number, a: Conv1dAttrs, outShape: readonly number[], out: string): void {
  const [batch, , t] = x.shape as [number, number, number];
  const taps = a.k / a.s;
  // One [B·Tin, Cin]·[Cin, k] GEMM: the Reshape keeps ORT from fusing the Transpose into the MatMul
  // as a transposed operand, which it runs as one GEMM per signal, each reading all of w.
  const rows = e.value('Reshape', [e.value('Transpose', [x.name], [intsAttr('perm', [0, 2, 1])]), e.ints([batch * t, ci])]);
  const frames = e.value('MatMul', [rows, e.value('Reshape', [w, e.ints([ci, a.k])])]); // [B·Tin, k]
  const parts = e.value('Reshape', [frames, e.ints([batch, t, taps, a.s])]);
  // Part j of frame i lands on hop i + j of the full output, (Tin + m − 1)·s samples long.
  const shifted = Array.from({ length: taps }, (_, j) => {
    const part = e.value('Reshape', [e.value('Slice', [parts, e.ints([j]), e.ints([j + 1]), e.ints([2])]), e.ints([batch, t, a.s])]);
    return taps === 1 ? part : e.value('Pad', [part, e.ints([0, j, 0, 0, taps - 1 - j, 0])], [strAttr('mode', 'constant')]);
  });
  const summed = shifted.length > 1 ? e.value('Sum', shifted) : shifted[0]!;
  const full = (t + taps - 1) * a.s;
  const signal = e.value('Reshape', [summed, e.ints([batch, 1, full])]);
  // The output is the full signal from sample p on, To = full − 2p + outputPadding samples; any past its end are zeros.
  const to = outShape[2]!;
  const end = Math.min(full, a.p + to);
  const cropped = a.p === 0 && end === full ? signal : e.value('Slice', [signal, e.ints([a.p]), e.ints([end]), e.ints([2])]);
  if (a.p + to <= full) return e.node('Identity', [cropped], [out]);
  e.node('Pad', [cropped, e.ints([0, 0, 0, 0, 0, a.p + to - full])], [out], [strAttr('mode', 'constant')]);
}

/**
 * ∂L/∂w of a 1-D conv: always im2col + one MatMul. Its inner dimension is N·To, thousands of
 * frames for audio, where one large GEMM runs at its best; the swapped convolution would use
 * gy [O, N, To] as a filter To taps long, one im2col of x per input channel.
 */
function lowerConvFilterGrad1d(e: Emitter, n: Node): void {
  const [x, gy] = n.inputs as [Node['inputs'][0], Node['inputs'][0]];
  const [batch, c] = x.shape as [number, number, number];
  const [, o, to] = gy.shape as [number, number, number];
  const [k] = n.attrs.kernel as readonly [number];
  const a = conv1dAttrs(n, k);
  im2colFilterGrad(e, x.name, gy.name, { batch, c, o, outSize: [to], kernel: [k], s: a.s, p: a.p, d: a.d }, n.outputs[0]!.name);
}
