import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanSsim, ssimPerImage } from '../src/modality/image/ssim.js';
import { Rng } from '../src/init/rng.js';

const shape = { channels: 1, height: 16, width: 16 };

function random(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform());
}

test('SSIM of an image with itself is 1', () => {
  const x = random(2 * 3 * 20 * 24, 1);
  assert.ok(Math.abs(meanSsim(x, x, 2, { channels: 3, height: 20, width: 24 }) - 1) < 1e-12);
});

test('SSIM of two constant images follows the luminance term by hand', () => {
  // x ≡ a, y ≡ a + c: μx = a, μy = a + c, all (co)variances 0, so the structure term is C2/C2 = 1
  // and SSIM = (2·a·(a+c) + C1) / (a² + (a+c)² + C1) with C1 = 0.01² — for a = 0.5, c = 0.1:
  // (2·0.5·0.6 + 0.0001) / (0.25 + 0.36 + 0.0001) = 0.6001 / 0.6101.
  const a = new Float32Array(256).fill(0.5);
  const b = new Float32Array(256).fill(0.6);
  const expected = 0.6001 / 0.6101;
  assert.ok(Math.abs(meanSsim(a, b, 1, shape) - expected) < 1e-6, `${meanSsim(a, b, 1, shape)} vs ${expected}`);
});

test('SSIM is symmetric, at most 1, and falls as noise grows', () => {
  const x = random(256, 2);
  const noise = random(256, 3);
  const noisy = (s: number) => x.map((v, i) => v + s * (noise[i]! - 0.5));
  const [s1, s2] = [meanSsim(x, noisy(0.1), 1, shape), meanSsim(x, noisy(0.5), 1, shape)];
  assert.ok(s1 < 1 && s2 < s1, `${s1} > ${s2}`);
  assert.ok(Math.abs(meanSsim(noisy(0.1), x, 1, shape) - s1) < 1e-12);
  // A negated-contrast image is anti-correlated: SSIM well below 0.
  assert.ok(meanSsim(x, x.map((v) => 1 - v), 1, shape) < 0);
});

test('per-image SSIM averages channels, and too-small images are refused', () => {
  const x = random(2 * 256, 4);
  const y = x.slice();
  y.fill(0.5, 256); // second channel replaced
  const [s] = ssimPerImage(x, y, 1, { channels: 2, height: 16, width: 16 });
  const second = meanSsim(x.subarray(256), y.subarray(256), 1, shape);
  assert.ok(Math.abs(s! - (1 + second) / 2) < 1e-12);
  assert.throws(() => meanSsim(new Float32Array(100), new Float32Array(100), 1, { channels: 1, height: 10, width: 10 }), /at least 11×11/);
});
