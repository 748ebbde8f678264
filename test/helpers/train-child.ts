/**
 * A training process for crash tests: `train-child <out> <epochs>` trains the tiny fixture model on
 * `childDatasets()` in <out>, resuming it when it holds a checkpoint. Started by `runTrainChild`,
 * which passes the fault-injection variables. The data is made, not loaded, so a child starts fast.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeDataset, type ImageDataset } from '../../src/data/index.js';
import { Rng } from '../../src/init/rng.js';
import { hasTrainingCheckpoint } from '../../src/persistence/run-directory.js';
import { trainModel, type TrainOptions } from '../../src/train/train.js';
import { TINY } from './checkpoint-fixture.js';
import { loaderFlags } from './run-cli.js';

function noiseImages(count: number, seed: number, name: string): ImageDataset {
  const rng = new Rng(seed);
  const images = Float32Array.from({ length: count * 784 }, () => rng.uniform());
  return makeDataset({ images, count, channels: 1, height: 28, width: 28, name });
}

/** 64 training and 16 test images of seeded noise, 28×28. */
export function childDatasets(): NonNullable<TrainOptions['datasets']> {
  return { train: noiseImages(64, 1, 'noise/train'), test: noiseImages(16, 2, 'noise/test') };
}

/** The options the child trains with; pass the same to compare with a run in the test process. */
export function childOptions(out: string, epochs: number): TrainOptions {
  return { ...TINY, datasets: childDatasets(), out, epochs, resume: hasTrainingCheckpoint(out) };
}

async function main(out: string, epochs: number): Promise<void> {
  await trainModel(childOptions(out, epochs));
}

const self = fileURLToPath(import.meta.url);

export function runTrainChild(out: string, epochs: number, env: Readonly<Record<string, string>>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loaderFlags(), self, out, String(epochs)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

if (process.argv[1] === self) {
  main(process.argv[2]!, Number(process.argv[3])).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
