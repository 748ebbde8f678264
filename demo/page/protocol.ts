/** The messages between the demo page and its training worker (structured-cloned, typed arrays transferred). */
import type { QuantizerName } from '../../dist/src/browser.js';

export type Backend = 'wasm' | 'webgpu';

export interface TrainSettings {
  readonly quantizer: QuantizerName;
  readonly codebookSize: number;
  readonly batch: number;
  readonly lr: number;
  readonly seed: number;
}

export type ToWorker =
  | { readonly kind: 'init'; readonly backend: Backend; readonly threads: number }
  | { readonly kind: 'train'; readonly settings: TrainSettings }
  | { readonly kind: 'stop' }
  | { readonly kind: 'load'; readonly configName: string; readonly configText: string; readonly weightsName: string; readonly weights: ArrayBuffer }
  | { readonly kind: 'encode'; readonly id: number; readonly image: Float32Array }
  | { readonly kind: 'decode'; readonly id: number; readonly codes: Int32Array }
  /** Mono samples at the speech model's rate, of any length: encoded in windows and decoded back. */
  | { readonly kind: 'code-speech'; readonly id: number; readonly samples: Float32Array };

export interface Progress {
  readonly step: number;
  readonly epoch: number;
  readonly stepsPerEpoch: number;
  readonly loss: number;
  readonly reconstruction: number;
  /** Share of codes used so far in the running epoch (exact per-code counts, as `vqlab train` reports per epoch). */
  readonly utilization: number;
  /** The last completed epoch's utilization, or null before the first epoch ends. */
  readonly lastEpochUtilization: number | null;
  readonly perplexity: number;
  /** Per-code counts of the running epoch. */
  readonly usage: Float64Array;
  /** Milliseconds of this step: batch preparation and the training session run. */
  readonly stepMs: number;
  /** Training images per second of the steps so far but the first (whose time includes onnxruntime-web's set-up). */
  readonly imagesPerSecond: number;
  /**
   * Bytes this step moved between the page's memory and the device it trains on: on WebGPU, after
   * the first step, the batch in and what the step reports out (the state stays in GPU buffers).
   */
  readonly transferBytes: number;
}

/** A speech model (modality 'audio'): mono at `sampleRate`, coded in windows of `windowSamples`. */
export interface SpeechModel {
  readonly sampleRate: number;
  readonly windowSamples: number;
  readonly codesPerWindow: number;
  readonly tokensPerSecond: number;
}

/** The first test digits, their code grids and their reconstructions by the current model. */
export interface TestDigits {
  readonly count: number;
  readonly images: Float32Array;
  readonly codes: Int32Array;
  readonly reconstructions: Float32Array;
}

export type FromWorker =
  | { readonly kind: 'ready'; readonly runtime: string; readonly trainCount: number; readonly testCount: number }
  | { readonly kind: 'model'; readonly description: string; readonly codebookSize: number; readonly grid: readonly [number, number]; readonly speech: SpeechModel | null }
  | { readonly kind: 'progress'; readonly progress: Progress }
  | { readonly kind: 'test-digits'; readonly digits: TestDigits }
  | { readonly kind: 'stopped'; readonly steps: number }
  | { readonly kind: 'encoded'; readonly id: number; readonly codes: Int32Array; readonly image: Float32Array }
  | { readonly kind: 'decoded'; readonly id: number; readonly image: Float32Array }
  /** The codes of a clip, window after window, and the samples they decode to (the clip's length). */
  | { readonly kind: 'speech-coded'; readonly id: number; readonly codes: Int32Array; readonly decoded: Float32Array }
  /** A request failed; `message` is one line that names the action and the reason. */
  | { readonly kind: 'error'; readonly action: ToWorker['kind']; readonly message: string };

/** How many test digits the page shows (and the browser test compares with the Node tokenizer). */
export const TEST_DIGITS = 8;

/**
 * Which test images the page shows: spread evenly over the test set, which keeps the bundled
 * digits' order (all 0s first, then 1s, …), so the strip holds different digits.
 */
export function testDigitIndices(testCount: number): number[] {
  return Array.from({ length: TEST_DIGITS }, (_, i) => Math.floor(((i + 0.5) * testCount) / TEST_DIGITS));
}
/** Where the build puts the MNIST bytes and onnxruntime-web's files, relative to the page. */
export const MNIST_FILE = 'mnist-digits.bin';
export const ORT_DIRECTORY = 'ort/';
/** The package's pretrained models: models/<name>/ with the files a load reads, and this index of them. */
export const PRETRAINED_DIRECTORY = 'models/';
export const PRETRAINED_INDEX = 'models/index.json';
/** The files of a pretrained model the page fetches: a checkpoint upload of three files, verified alike. */
export const PRETRAINED_FILES = ['config.json', 'model.safetensors', 'checksums.json'] as const;

/** One entry of the pretrained index (from the model's card). */
export interface PretrainedEntry {
  readonly name: string;
  readonly summary: string;
  readonly codebookSize: number;
}
