/** A file that is not a readable PNG/JPEG, or declares more than a cap; the one-line message names the file and the fix. */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}
