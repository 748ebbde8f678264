/**
 * The demo page: controls, live charts, the test digits and the drawing pad, and for a speech
 * checkpoint a recorded or opened clip, its codes and its reconstruction. Everything that runs
 * ONNX Runtime lives in the worker (worker.ts); this file only sends it requests and draws replies.
 *
 * `window.vqlabDemo` mirrors what the page shows (losses, code grids) as plain data, for the
 * browser test and for anyone poking at the page from the console.
 */
import { DEFAULT_LIMITS, encodeWav16 } from '../../dist/src/browser.js';
import { drawGray, drawLossCurve, drawUsageHistogram } from './charts.js';
import { readCheckpointUpload } from './checkpoint-upload.js';
import { enableControlsFor, type PagePhase } from './controls.js';
import { DrawingPad } from './drawing-pad.js';
import { decodeImageFile } from './image-file.js';
import { PRETRAINED_DIRECTORY, PRETRAINED_FILES, PRETRAINED_INDEX, type Backend, type FromWorker, type PretrainedEntry, type Progress, type SpeechModel, type TestDigits, type ToWorker, type TrainSettings } from './protocol.js';
import { MicrophoneRecorder, readSpeechFile, type SpeechClip } from './speech-input.js';

/** A clip the page coded with a speech model. */
interface CodedSpeech {
  /** The file's name, or 'recording'. */
  readonly source: string;
  readonly sampleRate: number;
  /** The clip's samples at the model's rate (what was encoded). */
  readonly samples: Float32Array;
  /** Its codes, window after window (as `vqlab encode` writes a sequence's indices). */
  readonly codes: number[];
  /** The samples the codes decode to, as many as the clip's (as `vqlab decode` writes them, before 16-bit rounding). */
  readonly decoded: Float32Array;
  readonly tokensPerSecond: number;
  /** tokens/s × log2 K. */
  readonly bitsPerSecond: number;
}

interface DemoState {
  runtime: string;
  /** The model the page shows, e.g. "reference-mnist + simvq (K=1024, d=64)". */
  model: string;
  ready: boolean;
  /** Which controls are usable (controls.ts). */
  phase: PagePhase;
  training: boolean;
  losses: number[];
  /** Milliseconds of each training step, in order. */
  stepMs: number[];
  /** Bytes each training step moved between page memory and its device, in order. */
  transferBytes: number[];
  progress: Progress | null;
  testDigits: TestDigits | null;
  drawnCodes: number[] | null;
  drawnImage: Float32Array | null;
  /** The loaded speech model (null for an image model or none). */
  speechModel: SpeechModel | null;
  speech: CodedSpeech | null;
  recording: boolean;
  /** Every failure the page has shown, one line each. */
  errors: string[];
  /** Warnings that did not stop an action, e.g. a checkpoint loaded without checksums. */
  notices: string[];
}

const state: DemoState = {
  runtime: '', model: '', ready: false, phase: 'starting', training: false, losses: [], stepMs: [], transferBytes: [], progress: null, testDigits: null, drawnCodes: null, drawnImage: null, speechModel: null, speech: null, recording: false, errors: [], notices: [],
};
(globalThis as unknown as { vqlabDemo: DemoState }).vqlabDemo = state;

const SIDE = 28;
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let worker: Worker;
let grid: readonly [number, number] = [7, 7];
let codebookSize = 0;
let requestId = 0;
let selected: number | null = null;
let originalCodes: Int32Array | null = null;
/** The worker failed to start; only the backend menu stays usable, to start it again. */
let initFailed = false;
/** A request whose model has not arrived yet: controls stay disabled until it comes or fails. */
let pending: { readonly kind: 'train' } | { readonly kind: 'load'; readonly files: string; readonly notice?: string | undefined } | null = null;

function send(message: ToWorker, transfer: Transferable[] = []): void {
  worker.postMessage(message, transfer);
}

function setStatus(text: string, kind: 'starting' | 'ready' | 'training' | 'error'): void {
  const el = $('status');
  el.textContent = text;
  el.dataset.state = kind;
}

function startWorker(backend: Backend): void {
  worker?.terminate();
  state.ready = false;
  state.training = false;
  initFailed = false;
  pending = null;
  forgetModel();
  refreshControls();
  setStatus(`Starting ONNX Runtime (${backend}) and loading the digits…`, 'starting');
  worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<FromWorker>) => receive(event.data);
  // Only what escapes the worker's own handlers lands here, e.g. its script failing to load.
  worker.onerror = (event) => {
    event.preventDefault();
    if (!state.ready) initFailed = true;
    fail(`The worker stopped with an error: ${event.message || 'its script could not be loaded'}; reload the page`);
  };
  worker.onmessageerror = () => fail('A message from the worker could not be read; reload the page');
  send({ kind: 'init', backend, threads: navigator.hardwareConcurrency || 1 });
}

/** The page shows no model until the (new) worker sends one. */
function forgetModel(): void {
  codebookSize = 0;
  originalCodes = null;
  selected = null;
  state.model = '';
  state.testDigits = null;
  state.drawnCodes = null;
  state.drawnImage = null;
  $('model').textContent = 'no model yet';
  $('editor').hidden = true;
  $('grid').replaceChildren();
  $('test-digits').replaceChildren();
  forgetSpeech();
}

function forgetSpeech(): void {
  state.speechModel = null;
  state.speech = null;
  $('speech-rate').textContent = '—';
  $('speech-codes').textContent = '';
  ($('play') as HTMLButtonElement).disabled = true;
  const download = $('download') as HTMLAnchorElement;
  if (download.href) URL.revokeObjectURL(download.href);
  download.removeAttribute('href');
  download.hidden = true;
}

function phase(): PagePhase {
  if (!state.ready) return initFailed ? 'failed' : 'starting';
  if (pending) return 'building';
  return state.training ? 'training' : 'ready';
}

function refreshControls(): void {
  state.phase = phase();
  enableControlsFor(state.phase, pad, state.speechModel !== null);
  // One clip at a time: while the microphone records, only its stop button is usable.
  ($('stop-recording') as HTMLButtonElement).disabled = !state.recording;
  if (state.recording) for (const id of ['record', 'audio-file']) ($(id) as HTMLButtonElement | HTMLInputElement).disabled = true;
}

function fail(message: string): void {
  state.errors.push(message);
  setStatus(message, 'error');
  refreshControls();
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function receive(m: FromWorker): void {
  switch (m.kind) {
    case 'ready':
      state.runtime = m.runtime;
      state.ready = true;
      $('runtime').textContent = m.runtime;
      refreshControls();
      setStatus(`Ready: ${m.trainCount} training and ${m.testCount} test digits of MNIST loaded. Train a model or load a checkpoint.`, 'ready');
      return;
    case 'model':
      showModel(m);
      return;
    case 'progress':
      showProgress(m.progress);
      return;
    case 'test-digits':
      showTestDigits(m.digits);
      return;
    case 'stopped':
      state.training = false;
      if (pending?.kind === 'train') pending = null;
      refreshControls();
      // A checkpoint load stops the training first; its own status stays.
      if (!pending) setStatus(`Stopped after ${m.steps} steps. Draw a digit below to see its codes.`, 'ready');
      return;
    case 'encoded':
      if (m.id !== requestId) return;
      originalCodes = m.codes.slice();
      showCodes(m.codes);
      showDecoded(m.image);
      return;
    case 'decoded':
      if (m.id === requestId) showDecoded(m.image);
      return;
    case 'speech-coded':
      if (m.id === requestId && speechRequest) showSpeech(speechRequest, m.codes, m.decoded);
      return;
    case 'error':
      if (m.action === 'init') initFailed = true;
      if (pending?.kind === m.action) pending = null;
      fail(m.message);
      return;
  }
}

function showModel(m: Extract<FromWorker, { kind: 'model' }>): void {
  grid = m.grid;
  codebookSize = m.codebookSize;
  state.model = m.description;
  state.testDigits = null;
  state.drawnCodes = null;
  forgetSpeech();
  state.speechModel = m.speech;
  if (m.speech) {
    $('test-digits').replaceChildren();
    $('grid').replaceChildren();
    $('speech-rate').textContent = `${m.speech.sampleRate} Hz in windows of ${m.speech.windowSamples} samples, ${m.speech.codesPerWindow} codes each: ${formatRate(m.speech.tokensPerSecond, m.codebookSize)}`;
  }
  $('model').textContent = m.description;
  ($('code') as HTMLInputElement).max = String(codebookSize - 1);
  state.losses = [];
  state.stepMs = [];
  state.transferBytes = [];
  state.progress = null;
  const loaded = pending?.kind === 'load' ? pending : null;
  pending = null;
  refreshControls();
  if (loaded) {
    if (loaded.notice) state.notices.push(loaded.notice);
    const notice = loaded.notice ? ` Note: ${loaded.notice}.` : '';
    setStatus(`Loaded the checkpoint (${loaded.files}): ${m.description}.${notice} ${m.speech ? 'Record or open a clip below.' : 'Draw a digit below.'}`, 'ready');
  }
  if (!m.speech) redrawDrawing();
}

/** tokens/s and the bitrate of one codebook of K codes, log2 K bits a token. */
function formatRate(tokensPerSecond: number, size: number): string {
  return `${Number(tokensPerSecond.toFixed(2))} tokens/s × log₂ ${size} = ${Math.round(tokensPerSecond * Math.log2(size))} bit/s`;
}

/** The clip the worker is coding, until its codes come back. */
let speechRequest: { readonly source: string; readonly clip: SpeechClip } | null = null;

function codeSpeech(source: string, clip: SpeechClip): void {
  const model = state.speechModel;
  if (!model) throw new Error('load a speech checkpoint first');
  speechRequest = { source, clip };
  const seconds = clip.samples.length / model.sampleRate;
  setStatus(`Coding ${source} (${seconds.toFixed(2)} s${clip.sourceRate !== model.sampleRate ? `, resampled from ${clip.sourceRate} Hz` : ''})…`, 'starting');
  // A copy goes to the worker: the page keeps the clip it shows.
  const samples = clip.samples.slice();
  send({ kind: 'code-speech', id: ++requestId, samples }, [samples.buffer]);
}

function showSpeech(request: { readonly source: string; readonly clip: SpeechClip }, codes: Int32Array, decoded: Float32Array): void {
  const model = state.speechModel!;
  speechRequest = null;
  state.speech = {
    source: request.source,
    sampleRate: model.sampleRate,
    samples: request.clip.samples,
    codes: Array.from(codes),
    decoded,
    tokensPerSecond: model.tokensPerSecond,
    bitsPerSecond: model.tokensPerSecond * Math.log2(codebookSize),
  };
  const windows = codes.length / model.codesPerWindow;
  const lines = Array.from({ length: windows }, (_, w) => `${String(w + 1).padStart(4)}: ${Array.from(codes.subarray(w * model.codesPerWindow, (w + 1) * model.codesPerWindow)).join(' ')}`);
  $('speech-codes').textContent = lines.join('\n');
  const seconds = decoded.length / model.sampleRate;
  $('speech-rate').textContent = `${request.source}: ${seconds.toFixed(2)} s → ${codes.length} codes in ${windows} window${windows === 1 ? '' : 's'} · ${formatRate(model.tokensPerSecond, codebookSize)}`;
  ($('play') as HTMLButtonElement).disabled = false;
  const download = $('download') as HTMLAnchorElement;
  if (download.href) URL.revokeObjectURL(download.href);
  // Copied into a buffer of its own: a Blob takes no view that may be backed by shared memory.
  download.href = URL.createObjectURL(new Blob([encodeWav16(decoded, model.sampleRate).slice()], { type: 'audio/wav' }));
  // Named as `vqlab decode` names its output.
  download.download = `${request.source.replace(/\.[^.]*$/, '')}.decoded.wav`;
  download.hidden = false;
  setStatus(`Coded ${request.source}: ${codes.length} codes; play or download the reconstruction.`, 'ready');
}

let recorder: MicrophoneRecorder | null = null;

async function startRecording(): Promise<void> {
  state.recording = true;
  refreshControls();
  let started: MicrophoneRecorder;
  try {
    started = await MicrophoneRecorder.start(DEFAULT_LIMITS, () => {
      state.notices.push(`the recording reached ${DEFAULT_LIMITS.maxAudioSamples} samples, the cap on one clip, and stopped`);
      stopRecordingReporting();
    });
  } catch (err) {
    state.recording = false;
    refreshControls();
    throw err;
  }
  recorder = started;
  setStatus('Recording… press Stop recording to code it.', 'training');
  // Stop recording was pressed while the browser was still opening the microphone.
  if (!state.recording) await stopRecording(started);
}

async function stopRecording(active = recorder): Promise<void> {
  recorder = null;
  state.recording = false;
  refreshControls();
  if (!active) return;
  const model = state.speechModel;
  if (!model) throw new Error('the speech model was replaced while recording; load a speech checkpoint and record again');
  codeSpeech('recording.wav', await active.stop(model.sampleRate));
}

function stopRecordingReporting(): void {
  stopRecording().catch((err: unknown) => fail(`Recording failed: ${reason(err)}`));
}

async function openSpeechFile(file: File): Promise<void> {
  const model = state.speechModel;
  if (!model) throw new Error('load a speech checkpoint first');
  setStatus(`Decoding ${file.name}…`, 'starting');
  codeSpeech(file.name, await readSpeechFile(file, model.sampleRate, DEFAULT_LIMITS));
}

let playing: AudioContext | null = null;

/** Plays the decoded samples at the model's rate (the context resamples them to the output device's). */
async function playReconstruction(): Promise<void> {
  const coded = state.speech;
  if (!coded) return;
  await playing?.close();
  const context = new AudioContext();
  playing = context;
  const buffer = context.createBuffer(1, coded.decoded.length, coded.sampleRate);
  buffer.copyToChannel(Float32Array.from(coded.decoded), 0);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  source.start();
}

function showProgress(p: Progress): void {
  state.progress = p;
  state.losses.push(p.loss);
  state.stepMs.push(p.stepMs);
  state.transferBytes.push(p.transferBytes);
  drawLossCurve($('loss'), state.losses);
  drawUsageHistogram($('usage'), p.usage);
  const progress = $('progress');
  progress.dataset.step = String(p.step);
  progress.textContent = `epoch ${p.epoch}, step ${p.step} (${p.stepsPerEpoch} per epoch) · loss ${p.loss.toFixed(4)} · reconstruction ${p.reconstruction.toFixed(4)}`;
  const util = $('utilization');
  util.dataset.utilization = String(p.utilization);
  const last = p.lastEpochUtilization === null ? '' : ` · last epoch ${(100 * p.lastEpochUtilization).toFixed(1)}%`;
  util.textContent = `codebook utilization this epoch ${(100 * p.utilization).toFixed(1)}%${last} · perplexity ${p.perplexity.toFixed(1)}`;
  const speed = $('speed');
  speed.dataset.imagesPerSecond = String(p.imagesPerSecond);
  speed.textContent = `${Math.round(p.imagesPerSecond)} img/s`;
}

function showTestDigits(d: TestDigits): void {
  state.testDigits = d;
  const box = $('test-digits');
  box.replaceChildren();
  const codes = grid[0] * grid[1];
  for (const row of [d.images, d.reconstructions]) {
    for (let i = 0; i < d.count; i++) {
      const c = document.createElement('canvas');
      c.className = 'digit';
      drawGray(c, row.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE), SIDE, SIDE);
      if (row === d.reconstructions) c.title = `codes: ${Array.from(d.codes.subarray(i * codes, (i + 1) * codes)).join(' ')}`;
      box.append(c);
    }
  }
}

function showCodes(codes: Int32Array): void {
  state.drawnCodes = Array.from(codes);
  const table = $('grid');
  table.replaceChildren();
  for (let r = 0; r < grid[0]; r++) {
    const tr = document.createElement('tr');
    for (let c = 0; c < grid[1]; c++) {
      const at = r * grid[1] + c;
      const td = document.createElement('td');
      td.textContent = String(codes[at]);
      td.dataset.index = String(at);
      if (originalCodes && originalCodes[at] !== codes[at]) td.classList.add('changed');
      if (selected === at) td.classList.add('selected');
      td.onclick = () => select(at);
      tr.append(td);
    }
    table.append(tr);
  }
}

function showDecoded(image: Float32Array): void {
  state.drawnImage = image;
  drawGray($('decoded'), image, SIDE, SIDE);
}

function select(at: number): void {
  selected = at;
  $('editor').hidden = false;
  $('cell').textContent = `row ${Math.floor(at / grid[1]) + 1}, column ${(at % grid[1]) + 1}`;
  ($('code') as HTMLInputElement).value = String(state.drawnCodes![at]);
  showCodes(Int32Array.from(state.drawnCodes!));
  $('code').focus();
}

function applyCode(): void {
  if (selected === null || !state.drawnCodes) return;
  const value = Number(($('code') as HTMLInputElement).value);
  if (!(Number.isInteger(value) && value >= 0 && value < codebookSize)) {
    fail(`a code must be an integer from 0 to ${codebookSize - 1}, got ${($('code') as HTMLInputElement).value}`);
    return;
  }
  const codes = Int32Array.from(state.drawnCodes);
  codes[selected] = value;
  showCodes(codes);
  send({ kind: 'decode', id: ++requestId, codes });
}

const pad = new DrawingPad($('pad'), () => redrawDrawing());

function redrawDrawing(): void {
  if (codebookSize === 0) return;
  const digit = pad.toDigit();
  if (!digit) return;
  selected = null;
  $('editor').hidden = true;
  send({ kind: 'encode', id: ++requestId, image: digit }, [digit.buffer]);
}

function settings(): TrainSettings {
  return {
    quantizer: ($('quantizer') as HTMLSelectElement).value as TrainSettings['quantizer'],
    codebookSize: Number(($('codebook-size') as HTMLSelectElement).value),
    batch: Number(($('batch') as HTMLInputElement).value),
    lr: Number(($('lr') as HTMLInputElement).value),
    seed: 0,
  };
}

/** Sized and verified here, before the worker parses anything (checkpoint-upload.ts). */
async function loadCheckpoint(files: readonly File[]): Promise<void> {
  setStatus(`Reading and verifying ${files.map((f) => f.name).join(', ')}…`, 'starting');
  const upload = await readCheckpointUpload(files, DEFAULT_LIMITS);
  pending = { kind: 'load', files: `${upload.configName}, ${upload.weightsName}`, notice: upload.notice };
  refreshControls();
  setStatus(`Loading ${upload.weightsName}…`, 'starting');
  send({ kind: 'load', configName: upload.configName, configText: upload.configText, weightsName: upload.weightsName, weights: upload.weights }, [upload.weights]);
}

/** The pretrained models the site carries (demo/build.ts), offered in the menu. */
async function listPretrained(): Promise<void> {
  const response = await fetch(PRETRAINED_INDEX);
  if (!response.ok) throw new Error(`${PRETRAINED_INDEX}: HTTP ${response.status}`);
  const menu = $('pretrained') as HTMLSelectElement;
  for (const entry of (await response.json()) as PretrainedEntry[]) {
    const option = document.createElement('option');
    option.value = entry.name;
    option.textContent = `${entry.name} (K=${entry.codebookSize})`;
    option.title = entry.summary;
    menu.append(option);
  }
}

/** A pretrained model's files, fetched and then loaded as a checkpoint upload, so they are verified alike. */
async function loadPretrained(name: string): Promise<void> {
  setStatus(`Fetching ${name}…`, 'starting');
  const files = await Promise.all(PRETRAINED_FILES.map(async (file) => {
    const response = await fetch(`${PRETRAINED_DIRECTORY}${name}/${file}`);
    if (!response.ok) throw new Error(`${name}/${file}: HTTP ${response.status}`);
    return new File([await response.blob()], file);
  }));
  await loadCheckpoint(files);
}

/** An opened or dropped image replaces the drawing and is encoded like one. */
async function openImage(file: File): Promise<void> {
  const image = await decodeImageFile(file, DEFAULT_LIMITS);
  const { width, height } = image;
  try {
    pad.showImage(image);
  } finally {
    image.close();
  }
  setStatus(`Opened ${file.name} (${width}×${height}, shown as 28×28 gray).${codebookSize === 0 ? ' Train a model or load a checkpoint to encode it.' : ''}`, 'ready');
  redrawDrawing();
}

function openImageReporting(file: File): void {
  openImage(file).catch((err: unknown) => fail(`Opening the image failed: ${reason(err)}`));
}

$('train').onclick = () => {
  const s = settings();
  if (!(Number.isInteger(s.batch) && s.batch >= 1) || !(s.lr > 0)) {
    fail('batch must be a positive integer and the learning rate a positive number');
    return;
  }
  state.training = true;
  pending = { kind: 'train' };
  refreshControls();
  setStatus(`Training ${s.quantizer} with K=${s.codebookSize}, batch ${s.batch}, lr ${s.lr}…`, 'training');
  send({ kind: 'train', settings: s });
};
$('stop').onclick = () => send({ kind: 'stop' });
$('record').onclick = () => startRecording().catch((err: unknown) => fail(`Recording failed: ${reason(err)}`));
$('stop-recording').onclick = stopRecordingReporting;
$('play').onclick = () => playReconstruction().catch((err: unknown) => fail(`Playing the reconstruction failed: ${reason(err)}`));
$('audio-file').onchange = () => {
  const input = $('audio-file') as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (file) openSpeechFile(file).catch((err: unknown) => fail(`Opening the audio failed: ${reason(err)}`));
};
$('clear').onclick = () => pad.clear();
$('apply').onclick = applyCode;
$('code').onkeydown = (e) => {
  if (e.key === 'Enter') applyCode();
};
$('checkpoint').onchange = () => {
  const input = $('checkpoint') as HTMLInputElement;
  const files = Array.from(input.files ?? []);
  // Cleared, so that picking the same files again (after fixing them) fires another change.
  input.value = '';
  if (files.length > 0) loadCheckpoint(files).catch((err: unknown) => fail(`Loading the checkpoint failed: ${reason(err)}`));
};
$('pretrained').onchange = () => {
  const menu = $('pretrained') as HTMLSelectElement;
  const name = menu.value;
  // Back to the prompt, so that choosing the same model again loads it again.
  menu.value = '';
  if (name !== '') loadPretrained(name).catch((err: unknown) => fail(`Loading ${name} failed: ${reason(err)}`));
};
$('image').onchange = () => {
  const input = $('image') as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (file) openImageReporting(file);
};
// A file dropped anywhere else would make the browser open it itself, decoding it at whatever size it declares.
window.addEventListener('dragover', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = e.target === $('pad') && pad.enabled ? 'copy' : 'none';
});
window.addEventListener('drop', (e) => {
  const file = e.dataTransfer?.files[0];
  if (!file) return;
  e.preventDefault();
  if (e.target !== $('pad')) fail(`${file.name} was not opened: drop an image on the drawing pad`);
  else if (!pad.enabled) fail(`${file.name} was not opened: wait until the page is ready, then drop it again`);
  else openImageReporting(file);
});

async function chooseBackend(): Promise<Backend> {
  const picker = $('backend') as HTMLSelectElement;
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const available = gpu ? (await gpu.requestAdapter().catch(() => null)) !== null : false;
  const webgpuOption = picker.querySelector('option[value=webgpu]') as HTMLOptionElement;
  webgpuOption.disabled = !available;
  if (!available) webgpuOption.textContent = 'WebGPU (not available here)';
  const asked = new URLSearchParams(location.search).get('backend');
  const backend: Backend = asked === 'webgpu' && available ? 'webgpu' : 'wasm';
  picker.value = backend;
  return backend;
}

$('backend').onchange = () => startWorker(($('backend') as HTMLSelectElement).value as Backend);
if (!crossOriginIsolated) state.errors.push('the page is not cross-origin isolated, so WebAssembly runs on one thread');
chooseBackend().then(startWorker, (err: unknown) => fail(`Choosing the backend failed: ${reason(err)}`));
listPretrained().catch((err: unknown) => fail(`Listing the pretrained models failed: ${reason(err)}`));
