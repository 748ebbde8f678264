/** The one check of an architecture's integer sizes, so every model family words a bad size alike. */
import { shownValue } from '../limits/shown-value.js';

/** Throws `<model> model: <name> must be an integer from <min> to <max>, got <v>` unless v is such an integer. */
export function checkArchitectureInteger(model: string, name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${model} model: ${name} must be an integer from ${min} to ${max}, got ${shownValue(v)}`);
}
