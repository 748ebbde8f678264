/**
 * The modalities by name (models/config.ts lists the names a config may carry), and the one a
 * config or a run's options select. A new modality is a folder beside image/ and one entry here,
 * with nothing added to its callers.
 */
import { DEFAULT_MODALITY, MODALITY_NAMES, modalityNameOf, type ModalityName, type ModelConfig } from '../models/config.js';
import { audioModality } from './audio/audio-modality.js';
import { imageModality } from './image/image-modality.js';
import type { Modality } from './modality.js';

const MODALITIES: { readonly [name in ModalityName]: Modality } = {
  image: imageModality,
  audio: audioModality,
};

/** The modality called `name` (default DEFAULT_MODALITY); a one-line error names the known ones. */
export function modalityNamed(name: string = DEFAULT_MODALITY): Modality {
  if (!(MODALITY_NAMES as readonly string[]).includes(name)) throw new Error(`unknown modality '${name}'; choose one of ${MODALITY_NAMES.join(', ')}`);
  return MODALITIES[name as ModalityName];
}

/** The modality of a model config (a config that names none is an image model). */
export function modalityOf(config: Pick<ModelConfig, 'modality'>): Modality {
  return MODALITIES[modalityNameOf(config)];
}
