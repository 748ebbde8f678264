/**
 * A training process for crash tests: `train-child <out> <epochs> [<kill point>]` trains the tiny
 * fixture model on `childDatasets()` in <out>, resuming it when it holds a checkpoint, and SIGKILLs
 * itself at its <kill point>-th write point when given one. Started by `runTrainChild`. The data is
 * made, not loaded, so a child starts fast.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeDataset, type ImageDataset } from '../../src/data/index.js';
import { Rng } from '../../src/init/rng.js';
import { hasTrainingCheckpoint } from '../../src/persistence/run-directory.js';
import { killAtWritePoint, NO_WRITE_FAULTS } from '../../src/persistence/write-hook.js';
import { trainModel } from '../../src/train/train.js';
import type { TrainHooks, TrainOptions } from '../../src/train/train-options.js';
import { TINY } from './checkpoint-fixture.js';
import { loaderFlags } from './run-cli.js';

function noiseImages(count: number, seed: number, name: string): ImageDataset {
  const rng = new Rng(seed);
  const images = Float32Array.from({ length: count * 784 }, () => rng.uniform());
  return makeDataset({ images, count, channels: 1, height: 28, width: 28, name });
}

/** 64 training and 16 test images of seeded noise, 28×28. */
function childDatasets(): NonNullable<TrainHooks['datasets']> {
  return { train: noiseImages(64, 1, 'noise/train'), test: noiseImages(16, 2, 'noise/test') };
}

/**
 * Trains <out> as the child does, killed at its `killAt`-th write point if given; call it in the
 * test process too, for a run to compare with.
 */
export async function trainAsChild(out: string, epochs: number, killAt?: number): Promise<void> {
  const options: TrainOptions = { ...TINY, out, epochs, resume: hasTrainingCheckpoint(out) };
  await trainModel(options, { datasets: childDatasets(), writeHook: killAt === undefined ? NO_WRITE_FAULTS : killAtWritePoint(killAt) });
}

const self = fileURLToPath(import.meta.url);

/** Trains `epochs` in `out` in a child process, killed at its `killAt`-th write point if given. */
export function runTrainChild(out: string, epochs: number, killAt?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = [...loaderFlags(), self, out, String(epochs), ...(killAt === undefined ? [] : [String(killAt)])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

if (process.argv[1] === self) {
  trainAsChild(process.argv[2]!, Number(process.argv[3]), process.argv[4] === undefined ? undefined : Number(process.argv[4])).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
