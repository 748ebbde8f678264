/**
 * The one error type of the data loaders. Every message is a single line that names the file or
 * directory, says what is wrong with it, and says what to do about it, so that a CLI can print
 * `err.message` as is.
 */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** Formats a byte count with thousands separators, for error messages about file lengths. */
export function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}
