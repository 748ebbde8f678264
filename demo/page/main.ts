/**
 * The demo page: controls, live charts, the test digits and the drawing pad. Everything that runs
 * ONNX Runtime lives in the worker (worker.ts); this file only sends it requests and draws replies.
 *
 * `window.vqlabDemo` mirrors what the page shows (losses, code grids) as plain data, for the
 * browser test and for anyone poking at the page from the console.
 */
import { DEFAULT_LIMITS } from '../../dist/src/browser.js';
import { drawGray, drawLossCurve, drawUsageHistogram } from './charts.js';
import { readCheckpointUpload } from './checkpoint-upload.js';
import { enableControlsFor, type PagePhase } from './controls.js';
import { DrawingPad } from './drawing-pad.js';
import { decodeImageFile } from './image-file.js';
import { PRETRAINED_DIRECTORY, PRETRAINED_FILES, PRETRAINED_INDEX, type Backend, type FromWorker, type PretrainedEntry, type Progress, type TestDigits, type ToWorker, type TrainSettings } from './protocol.js';

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
  progress: Progress | null;
  testDigits: TestDigits | null;
  drawnCodes: number[] | null;
  drawnImage: Float32Array | null;
  /** Every failure the page has shown, one line each. */
  errors: string[];
  /** Warnings that did not stop an action, e.g. a checkpoint loaded without checksums. */
  notices: string[];
}

const state: DemoState = {
  runtime: '', model: '', ready: false, phase: 'starting', training: false, losses: [], stepMs: [], progress: null, testDigits: null, drawnCodes: null, drawnImage: null, errors: [], notices: [],
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
}

function phase(): PagePhase {
  if (!state.ready) return initFailed ? 'failed' : 'starting';
  if (pending) return 'building';
  return state.training ? 'training' : 'ready';
}

function refreshControls(): void {
  state.phase = phase();
  enableControlsFor(state.phase, pad);
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
  $('model').textContent = m.description;
  ($('code') as HTMLInputElement).max = String(codebookSize - 1);
  state.losses = [];
  state.stepMs = [];
  state.progress = null;
  const loaded = pending?.kind === 'load' ? pending : null;
  pending = null;
  refreshControls();
  if (loaded) {
    if (loaded.notice) state.notices.push(loaded.notice);
    const notice = loaded.notice ? ` Note: ${loaded.notice}.` : '';
    setStatus(`Loaded the checkpoint (${loaded.files}): ${m.description}.${notice} Draw a digit below.`, 'ready');
  }
  redrawDrawing();
}

function showProgress(p: Progress): void {
  state.progress = p;
  state.losses.push(p.loss);
  state.stepMs.push(p.stepMs);
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
