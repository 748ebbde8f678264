/**
 * The reconstruction terms a speech run may choose (`vqlab train --loss`):
 *
 *   l1       mean |x̂ − x| over the samples, the time-domain term of SoundStream (Zeghidour et al.
 *            2021) and EnCodec (Défossez et al. 2022);
 *   l1+mel   L1_TIME_WEIGHT · l1 + MEL_WEIGHT · multiResolutionMelLoss (src/layers/): the time-domain
 *            term beside the multi-scale log-mel term of DAC (Kumar et al. 2023), with the mel
 *            distance metric's three resolutions, so the spectral term is the reported mel distance.
 *
 * The weights are EnCodec's λ_t = 0.1 on the time-domain L1 and λ_f = 1 on its multi-scale
 * spectral loss, both beside a commitment loss of weight 1 — the scale vqlab's quantizer losses
 * have. DAC drops the time-domain term and weighs its mel loss 15 against a codebook loss of 1 and
 * a commitment loss of 0.25; EnCodec's ratio is kept here because, without the adversarial terms
 * of either codec, the time-domain term is what fixes the phase the log-mel term ignores.
 */
import { l1Loss } from '../../graph/composites.js';
import * as op from '../../graph/ops.js';
import { multiResolutionMelLoss } from '../../layers/multi-resolution-mel-loss.js';
import { audioInputOf } from '../../models/config.js';
import type { ReconstructionLossOf } from '../modality.js';

/** EnCodec's λ_t: the weight of the time-domain L1 term beside the spectral one. */
export const L1_TIME_WEIGHT = 0.1;
/** EnCodec's λ_f: the weight of the multi-resolution log-mel term. */
export const MEL_WEIGHT = 1;

export const speechLosses: { readonly [name: string]: ReconstructionLossOf } = {
  l1: () => l1Loss,
  'l1+mel': (config) => {
    const { sampleRate } = audioInputOf(config);
    return (reconstruction, target) =>
      op.add(op.mul(l1Loss(reconstruction, target), L1_TIME_WEIGHT), multiResolutionMelLoss(reconstruction, target, { sampleRate, weight: MEL_WEIGHT }));
  },
};
