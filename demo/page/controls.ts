/**
 * Which of the page's controls can be used in each phase of the page. A control is enabled only
 * when the worker can act on what it sends, so no click reaches a worker that is still loading
 * the digits or building a model, where it would be lost; the HTML starts them all disabled.
 */
import type { DrawingPad } from './drawing-pad.js';

/**
 * starting: the worker is loading ONNX Runtime and the digits; failed: it could not (only the
 * backend can be changed, to try again); building: a model is being trained from scratch or loaded
 * and has not arrived; training: the worker runs training steps and still answers encode requests.
 */
export type PagePhase = 'starting' | 'failed' | 'ready' | 'building' | 'training';

const SETTINGS = ['quantizer', 'codebook-size', 'batch', 'lr'] as const;
/** Encoding an opened image and editing a code need a ready worker, with or without training running. */
const DRAWING = ['image', 'code', 'apply'] as const;
/** Recording or opening audio needs a speech model; only these of the controls depend on the model's modality. */
const SPEECH = ['record', 'audio-file'] as const;

type ControlId = (typeof SETTINGS)[number] | (typeof DRAWING)[number] | (typeof SPEECH)[number] | 'backend' | 'train' | 'stop' | 'checkpoint' | 'pretrained';

const ALL: readonly ControlId[] = [...SETTINGS, ...DRAWING, ...SPEECH, 'backend', 'train', 'stop', 'checkpoint', 'pretrained'];

/** Loading a checkpoint (uploaded or pretrained) or changing the backend stops a running training first, so they stay usable. */
const USABLE: { readonly [P in PagePhase]: readonly ControlId[] } = {
  starting: [],
  failed: ['backend'],
  ready: [...SETTINGS, ...DRAWING, ...SPEECH, 'backend', 'train', 'checkpoint', 'pretrained'],
  building: [],
  training: [...DRAWING, 'backend', 'stop', 'checkpoint', 'pretrained'],
};

/** `speech`: the page holds a speech model, which codes audio and no drawings (training in the page replaces it by an image model). */
export function enableControlsFor(phase: PagePhase, pad: DrawingPad, speech: boolean): void {
  for (const id of ALL) {
    const control = document.getElementById(id) as HTMLButtonElement | HTMLInputElement | HTMLSelectElement;
    const forModel = (SPEECH as readonly string[]).includes(id) ? speech : !(DRAWING as readonly string[]).includes(id) || !speech;
    control.disabled = !(USABLE[phase].includes(id) && forModel);
  }
  pad.enabled = (phase === 'ready' || phase === 'training') && !speech;
}
