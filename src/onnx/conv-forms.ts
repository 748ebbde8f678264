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
 */
import type { Node } from '../graph/tensor.js';
import { intAttr, intsAttr, strAttr, type Emitter } from './emitter.js';

/** The forms each primitive can take (see the table above). */
export type ConvForm = 'plain' | 'nchwc';
export type ConvTransposeForm = 'plain' | 'nchwc-flipped' | 'sub-pixel';
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

interface ConvGeometry {
  readonly kernel: readonly [number, number];
  readonly stride: number;
  readonly pads: readonly [number, number, number, number];
  readonly dilation: number;
}

function convAttrs(g: ConvGeometry): ReturnType<typeof intsAttr>[] {
  return [
    intsAttr('kernel_shape', g.kernel),
    intsAttr('strides', [g.stride, g.stride]),
    intsAttr('pads', g.pads),
    intsAttr('dilations', [g.dilation, g.dilation]),
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
  const [x, w] = n.inputs as [Node['inputs'][0], Node['inputs'][0]];
  const [o, i, kh, kw] = w.shape as [number, number, number, number];
  const p = n.attrs.pad as number;
  const g: ConvGeometry = { kernel: [kh, kw], stride: n.attrs.stride as number, pads: [p, p, p, p], dilation: n.attrs.dilation as number };
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
      const g: ConvGeometry = { kernel: [kh, kw], stride: 1, pads: [ph, pw, ph, pw], dilation: d };
      return nchwcConv(e, x.name, blockFilter(e, flipped, co, ci, kh, kw, b), co, g, out);
    }
    if (form === 'sub-pixel') return subPixel(e, x.name, w.name, ci, co, b, out);
  }
  const attrs = convAttrs({ kernel: [kh, kw], stride: s, pads: [p, p, p, p], dilation: d });
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
      const g: ConvGeometry = { kernel: [2, 2], stride: 1, pads: [1 - r, 1 - c, r, c], dilation: 1 };
      phases.push(e.value('Conv', [xb, blockFilter(e, taps, co, ci, 2, 2, b)], convAttrs(g), NCHWC));
    }
  }
  const stacked = e.value('Concat', phases, [intAttr('axis', 1)]);
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
  if (form === 'im2col') return im2colFilterGrad(e, x.name, gy.name, { batch, c, o, ho, wo, kh, kw, s, p, d }, out);

  const xT = e.value('Transpose', [x.name], [intsAttr('perm', [1, 0, 2, 3])]);
  const gyT = e.value('Transpose', [gy.name], [intsAttr('perm', [1, 0, 2, 3])]);
  // The swapped conv yields H + 2p − s·(Ho − 1) ≥ kh taps per axis; the extra ones lie past the kernel.
  const [th, tw] = [h + 2 * p - s * (ho - 1), wd + 2 * p - s * (wo - 1)];
  const g: ConvGeometry = { kernel: [ho, wo], stride: d, pads: [p, p, p, p], dilation: s };
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
  q: { batch: number; c: number; o: number; ho: number; wo: number; kh: number; kw: number; s: number; p: number; d: number },
  out: string,
): void {
  const rowsCount = q.batch * q.ho * q.wo;
  const channelsLast = e.value('Transpose', [x], [intsAttr('perm', [0, 2, 3, 1])]);
  let cols: string;
  if (q.kh * q.kw === 1 && q.s === 1 && q.p === 0) {
    cols = channelsLast;
  } else {
    const padded = q.p ? e.value('Pad', [channelsLast, e.ints([0, q.p, q.p, 0, 0, q.p, q.p, 0])], [strAttr('mode', 'constant')]) : channelsLast;
    const views: string[] = [];
    for (let a = 0; a < q.kh; a++) {
      for (let b = 0; b < q.kw; b++) {
        const start = [a * q.d, b * q.d];
        const end = [a * q.d + q.s * (q.ho - 1) + 1, b * q.d + q.s * (q.wo - 1) + 1];
        views.push(e.value('Slice', [padded, e.ints(start), e.ints(end), e.ints([1, 2]), e.ints([q.s, q.s])]));
      }
    }
    cols = views.length > 1 ? e.value('Concat', views, [intAttr('axis', 3)]) : views[0]!;
  }
  const rows = e.value('Reshape', [cols, e.ints([rowsCount, q.kh * q.kw * q.c])]);
  const gyRows = e.value('Reshape', [e.value('Transpose', [gy], [intsAttr('perm', [1, 0, 2, 3])]), e.ints([q.o, rowsCount])]);
  const product = e.value('MatMul', [gyRows, rows]);
  const taps = e.value('Reshape', [product, e.ints([q.o, q.kh, q.kw, q.c])]);
  e.node('Transpose', [taps], [out], [intsAttr('perm', [0, 3, 1, 2])]);
}
