/**
 * vqlab's browser entry point (`vqlab/browser`, and `vqlab` under a bundler's `browser` condition):
 * everything that needs no file system or native addon — graphs, autodiff, ONNX lowering, the
 * programs, layers, optimizers, quantizers, models, in-memory datasets and batches, the training
 * step and checkpoint weights from bytes, audio decoding (WAV, Ogg Vorbis), resampling and WAV
 * writing, and the windowed coding of sequences — plus onnxruntime-web as the runtime.
 */
export { Graph, type GraphInput, type InputKind } from './graph/graph.js';
export { Tensor, GraphError, type DType, type Shape } from './graph/tensor.js';
export * as ops from './graph/ops.js';
export * as composites from './graph/composites.js';
export { grad } from './graph/autodiff.js';
export { toModelProto, encodeModel, OPSET } from './onnx/lower.js';

export { currentRuntime, useRuntime, type Runtime, type RuntimeSessionOptions } from './runtime/runtime.js';
export { webRuntime, webGpuAdapterName, webGpuAvailable, type WebBackend, type WebRuntimeOptions } from './runtime/web-runtime.js';
export { CompiledGraph, type SessionOptions, type TypedData } from './runtime/session.js';
export { VariableStore, type Variable, type VariableInit, type VariableKind, type VariableOptions } from './runtime/variables.js';
export { VariableView } from './runtime/variable-view.js';
export { BuildContext, type BuildMode } from './runtime/build-context.js';
export { TrainingProgram, type NamedTensors, type StepOutputs, type StepResult, type TrainingProgramOptions } from './runtime/training-program.js';
export { InferenceProgram, type InferenceProgramOptions } from './runtime/inference-program.js';

export { Rng } from './init/rng.js';
export * as init from './init/initializers.js';
export { ImageError } from './images/image-error.js';
export { readImageHeader, checkImagePixels, TruncatedImageHeaderError, type ImageHeader } from './images/image-header.js';
export { DEFAULT_LIMITS, LIMIT_SPECS, limitExceeded, type InputLimits } from './limits/input-limits.js';
export { Adam, adamW, type AdamOptions } from './optim/adam.js';
export { Sgd, type SgdOptions } from './optim/sgd.js';
export { clipByGlobalNorm } from './runtime/gradient-clip.js';
export { forEachFixedBatch } from './runtime/fixed-batches.js';
export type { Optimizer, UpdateContext } from './runtime/optimizer.js';

export { conv2dLayer, type Conv2dOptions } from './layers/conv2d.js';
export { convTranspose2dLayer, type ConvTranspose2dOptions } from './layers/conv-transpose2d.js';
export { linearLayer, type LinearOptions } from './layers/linear.js';

export * from './quantizers/index.js';

export { makeModelConfig, buildModel, parseModelConfig, modalityNameOf, audioInputOf, type AudioInput, type ModelConfig } from './models/config.js';
export { autoencode, encodeToIndices, decodeFromIndices, clampToUnit, clampToSigned } from './models/forward.js';
export type { ImageShape, LatentShape, VqvaeModel } from './models/model.js';
export { DataError } from './data/errors.js';
export { type ImageDataset, makeDataset, imageAt, subset, splitTrainTest, unitFromBytes } from './data/dataset.js';
export { BatchIterator, type TrainingBatch } from './data/batches.js';
export { TRAIN_DEFAULTS } from './train/defaults.js';
export { EpochStats } from './train/epoch-stats.js';
export { createAutoencoderStep, runAutoencoderStep, lossesOf, type AutoencoderLossTerms, type AutoencoderStep, type AutoencoderStepMetrics, type AutoencoderStepResult } from './train/autoencoder-step.js';
export { encodeSafetensors, decodeSafetensors } from './persistence/safetensors.js';
export { CheckpointError, configFromJson, modelFromWeights, type ModelWeights } from './persistence/checkpoint-weights.js';
export { verifyCheckpointFiles, CHECKSUMS_FILE, type CheckpointVerification } from './persistence/checksums.js';
export { decodeAudio } from './audio/decode-audio.js';
export { AudioError } from './audio/audio-error.js';
export type { AudioClip } from './audio/audio-clip.js';
export { resample } from './audio/resample.js';
export { encodeWav16 } from './audio/wav-encode.js';
export { encodeSequence, decodeSequence, examplesCovering, SEQUENCE_BATCH, type ExampleCoder } from './tokenize/sequence-coding.js';
