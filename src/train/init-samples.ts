/**
 * The search inputs a quantizer's initialization draws across the training set (`initSampleCount`,
 * e.g. VQ's `kmeansSamples`): k-means from one batch of M latents can place at most M distinct
 * codes, so a large codebook needs vectors from more examples than a batch holds.
 *
 * Before the first training step, n = ⌈count / L⌉ training examples (L latents each) are chosen at
 * random, without repeats, from the whole training set by a generator of their own (the batches'
 * order is untouched), run through the encoder and the quantizer's input path (projection,
 * normalization) by an inference program with the initial weights — the weights the first batch's
 * search inputs are computed with — and the first `count` of their search inputs are kept. Memory:
 * the n chosen examples and count·c floats, both bounded by the option's maximum; the program is
 * released before training starts.
 */
import { pickExamples } from '../eval/evaluator.js';
import { Rng } from '../init/rng.js';
import { buildModel } from '../models/config.js';
import { autoencode } from '../models/forward.js';
import { chooseRows } from '../quantizers/kmeans.js';
import { forEachFixedBatch } from '../runtime/fixed-batches.js';
import { InferenceProgram } from '../runtime/inference-program.js';
import type { Run } from './run-setup.js';

/** A stream of the run's seed apart from the batch order's and the weights'. */
const SAMPLE_STREAM = 0x6b6d65; // "kme"

/** Search inputs drawn across the training set: `rows` vectors [rows, c] of `examples` examples. */
export interface InitSamples {
  readonly vectors: Float32Array;
  readonly rows: number;
  readonly examples: number;
}

/**
 * `count` search inputs of training examples drawn at random (file comment); fewer when the whole
 * training set holds fewer latents.
 */
export async function drawInitSamples(run: Run, count: number): Promise<InitSamples> {
  const { modality, config, options, data, store } = run;
  // The run's model rebuilt from its config: the same variable names, read from the run's store.
  const model = buildModel(config);
  const latentsPerExample = model.latent.height * model.latent.width;
  const examples = Math.min(data.train.count, Math.ceil(count / latentsPerExample));
  const indices = chooseRows(data.train.count, examples, new Rng(options.seed * 1_000_003 + SAMPLE_STREAM));
  const values = modality.valuesFor(data.train, config);
  const exampleSize = values.length / data.train.count;
  const picked = pickExamples(values, exampleSize, indices);
  const batch = Math.min(options.batch, examples);
  const program = await InferenceProgram.create({
    store,
    threads: options.threads,
    graphName: 'init-samples',
    build: (ctx) => {
      const searchInputs = autoencode(ctx, model, ctx.input('x', [batch, ...modality.exampleDims(config)])).quantized.searchInputs;
      if (searchInputs === undefined) throw new Error(`the ${model.quantizer.kind} quantizer asks for initialization samples but has no search inputs to give`);
      return { searchInputs };
    },
  });
  try {
    const rows = Math.min(count, examples * latentsPerExample);
    let out: Float32Array | undefined;
    let filled = 0;
    await forEachFixedBatch(picked, exampleSize, batch, async (input, _start, n) => {
      const result = (await program.run({ x: input })).searchInputs;
      if (!(result instanceof Float32Array)) throw new Error('initialization samples: the search inputs were not fetched as float32');
      const width = result.length / (batch * latentsPerExample);
      out ??= new Float32Array(rows * width);
      const take = Math.min(n * latentsPerExample, rows - filled);
      out.set(result.subarray(0, take * width), filled * width);
      filled += take;
    });
    return { vectors: out!, rows, examples };
  } finally {
    await program.release();
  }
}
