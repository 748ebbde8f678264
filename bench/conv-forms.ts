/**
 * The per-shape measurements behind `src/onnx/conv-forms.ts`: every form a convolution pass of the
 * reference MNIST model (at batch 128) or of the SEANet audio model (1-D, at batch 16 × 8,000
 * samples) can take, timed on its own at one ORT thread, as the median
 * CPU milliseconds per call (user + system time of this process, so a shared machine inflates it
 * less than wall time). Forms are forced through `ConvTarget.force`; each shape lists only the forms
 * that apply to it. Prints one JSON object: the NCHWc block this CPU has, and ms per form per pass.
 */
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import { shapeSize, type Shape, type Tensor } from '../src/graph/tensor.js';
import { Rng } from '../src/init/rng.js';
import type { ConvTarget } from '../src/onnx/conv-forms.js';
import { encodeModel, toModelProto } from '../src/onnx/lower.js';
import { nchwcTarget } from '../src/runtime/conv-target.js';
import { currentRuntime } from '../src/runtime/runtime.js';
import { median, round } from './stats.js';

const N = 128;
const RUNS = 15;
const WARMUP = 3;

type Force = NonNullable<ConvTarget['force']>;

interface Pass {
  readonly label: string;
  readonly a: Shape;
  readonly b: Shape;
  readonly build: (a: Tensor, b: Tensor) => Tensor;
  /** Each form by name, with the override that forces it. */
  readonly forms: Readonly<Record<string, Force>>;
}

const conv = (o: op.ConvOptions) => (x: Tensor, w: Tensor) => op.conv2d(x, w, o);
const convT = (o: op.ConvTransposeOptions) => (x: Tensor, w: Tensor) => op.convTranspose2d(x, w, o);
const filterGrad = (kernel: number, o: { stride?: number; pad?: number }) => (x: Tensor, gy: Tensor) =>
  op.conv2dFilterGrad(x, gy, { kernel: [kernel, kernel], ...o });

const CONV_FORMS = { plain: { conv: 'plain' }, nchwc: { conv: 'nchwc' } } as const;
const CONVT_S1_FORMS = { plain: { convTranspose: 'plain' }, 'nchwc-flipped': { convTranspose: 'nchwc-flipped' } } as const;
const CONVT_SUBPIXEL_FORMS = { plain: { convTranspose: 'plain' }, 'sub-pixel': { convTranspose: 'sub-pixel' } } as const;
const FILTER_GRAD_FORMS = {
  im2col: { filterGrad: 'im2col' },
  'swapped-nchwc': { filterGrad: 'swapped-nchwc' },
  'swapped-plain': { filterGrad: 'swapped-plain' },
} as const;

/** Batch and crop of the 1-D passes: 16 crops of 0.5 s at 16 kHz. */
const NA = 16;
const conv1 = (o: op.ConvOptions) => (x: Tensor, w: Tensor) => op.conv1d(x, w, o);
const convT1 = (o: op.ConvTransposeOptions) => (x: Tensor, w: Tensor) => op.convTranspose1d(x, w, o);

/**
 * 1-D passes of the SEANet model (src/models/seanet.ts) with 32 base channels and strides 2·4·5·8:
 * residual units' dilated 3-tap convs at each resolution, the strided convs, the input gradient of
 * a dilated conv (a stride-1 transposed conv), and the decoder's k = 2s transposed convs; then the
 * STFT of the multi-resolution mel loss.
 */
const AUDIO_PASSES: readonly Pass[] = [
  { label: 'Conv1d k3 d1 32→16, T 8000', a: [NA, 32, 8000], b: [16, 32, 3], build: conv1({ pad: 1 }), forms: CONV_FORMS },
  { label: 'Conv1d k3 d9 128→64, T 1000', a: [NA, 128, 1000], b: [64, 128, 3], build: conv1({ pad: 9, dilation: 9 }), forms: CONV_FORMS },
  { label: 'Conv1d k3 d3 256→128, T 200', a: [NA, 256, 200], b: [128, 256, 3], build: conv1({ pad: 3, dilation: 3 }), forms: CONV_FORMS },
  { label: 'Conv1d k4 s2 32→64, 8000→4000', a: [NA, 32, 8000], b: [64, 32, 4], build: conv1({ stride: 2, pad: 1 }), forms: CONV_FORMS },
  { label: 'Conv1d k8 s4 64→128, 4000→1000', a: [NA, 64, 4000], b: [128, 64, 8], build: conv1({ stride: 4, pad: 2 }), forms: CONV_FORMS },
  { label: 'Conv1d k10 s5 128→256, 1000→200', a: [NA, 128, 1000], b: [256, 128, 10], build: conv1({ stride: 5, pad: 3 }), forms: CONV_FORMS },
  { label: 'Conv1d k16 s8 256→512, 200→25', a: [NA, 256, 200], b: [512, 256, 16], build: conv1({ stride: 8, pad: 4 }), forms: CONV_FORMS },
  { label: '∂x Conv1d k3 d9 128→64 (ConvTranspose s1)', a: [NA, 64, 1000], b: [64, 128, 3], build: convT1({ pad: 9, dilation: 9 }), forms: CONVT_S1_FORMS },
  { label: 'ConvT1d k4 s2 64→32, 4000→8000', a: [NA, 64, 4000], b: [64, 32, 4], build: convT1({ stride: 2, pad: 1 }), forms: CONVT_SUBPIXEL_FORMS },
  { label: 'ConvT1d k8 s4 128→64, 1000→4000', a: [NA, 128, 1000], b: [128, 64, 8], build: convT1({ stride: 4, pad: 2 }), forms: CONVT_SUBPIXEL_FORMS },
  { label: 'ConvT1d k10 s5 256→128, 200→1000', a: [NA, 256, 200], b: [256, 128, 10], build: convT1({ stride: 5, pad: 3, outputPadding: 1 }), forms: CONVT_SUBPIXEL_FORMS },
  { label: 'ConvT1d k16 s8 512→256, 25→200', a: [NA, 512, 25], b: [512, 256, 16], build: convT1({ stride: 8, pad: 4 }), forms: CONVT_SUBPIXEL_FORMS },
  // The DFT of src/layers/multi-resolution-mel-loss.ts at its largest default resolution, and its input gradient.
  { label: 'Conv1d k2048 s512 1→2048, 8000→12 (STFT)', a: [NA, 1, 8000], b: [2048, 1, 2048], build: conv1({ stride: 512 }), forms: { plain: { conv: 'plain' }, framed: { conv: 'framed' } } },
  { label: 'ConvT1d k2048 s512 2048→1, 12→7680 (∂x of the STFT)', a: [NA, 2048, 12], b: [2048, 1, 2048], build: convT1({ stride: 512 }), forms: { plain: { convTranspose: 'plain' }, 'overlap-add': { convTranspose: 'overlap-add' } } },
];

/** The conv passes of the reference model (src/models/reference-mnist.ts) at batch 128, as the file comment of conv-forms.ts lists them. */
const PASSES: readonly Pass[] = [
  { label: 'Conv 3×3 128→128 on 7×7', a: [N, 128, 7, 7], b: [128, 128, 3, 3], build: conv({ pad: 1 }), forms: CONV_FORMS },
  { label: 'Conv 3×3 128→32 on 7×7', a: [N, 128, 7, 7], b: [32, 128, 3, 3], build: conv({ pad: 1 }), forms: CONV_FORMS },
  { label: 'Conv 3×3 64→128 on 7×7', a: [N, 64, 7, 7], b: [128, 64, 3, 3], build: conv({ pad: 1 }), forms: CONV_FORMS },
  { label: 'Conv 4×4 s2 64→128, 14×14→7×7', a: [N, 64, 14, 14], b: [128, 64, 4, 4], build: conv({ stride: 2, pad: 1 }), forms: CONV_FORMS },
  { label: 'Conv 1×1 32→128', a: [N, 32, 7, 7], b: [128, 32, 1, 1], build: conv({}), forms: CONV_FORMS },
  { label: 'Conv 1×1 128→64', a: [N, 128, 7, 7], b: [64, 128, 1, 1], build: conv({}), forms: CONV_FORMS },
  { label: '∂x 3×3 128→128 (ConvTranspose s1)', a: [N, 128, 7, 7], b: [128, 128, 3, 3], build: convT({ pad: 1 }), forms: CONVT_S1_FORMS },
  { label: '∂x 3×3 128→32', a: [N, 32, 7, 7], b: [32, 128, 3, 3], build: convT({ pad: 1 }), forms: CONVT_S1_FORMS },
  { label: '∂x 3×3 64→128', a: [N, 128, 7, 7], b: [128, 64, 3, 3], build: convT({ pad: 1 }), forms: CONVT_S1_FORMS },
  {
    label: 'ConvTranspose 4×4 s2 128→64, 7→14',
    a: [N, 128, 7, 7],
    b: [128, 64, 4, 4],
    build: convT({ stride: 2, pad: 1 }),
    forms: { plain: { convTranspose: 'plain' }, 'sub-pixel': { convTranspose: 'sub-pixel' } },
  },
  { label: '∂w 3×3 128→128', a: [N, 128, 7, 7], b: [N, 128, 7, 7], build: filterGrad(3, { pad: 1 }), forms: FILTER_GRAD_FORMS },
  { label: '∂w 3×3 128→32', a: [N, 128, 7, 7], b: [N, 32, 7, 7], build: filterGrad(3, { pad: 1 }), forms: FILTER_GRAD_FORMS },
  { label: '∂w 3×3 64→128', a: [N, 64, 7, 7], b: [N, 128, 7, 7], build: filterGrad(3, { pad: 1 }), forms: FILTER_GRAD_FORMS },
  { label: '∂w 1×1 32→128', a: [N, 32, 7, 7], b: [N, 128, 7, 7], build: filterGrad(1, {}), forms: { im2col: FILTER_GRAD_FORMS.im2col, 'swapped-plain': FILTER_GRAD_FORMS['swapped-plain'] } },
  { label: '∂w 1×1 128→64', a: [N, 128, 7, 7], b: [N, 64, 7, 7], build: filterGrad(1, {}), forms: { im2col: FILTER_GRAD_FORMS.im2col, 'swapped-plain': FILTER_GRAD_FORMS['swapped-plain'] } },
  {
    label: '∂w 4×4 s2 64→128',
    a: [N, 64, 14, 14],
    b: [N, 128, 7, 7],
    build: filterGrad(4, { stride: 2, pad: 1 }),
    forms: { im2col: FILTER_GRAD_FORMS.im2col, 'swapped-plain': FILTER_GRAD_FORMS['swapped-plain'] },
  },
  ...AUDIO_PASSES,
];

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Median CPU ms of one call of `pass` lowered with `target`. */
async function timeForm(pass: Pass, target: ConvTarget): Promise<number> {
  const g = new Graph();
  const y = pass.build(g.input('a', pass.a), g.input('b', pass.b));
  const runtime = currentRuntime();
  const session = await runtime.createSession(encodeModel(toModelProto(g, [{ name: 'y', tensor: y }], { convTarget: target })), { threads: 1 });
  const rng = new Rng(7);
  const feed = (s: Shape) => runtime.tensor('float32', Float32Array.from({ length: shapeSize(s) }, () => rng.normal()), s);
  const feeds = { a: feed(pass.a), b: feed(pass.b) };
  try {
    for (let i = 0; i < WARMUP; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = cpuMs();
      await session.run(feeds);
      times.push(cpuMs() - t0);
    }
    return median(times);
  } finally {
    await session.release();
  }
}

export async function benchConvForms(): Promise<Record<string, number | string | null>> {
  const probed = await nchwcTarget(currentRuntime());
  if (!probed) return { nchwc_block: null, note: 'this ONNX Runtime build or CPU has no NCHWc kernels; only the plain forms exist' };
  const result: Record<string, number | string | null> = { nchwc_block: probed.nchwcBlock, batch: N, threads: 1, unit: 'median CPU ms per call' };
  for (const pass of PASSES) {
    const timings: string[] = [];
    for (const [form, force] of Object.entries(pass.forms)) {
      const ms = await timeForm(pass, { nchwcBlock: probed.nchwcBlock, force });
      result[`${pass.label} | ${form}`] = round(ms, 1);
      timings.push(`${form} ${ms.toFixed(1)}`);
    }
    process.stderr.write(`${pass.label.padEnd(38)} ${timings.join('   ')}\n`);
  }
  return result;
}
