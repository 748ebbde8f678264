/**
 * Weight initializers. Each draws from a seeded `Rng`, so the same seed gives the same weights.
 *
 * Kaiming (He et al., 2015): std = gain / √fan, with gain √2 for ReLU; uniform variant bound = √3·std.
 * Xavier (Glorot & Bengio, 2010): std = gain·√(2 / (fanIn + fanOut)); uniform bound = √3·std.
 * Fans are given by the layer, since only it knows which axis of its weight is the input one.
 */
import type { Rng } from './rng.js';

export type Distribution = 'normal' | 'uniform';

export type Initializer =
  | { readonly kind: 'normal'; readonly std: number; readonly mean?: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number }
  | { readonly kind: 'kaiming'; readonly mode?: 'fanIn' | 'fanOut'; readonly gain?: number; readonly distribution?: Distribution }
  | { readonly kind: 'xavier'; readonly gain?: number; readonly distribution?: Distribution }
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'identity' }
  | { readonly kind: 'sphere'; readonly radius: number };

export interface Fans {
  readonly fanIn: number;
  readonly fanOut: number;
}

export const constant = (value: number): Initializer => ({ kind: 'constant', value });
export const zeros: Initializer = constant(0);
export const ones: Initializer = constant(1);
export const normal = (std: number, mean = 0): Initializer => ({ kind: 'normal', std, mean });
export const uniform = (low: number, high: number): Initializer => ({ kind: 'uniform', low, high });
export const kaiming = (options: Omit<Extract<Initializer, { kind: 'kaiming' }>, 'kind'> = {}): Initializer => ({ kind: 'kaiming', ...options });
export const xavier = (options: Omit<Extract<Initializer, { kind: 'xavier' }>, 'kind'> = {}): Initializer => ({ kind: 'xavier', ...options });
/** The identity matrix (square 2-D weights only), e.g. SimVQ's W when only C is optimized. */
export const identity: Initializer = { kind: 'identity' };
/**
 * Each row (the last axis) a uniformly random direction of norm `radius`: a standard normal vector
 * scaled to that norm, whose direction is uniform on the sphere (Muller 1959), e.g. codes of unit
 * norm for a cosine codebook.
 */
export const sphere = (radius: number): Initializer => ({ kind: 'sphere', radius });

function fill(out: Float32Array, rng: Rng, distribution: Distribution, std: number): void {
  if (distribution === 'normal') {
    for (let i = 0; i < out.length; i++) out[i] = rng.normal() * std;
  } else {
    const bound = Math.sqrt(3) * std;
    for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * bound;
  }
}

/** Fans of a weight when the layer does not say: [out, in, ...kernel] as for conv and dense layers. */
export function defaultFans(shape: readonly number[]): Fans {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Draw a tensor of `shape` from `init`. */
export function initialize(init: Initializer, shape: readonly number[], rng: Rng, fans: Fans = defaultFans(shape)): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  switch (init.kind) {
    case 'constant':
      out.fill(init.value);
      break;
    case 'normal':
      for (let i = 0; i < size; i++) out[i] = (init.mean ?? 0) + rng.normal() * init.std;
      break;
    case 'uniform':
      if (!(init.high > init.low)) throw new Error(`uniform initializer needs high > low, got [${init.low}, ${init.high})`);
      for (let i = 0; i < size; i++) out[i] = init.low + (init.high - init.low) * rng.uniform();
      break;
    case 'kaiming': {
      const fan = (init.mode ?? 'fanIn') === 'fanIn' ? fans.fanIn : fans.fanOut;
      fill(out, rng, init.distribution ?? 'normal', (init.gain ?? Math.SQRT2) / Math.sqrt(fan));
      break;
    }
    case 'xavier':
      fill(out, rng, init.distribution ?? 'uniform', (init.gain ?? 1) * Math.sqrt(2 / (fans.fanIn + fans.fanOut)));
      break;
    case 'identity': {
      if (shape.length !== 2 || shape[0] !== shape[1]) {
        throw new Error(`identity initializer needs a square 2-D shape, got [${shape.join(',')}]`);
      }
      for (let i = 0; i < shape[0]!; i++) out[i * shape[0]! + i] = 1;
      break;
    }
    case 'sphere': {
      const width = shape.at(-1) ?? 1;
      for (let row = 0; row < size; row += width) {
        let norm2 = 0;
        for (let j = row; j < row + width; j++) {
          const v = rng.normal();
          out[j] = v;
          norm2 += v * v;
        }
        // A zero draw has probability 0; its row stays 0 rather than dividing by it.
        const scale = norm2 > 0 ? init.radius / Math.sqrt(norm2) : 0;
        for (let j = row; j < row + width; j++) out[j] = out[j]! * scale;
      }
      break;
    }
  }
  return out;
}
