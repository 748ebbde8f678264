/**
 * The demo's Web Worker: owns the MNIST digits, the model and every ONNX Runtime session, so the
 * page stays responsive while a training step runs. Training is vqlab's own training step
 * (`createAutoencoderStep`, the graph `vqlab train` runs) on onnxruntime-web. A speech checkpoint
 * (`vqlab train --model seanet`) codes clips in windows of its example length with the same
 * windowing as `vqlab encode`/`vqlab decode` (encodeSequence, decodeSequence).
 */
import {
  Adam, audioInputOf, BatchIterator, buildModel, clampToSigned, clampToUnit, configFromJson, createAutoencoderStep, decodeFromIndices, decodeSequence,
  encodeSequence, encodeToIndices, EpochStats, forEachFixedBatch, InferenceProgram, lossesOf, makeDataset, makeModelConfig, modalityNameOf, modelFromWeights,
  resolveQuantizerConfig, runAutoencoderStep, SEQUENCE_BATCH, splitTrainTest, TRAIN_DEFAULTS, unitFromBytes, useRuntime, VariableStore, webGpuAdapterName, webRuntime,
  type AutoencoderStep, type ExampleCoder, type ImageDataset, type InferenceProgramOptions, type ModelConfig, type VqvaeModel,
} from '../../dist/src/browser.js';
import { MNIST_FILE, ORT_DIRECTORY, TEST_DIGITS, testDigitIndices, type FromWorker, type SpeechModel, type TestDigits, type ToWorker, type TrainSettings } from './protocol.js';

interface WorkerScope {
  onmessage: ((event: { data: ToWorker }) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  readonly location: { readonly href: string };
}
const scope = globalThis as unknown as WorkerScope;

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** The bundled digits are held out exactly as `vqlab train` holds them out (load.ts): 1,000 test images, split seed 0. */
const TEST_COUNT = 1000;
const SPLIT_SEED = 0;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** The model the page is looking at, with the small inference programs the page needs. */
interface Loaded {
  readonly config: ModelConfig;
  readonly model: VqvaeModel;
  readonly store: VariableStore;
  readonly encode: InferenceProgram;
  readonly decode: InferenceProgram;
  /** An image model's strip of test digits; null for a speech model. */
  readonly testDigits: InferenceProgram | null;
  /** A speech model's windows coded both ways (encode and decode at SEQUENCE_BATCH windows a run); null for an image model. */
  readonly speech: ExampleCoder | null;
}

let data: { train: ImageDataset; test: ImageDataset } | undefined;
let loaded: Loaded | undefined;
let stopRequested = false;
let training = false;
/** onnxruntime-web runs one session at a time per instance; every ORT call goes through this chain. */
let ortQueue: Promise<unknown> = Promise.resolve();

function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const result = ortQueue.then(work);
  ortQueue = result.catch(() => undefined);
  return result;
}

async function loadDigits(): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const response = await fetch(new URL(MNIST_FILE, scope.location.href));
  if (!response.ok) throw new Error(`cannot fetch the MNIST digits (${MNIST_FILE}): HTTP ${response.status}; rebuild the demo with npm run demo`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const count = bytes.length / (PIXELS + 1);
  if (!Number.isInteger(count)) throw new Error(`${MNIST_FILE} holds ${bytes.length} bytes, not a whole number of 28×28 digits with labels; rebuild the demo`);
  const all = makeDataset({
    images: unitFromBytes(bytes.subarray(0, count * PIXELS)),
    labels: bytes.slice(count * PIXELS),
    count,
    channels: 1,
    height: SIDE,
    width: SIDE,
    name: 'mnist-bundled',
  });
  return splitTrainTest(all, TEST_COUNT, SPLIT_SEED);
}

/**
 * Make `model` the one the page looks at. Its programs are built before the previous model is let
 * go, so a model that fails to build leaves the page with the one it had.
 */
async function useModel(config: ModelConfig, model: VqvaeModel, store: VariableStore): Promise<Loaded> {
  if (model.quantizer.depth > 1) throw new Error(`the page shows one code per grid cell; a ${model.quantizer.kind} quantizer with ${model.quantizer.depth} stages is not supported here (use vqlab encode/decode)`);
  const speech = modalityNameOf(config) === 'audio';
  const programs = speech ? await createSpeechPrograms(model, store) : await createPrograms(model, store);
  const previous = loaded;
  loaded = { config, model, store, ...programs };
  if (previous) await releaseAll(previous);
  const q = model.quantizer;
  post({
    kind: 'model',
    description: `${config.architecture.kind} + ${q.kind} (K=${q.codebookSize}, d=${q.dim})`,
    codebookSize: q.codebookSize,
    grid: [model.latent.height, model.latent.width],
    speech: speech ? speechModel(config, model) : null,
  });
  return loaded;
}

/** What the page shows of a speech model: its rate, window and codes per second (as `vqlab eval` reports them). */
function speechModel(config: ModelConfig, model: VqvaeModel): SpeechModel {
  const { sampleRate, samples } = audioInputOf(config);
  const codesPerWindow = model.latent.height * model.latent.width * model.quantizer.depth;
  return { sampleRate, windowSamples: samples, codesPerWindow, tokensPerSecond: (codesPerWindow * sampleRate) / samples };
}

type Programs = Pick<Loaded, 'encode' | 'decode' | 'testDigits' | 'speech'>;

/**
 * A speech model's encoder and decoder at SEQUENCE_BATCH windows a run, the graphs `vqlab encode`
 * and `vqlab decode` run (the decoder's output clamped to [−1, 1] as the audio modality's is),
 * wrapped as the ExampleCoder that encodeSequence and decodeSequence drive.
 */
async function createSpeechPrograms(model: VqvaeModel, store: VariableStore): Promise<Programs> {
  const { channels, height, width } = model.input;
  const grid = model.latent;
  const exampleSize = channels * height * width;
  const codesPerImage = grid.height * grid.width;
  const encode = await InferenceProgram.create({
    store,
    graphName: 'speech_encode',
    build: (ctx) => ({ codes: encodeToIndices(ctx, model, ctx.input('audio', [SEQUENCE_BATCH, channels, height, width])) }),
  });
  let decode: InferenceProgram;
  try {
    decode = await InferenceProgram.create({
      store,
      graphName: 'speech_decode',
      build: (ctx) => ({ audio: clampToSigned(decodeFromIndices(ctx, model, ctx.input('codes', [SEQUENCE_BATCH, grid.height, grid.width], 'int64'))) }),
    });
  } catch (err) {
    await exclusive(() => encode.release());
    throw err;
  }
  const speech: ExampleCoder = {
    exampleSize,
    codesPerImage,
    async encode(examples) {
      const out = new Int32Array((examples.length / exampleSize) * codesPerImage);
      await forEachFixedBatch(examples, exampleSize, SEQUENCE_BATCH, async (batch, start, n) => {
        const codes = (await exclusive(() => encode.run({ audio: batch }))).codes as BigInt64Array;
        for (let i = 0; i < n * codesPerImage; i++) out[start * codesPerImage + i] = Number(codes[i]!);
      });
      return out;
    },
    async decode(indices) {
      const out = new Float32Array((indices.length / codesPerImage) * exampleSize);
      await forEachFixedBatch(BigInt64Array.from(indices, (v) => BigInt(v)), codesPerImage, SEQUENCE_BATCH, async (batch, start, n) => {
        const audio = (await exclusive(() => decode.run({ codes: batch }))).audio as Float32Array;
        out.set(audio.subarray(0, n * exampleSize), start * exampleSize);
      });
      return out;
    },
  };
  return { encode, decode, testDigits: null, speech };
}

/** The page's inference programs for `model`; those made before a failure are released. */
async function createPrograms(model: VqvaeModel, store: VariableStore): Promise<Programs> {
  const { channels, height, width } = model.input;
  const grid = model.latent;
  const created: InferenceProgram[] = [];
  const make = async (options: InferenceProgramOptions): Promise<InferenceProgram> => {
    const program = await InferenceProgram.create(options);
    created.push(program);
    return program;
  };
  try {
    const encode = await make({
      store,
      graphName: 'encode',
      build: (ctx) => ({ codes: encodeToIndices(ctx, model, ctx.input('image', [1, channels, height, width])) }),
    });
    const decode = await make({
      store,
      graphName: 'decode',
      build: (ctx) => ({ image: clampToUnit(decodeFromIndices(ctx, model, ctx.input('codes', [1, grid.height, grid.width], 'int64'))) }),
    });
    const testDigits = await make({
      store,
      graphName: 'test_digits',
      build: (ctx) => {
        const codes = encodeToIndices(ctx, model, ctx.input('images', [TEST_DIGITS, channels, height, width]));
        return { codes, reconstructions: clampToUnit(decodeFromIndices(ctx, model, codes)) };
      },
    });
    return { encode, decode, testDigits, speech: null };
  } catch (err) {
    await exclusive(async () => {
      for (const program of created) await program.release();
    });
    throw err;
  }
}

async function releaseAll(l: Loaded): Promise<void> {
  await exclusive(async () => {
    await l.encode.release();
    await l.decode.release();
    await l.testDigits?.release();
  });
}

async function sendTestDigits(l: Loaded): Promise<void> {
  if (!l.testDigits) return;
  const program = l.testDigits;
  const test = requireDigits().test;
  const images = new Float32Array(TEST_DIGITS * PIXELS);
  testDigitIndices(test.count).forEach((at, i) => images.set(test.images.subarray(at * PIXELS, (at + 1) * PIXELS), i * PIXELS));
  const out = await exclusive(() => program.run({ images }));
  const digits: TestDigits = {
    count: TEST_DIGITS,
    images,
    codes: Int32Array.from(out.codes as BigInt64Array, Number),
    reconstructions: (out.reconstructions as Float32Array).slice(),
  };
  post({ kind: 'test-digits', digits });
}

async function train(settings: TrainSettings): Promise<void> {
  // Set before the model is built, so a stop or a checkpoint load that arrives meanwhile is seen.
  training = true;
  stopRequested = false;
  let steps = 0;
  let step: AutoencoderStep | undefined;
  let iterator: BatchIterator | undefined;
  try {
    const config = makeModelConfig({
      model: 'reference-mnist',
      input: { channels: 1, height: SIDE, width: SIDE },
      quantizer: resolveQuantizerConfig(settings.quantizer, { codebookSize: settings.codebookSize, dim: TRAIN_DEFAULTS.dim }),
    });
    const model = buildModel(config);
    const store = new VariableStore(settings.seed);
    const trainingStep = await exclusive(() => createAutoencoderStep({ model, store, optimizer: new Adam(), batch: settings.batch, threads: 0 }));
    step = trainingStep;
    const current = await useModel(config, model, store);
    const batches = new BatchIterator(requireDigits().train, settings.batch, settings.seed, { dropLast: true, prefetch: false });
    iterator = batches;
    let stats = new EpochStats(settings.codebookSize);
    let epoch = 0;
    let lastEpochUtilization: number | null = null;
    /** Time of the steps after the first. */
    let busyMs = 0;
    while (!stopRequested && loaded === current) {
      const t0 = performance.now();
      const batch = batches.next();
      if (batch.epoch !== epoch) {
        lastEpochUtilization = stats.usage.utilization();
        stats = new EpochStats(settings.codebookSize);
        epoch = batch.epoch;
      }
      const r = await exclusive(() => runAutoencoderStep(trainingStep, batch.data, settings.lr));
      const stepMs = performance.now() - t0;
      if (steps > 0) busyMs += stepMs;
      steps++;
      if (!Number.isFinite(r.loss)) throw new Error(`the loss became ${r.loss} at step ${steps}; lower the learning rate (now ${settings.lr})`);
      stats.add(lossesOf(r), r.metrics.counts);
      post({
        kind: 'progress',
        progress: {
          step: steps,
          epoch: epoch + 1,
          stepsPerEpoch: batches.batchesPerEpoch,
          loss: r.loss,
          reconstruction: r.terms.reconstruction,
          utilization: stats.usage.utilization(),
          lastEpochUtilization,
          perplexity: stats.usage.perplexity(),
          usage: stats.usage.counts.slice(),
          stepMs,
          imagesPerSecond: steps > 1 ? ((steps - 1) * settings.batch * 1000) / busyMs : 0,
          transferBytes: trainingStep.program.lastTransfer?.bytes ?? 0,
        },
      });
      if (steps % 10 === 1) await sendTestDigits(current);
      // Let the page's messages (stop, a drawing to encode) in between steps.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (loaded === current) await sendTestDigits(current);
  } finally {
    training = false;
    iterator?.close();
    const program = step?.program;
    if (program) await exclusive(() => program.release());
    // Always sent, so the page leaves its training state even when the run failed (the error follows).
    post({ kind: 'stopped', steps });
  }
}

async function loadCheckpoint(m: Extract<ToWorker, { kind: 'load' }>): Promise<void> {
  if (training) {
    stopRequested = true;
    while (training) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  let json: unknown;
  try {
    json = JSON.parse(m.configText);
  } catch {
    throw new Error(`${m.configName} is not valid JSON; choose the config.json that vqlab train wrote`);
  }
  const config = configFromJson(json, m.configName);
  const weights = modelFromWeights(config, new Uint8Array(m.weights), m.weightsName);
  const l = await useModel(weights.config, weights.model, weights.store);
  await sendTestDigits(l);
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.kind) {
    case 'init': {
      const adapter = m.backend === 'webgpu' ? await webGpuAdapterName() : null;
      if (m.backend === 'webgpu' && adapter === null) throw new Error('this browser offers no WebGPU adapter here; choose WebAssembly');
      const runtime = webRuntime({ backend: m.backend, threads: m.threads, wasmPaths: new URL(ORT_DIRECTORY, scope.location.href).href, ...(adapter === null ? {} : { adapter }) });
      useRuntime(runtime);
      data = await loadDigits();
      post({ kind: 'ready', runtime: runtime.description, trainCount: data.train.count, testCount: data.test.count });
      return;
    }
    case 'train':
      if (training) throw new Error('training is already running; stop it first');
      return train(m.settings);
    case 'stop':
      stopRequested = true;
      return;
    case 'load':
      return loadCheckpoint(m);
    case 'encode': {
      const l = requireImageModel();
      const codes = await exclusive(() => l.encode.run({ image: m.image }));
      const image = await exclusive(() => l.decode.run({ codes: codes.codes! }));
      const asNumbers = Int32Array.from(codes.codes as BigInt64Array, Number);
      post({ kind: 'encoded', id: m.id, codes: asNumbers, image: image.image as Float32Array });
      return;
    }
    case 'decode': {
      const l = requireImageModel();
      const size = l.model.quantizer.codebookSize;
      const bad = m.codes.find((c) => !(Number.isInteger(c) && c >= 0 && c < size));
      if (bad !== undefined) throw new Error(`code ${bad} is outside the codebook [0, ${size})`);
      const image = await exclusive(() => l.decode.run({ codes: BigInt64Array.from(m.codes, BigInt) }));
      post({ kind: 'decoded', id: m.id, image: image.image as Float32Array });
      return;
    }
    case 'code-speech': {
      const speech = requireModel().speech;
      if (!speech) throw new Error('the loaded model is an image model; load a speech checkpoint (vqlab train --model seanet) to code audio');
      const codes = await encodeSequence(speech, m.samples);
      const decoded = (await decodeSequence(speech, codes, m.samples.length)).slice();
      post({ kind: 'speech-coded', id: m.id, codes, decoded }, [codes.buffer, decoded.buffer]);
      return;
    }
  }
}

function requireDigits(): { train: ImageDataset; test: ImageDataset } {
  if (!data) throw new Error('the digits are not loaded yet; wait until the page says Ready');
  return data;
}

function requireModel(): Loaded {
  if (!loaded) throw new Error('no model yet: train one or load a checkpoint first');
  return loaded;
}

function requireImageModel(): Loaded {
  const l = requireModel();
  if (l.speech) throw new Error('the loaded model is a speech model; train a model or load an image checkpoint to code digits');
  return l;
}

/** What each request does, as its error names it: "Loading the checkpoint failed: …". */
const ACTIONS: { readonly [K in ToWorker['kind']]: string } = {
  init: 'Starting ONNX Runtime and loading the digits',
  train: 'Training',
  stop: 'Stopping the training',
  load: 'Loading the checkpoint',
  encode: 'Encoding the drawing',
  decode: 'Decoding the edited codes',
  'code-speech': 'Coding the audio',
};

/** An error as one line: onnxruntime-web's messages can carry a native stack after the first line. */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'an error without a message';
}

scope.onmessage = (event) => {
  const request = event.data;
  handle(request).catch((err: unknown) => post({ kind: 'error', action: request.kind, message: `${ACTIONS[request.kind]} failed: ${firstLine(err)}` }));
};
