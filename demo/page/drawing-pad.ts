/**
 * A canvas to draw a digit on with mouse, pen or finger (or to show an opened image on), and its
 * conversion to an MNIST-like 28×28 image: MNIST digits are white on black, fitted into a 20×20
 * box and centred in 28×28 (LeCun et al., the MNIST database's description), so the drawing's
 * bounding box is treated the same.
 */

const SIDE = 28;
const BOX = 20;
/** ITU-R BT.601 luma weights, as vqlab's image loader turns colour into gray (src/images/channels.ts). */
const LUMA = [0.299, 0.587, 0.114] as const;

export class DrawingPad {
  private drawing = false;
  private usable = false;

  constructor(
    readonly canvas: HTMLCanvasElement,
    /** Called when a stroke ends. */
    private readonly onStroke: () => void,
  ) {
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      if (!this.usable) return;
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      const ctx = this.context();
      ctx.beginPath();
      const [x, y] = this.at(e);
      ctx.moveTo(x, y);
      ctx.lineTo(x + 0.01, y);
      ctx.stroke();
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const ctx = this.context();
      const [x, y] = this.at(e);
      ctx.lineTo(x, y);
      ctx.stroke();
    });
    const end = (): void => {
      if (!this.drawing) return;
      this.drawing = false;
      this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  /** Whether strokes are taken; false until the page can encode them. Starts false. */
  get enabled(): boolean {
    return this.usable;
  }

  set enabled(on: boolean) {
    this.usable = on;
    this.canvas.setAttribute('aria-disabled', String(!on));
  }

  clear(): void {
    const ctx = this.canvas.getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /**
   * Replace the drawing with `image`, fitted into the pad and put in MNIST's form: gray by luma,
   * white on black. An image that is mostly light (a scan or photo of ink on paper) is inverted.
   */
  showImage(image: ImageBitmap): void {
    this.clear();
    const { width, height } = this.canvas;
    const scale = Math.min(width / image.width, height / image.height);
    const w = Math.max(1, Math.round(image.width * scale));
    const h = Math.max(1, Math.round(image.height * scale));
    const x = Math.floor((width - w) / 2);
    const y = Math.floor((height - h) / 2);
    const ctx = this.canvas.getContext('2d')!;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(image, x, y, w, h);
    const pixels = ctx.getImageData(x, y, w, h);
    const rgba = pixels.data;
    let sum = 0;
    for (let i = 0; i < rgba.length; i += 4) {
      const gray = LUMA[0] * rgba[i]! + LUMA[1] * rgba[i + 1]! + LUMA[2] * rgba[i + 2]!;
      rgba[i] = gray;
      sum += gray;
    }
    const invert = sum / (w * h) > 127.5;
    for (let i = 0; i < rgba.length; i += 4) {
      const gray = invert ? 255 - rgba[i]! : rgba[i]!;
      rgba[i] = rgba[i + 1] = rgba[i + 2] = gray;
      rgba[i + 3] = 255;
    }
    ctx.putImageData(pixels, x, y);
  }

  private context(): CanvasRenderingContext2D {
    const ctx = this.canvas.getContext('2d')!;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    return ctx;
  }

  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * this.canvas.width) / r.width, ((e.clientY - r.top) * this.canvas.height) / r.height];
  }

  /** The drawing as 28×28 values in [0, 1], or null when nothing is drawn. */
  toDigit(): Float32Array | null {
    const { width, height } = this.canvas;
    const src = this.canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (src[4 * (y * width + x)]! > 32) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const scale = BOX / Math.max(w, h);
    const small = document.createElement('canvas');
    small.width = SIDE;
    small.height = SIDE;
    const ctx = small.getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, SIDE, SIDE);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(this.canvas, x0, y0, w, h, (SIDE - w * scale) / 2, (SIDE - h * scale) / 2, w * scale, h * scale);
    const pixels = ctx.getImageData(0, 0, SIDE, SIDE).data;
    const digit = new Float32Array(SIDE * SIDE);
    for (let i = 0; i < digit.length; i++) digit[i] = pixels[4 * i]! / 255;
    return digit;
  }
}
