/**
 * vqlab's public API, grouped by folder from the bottom floor up (src/floors.json holds the order):
 *   graph, init, images   symbolic tensors and primitive ops; seeded initializers; image files
 *   onnx, runtime         lowering to standard ONNX; sessions, variables, training and inference programs
 *   layers, optim, quantizers, models
 *   persistence, data, modality, eval, tokenize, train
 */
export { Graph, type GraphInput, type InputKind } from './graph/graph.js';
export { Tensor, GraphError, type DType, type Shape } from './graph/tensor.js';
export * as ops from './graph/ops.js';
export * as composites from './graph/composites.js';
export { grad } from './graph/autodiff.js';
export { toModelProto, encodeModel, OPSET, EXPORT_OPSETS, type ExportOpset } from './onnx/lower.js';

export { CompiledGraph, type SessionOptions, type TypedData } from './runtime/session.js';
export { VariableStore, type Variable, type VariableInit, type VariableKind, type VariableOptions } from './runtime/variables.js';
export { VariableView } from './runtime/variable-view.js';
export { BuildContext, type BuildMode } from './runtime/build-context.js';
export { TrainingProgram, type NamedTensors, type StepOutputs, type StepResult, type TrainingProgramOptions } from './runtime/training-program.js';
export { InferenceProgram, type InferenceProgramOptions } from './runtime/inference-program.js';
export { currentRuntime, deviceLabel, useRuntime, type Runtime, type RuntimeDevice, type RuntimeSessionOptions } from './runtime/runtime.js';
export { nodeRuntime, openNodeRuntime, type NodeRuntimeOptions } from './runtime/node-runtime.js';
export { DeviceUnavailableError } from './runtime/webgpu-adapter.js';
export type { DeviceChoice } from './runtime/device-choice.js';

export { Rng } from './init/rng.js';
export * as init from './init/initializers.js';
export { Adam, adamW, type AdamOptions } from './optim/adam.js';
export { Sgd, type SgdOptions } from './optim/sgd.js';
export { clipByGlobalNorm } from './runtime/gradient-clip.js';
export type { Optimizer, UpdateContext } from './runtime/optimizer.js';

export { conv2dLayer, type Conv2dOptions } from './layers/conv2d.js';
export { convTranspose2dLayer, type ConvTranspose2dOptions } from './layers/conv-transpose2d.js';
export { linearLayer, type LinearOptions } from './layers/linear.js';

export * from './quantizers/index.js';

export { makeModelConfig, buildModel, parseModelConfig, type ModelConfig } from './models/config.js';
export { autoencode, encodeToIndices, decodeFromIndices } from './models/forward.js';
export * from './data/index.js';
export { decodeImage, readImageFile, type RgbaImage } from './images/decode.js';
export { ImageError } from './images/image-error.js';
export { DEFAULT_LIMITS, LIMIT_SPECS, limitExceeded, type InputLimits } from './limits/input-limits.js';
export { readImageHeader, checkImagePixels, sniffImageFormat, type ImageHeader } from './images/image-header.js';
export { planarFromRgba, convertPlanarChannels, type PlanarImage } from './images/channels.js';
export { encodePng } from './images/encode-png.js';
export { resizeImage } from './images/resize.js';
export { trainModel } from './train/train.js';
export { resumeOptions } from './train/resume.js';
export { TrainingStoppedError } from './train/epoch-loop.js';
export type { TrainConfig, TrainHooks, TrainOptions } from './train/train-options.js';
export type { TrainSummary } from './train/summary.js';
export type { LrSchedule } from './train/lr-schedule.js';
export { readMetricsLog, type EpochRecord } from './train/metrics-log.js';
export { encodeSafetensors, decodeSafetensors } from './persistence/safetensors.js';
export { OutputPathError } from './persistence/output-path.js';
export { resolveCheckpoint, bestCheckpoint, RunDirectoryError } from './persistence/run-directory.js';
export { verifyCheckpointFiles, CHECKSUMS_FILE, type CheckpointVerification } from './persistence/checksums.js';
export { CheckpointError } from './persistence/checkpoint-weights.js';
export { evaluateCheckpoint, type EvalResult } from './eval/evaluate-checkpoint.js';
export { Evaluator } from './eval/evaluator.js';
export { psnrFromMse } from './modality/image/image-metrics.js';
export { meanSsim } from './modality/image/ssim.js';
export { modalityNamed, modalityOf } from './modality/registry.js';
export type { Modality, ExampleSet, ReconstructionMetrics } from './modality/modality.js';
export { Tokenizer } from './tokenize/tokenizer.js';
export { exportOnnx } from './tokenize/export.js';
export { pretrainedModels, type ModelCard, type CardMetrics, type ImageCardMetrics, type SpeechCardMetrics, type PretrainedModel } from './tokenize/pretrained.js';
