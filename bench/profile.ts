/**
 * Where the training step's time goes (issue #13): ONNX Runtime's own per-node profile of the
 * reference MNIST SimVQ step (batch 128, K = 1024, 2 threads), aggregated over the profiled steps
 * after warm-up. Prints ms per step by op type and by layer (a conv, conv-transpose or MatMul is
 * named by its input shapes, which identify the layer and which of its passes — forward, ∂x or
 * ∂w — it is) as one JSON object on stdout, and the same as a table on stderr.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundledMnist } from '../src/data/index.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { autoencode } from '../src/models/forward.js';
import { Adam } from '../src/optim/adam.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { round } from './stats.js';

const BATCH = 128;
const K = 1024;
const THREADS = 2;
const WARMUP = 3;
const STEPS = 8;

/** One entry of ORT's Chrome-trace profile (only the fields read here). */
interface ProfileEvent {
  readonly cat: string;
  readonly name: string;
  readonly ts: number;
  readonly dur: number;
  readonly args?: { readonly op_name?: string; readonly input_type_shape?: readonly Record<string, number[]>[] };
}

/** Layers are told apart by their operand shapes: x·w for a conv, a·b for a MatMul. */
const SHAPED_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'FusedConv', 'FusedMatMul', 'NchwcConv']);

function layerKey(opName: string, e: ProfileEvent): string {
  if (!SHAPED_OPS.has(opName)) return opName;
  const shapes = (e.args?.input_type_shape ?? []).slice(0, 2).map((s) => `[${Object.values(s)[0]!.join(',')}]`);
  return `${opName} ${shapes.join('·')}`;
}

function addTo(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function table(title: string, perStep: Map<string, number>, total: number): string {
  const rows = [...perStep].sort((a, b) => b[1] - a[1]);
  const lines = rows.map(([k, ms]) => `${ms.toFixed(2).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${k}`);
  return `${title}\n${lines.join('\n')}\n`;
}

export async function benchProfile(): Promise<Record<string, number>> {
  const images = loadBundledMnist().images.slice(0, 8 * BATCH * 784);
  const config = makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig('simvq', { codebookSize: K, dim: 64, beta: 0.25 }) });
  const model = buildModel(config);
  const dir = mkdtempSync(join(tmpdir(), 'vqlab-profile-'));
  try {
    const program = await TrainingProgram.create({
      store: new VariableStore(0),
      optimizer: new Adam(),
      threads: THREADS,
      profilePrefix: join(dir, 'train_step'),
      build: (ctx) => {
        const f = autoencode(ctx, model, ctx.input('x', [BATCH, 1, 28, 28]));
        return { loss: f.loss, metrics: { counts: f.quantized.counts } };
      },
    });
    const batches = Math.floor(images.length / (BATCH * 784));
    for (let s = 0; s < WARMUP + STEPS; s++) {
      const b = s % batches;
      await program.step({ x: images.subarray(b * BATCH * 784, (b + 1) * BATCH * 784) }, 3e-4);
    }
    program.compiled.endProfiling();
    await program.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`profile: ONNX Runtime wrote no profile into ${dir}`);
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];

    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    if (runs.length !== WARMUP + STEPS) throw new Error(`profile: expected ${WARMUP + STEPS} runs in the profile, found ${runs.length}`);
    const start = runs[WARMUP]!.ts;
    const stepMs = runs.slice(WARMUP).reduce((sum, r) => sum + r.dur, 0) / 1000 / STEPS;
    const byOp = new Map<string, number>();
    const byLayer = new Map<string, number>();
    for (const e of events) {
      if (e.cat !== 'Node' || e.ts < start || !e.name.endsWith('_kernel_time')) continue;
      const opName = e.args?.op_name ?? 'unknown';
      addTo(byOp, opName, e.dur / 1000 / STEPS);
      addTo(byLayer, layerKey(opName, e), e.dur / 1000 / STEPS);
    }
    const kernelMs = [...byOp.values()].reduce((a, b) => a + b, 0);
    process.stderr.write(
      `profile: ${STEPS} steps after ${WARMUP} warm-up, ${stepMs.toFixed(1)} ms per step in session.run, ${kernelMs.toFixed(1)} ms in kernels\n` +
        table('by op type (ms per step, share of kernel time):', byOp, kernelMs) +
        table('by layer:', byLayer, kernelMs),
    );
    const result: Record<string, number> = { step_ms: round(stepMs, 2), kernel_ms: round(kernelMs, 2) };
    for (const [k, ms] of [...byOp].sort((a, b) => b[1] - a[1])) result[`op ${k}`] = round(ms, 3);
    for (const [k, ms] of [...byLayer].sort((a, b) => b[1] - a[1])) if (k.includes(' ')) result[`layer ${k}`] = round(ms, 3);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
