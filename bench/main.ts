/**
 * `npm run bench -- <name>` runs one benchmark and prints its result as one JSON object on stdout.
 * Names: engine, quantize, kmeans, train, browser, profile, conv-forms, device, audio. With no name, runs all and prints one object keyed by name.
 * `--device cpu|webgpu|auto` runs the benchmarks' graphs there (default cpu; `device` measures every device itself);
 * `--batch N` sets the batch of `device`.
 */
import { benchEngine } from './engine.js';
import { DEVICE_CHOICES, type DeviceChoice } from '../src/runtime/device-choice.js';

type Bench = () => Promise<Record<string, number | string | null>>;

async function lazy(path: string, exportName: string): Promise<Bench> {
  const mod = (await import(path)) as Record<string, unknown>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`benchmark module ${path} does not export ${exportName}`);
  return fn as Bench;
}

const benches: Record<string, () => Promise<Bench>> = {
  engine: async () => benchEngine,
  quantize: () => lazy('./quantize.js', 'benchQuantize'),
  kmeans: () => lazy('./kmeans.js', 'benchKmeans'),
  train: () => lazy('./train.js', 'benchTrain'),
  browser: () => lazy('./browser.js', 'benchBrowser'),
  profile: () => lazy('./profile.js', 'benchProfile'),
  'conv-forms': () => lazy('./conv-forms.js', 'benchConvForms'),
  device: () => lazy('./device.js', 'benchDevice'),
  audio: () => lazy('./audio.js', 'benchAudio'),
};

/** The benchmark names in argv, and the --device asked for (the flags and their values taken out). */
function parseArgs(argv: readonly string[]): { names: string[]; device: DeviceChoice } {
  const names: string[] = [];
  let device: DeviceChoice = 'cpu';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--device') {
      const value = argv[++i];
      if (!DEVICE_CHOICES.includes(value as DeviceChoice)) throw new Error(`--device must be one of ${DEVICE_CHOICES.join(', ')}, got '${value}'`);
      device = value as DeviceChoice;
    } else if (arg === '--batch') {
      i++; // read by the device benchmark
    } else {
      names.push(arg);
    }
  }
  return { names, device };
}

async function main(): Promise<void> {
  const { names, device } = parseArgs(process.argv.slice(2));
  for (const n of names) {
    if (!(n in benches)) {
      process.stderr.write(`bench: unknown benchmark '${n}'; choose from ${Object.keys(benches).join(', ')}\n`);
      process.exit(1);
    }
  }
  if (device !== 'cpu') {
    const [{ openNodeRuntime }, { useRuntime }] = await Promise.all([import('../src/runtime/node-runtime.js'), import('../src/runtime/runtime.js')]);
    useRuntime(await openNodeRuntime(device));
  }
  const load = (await import('node:os')).loadavg()[0]!;
  if (names.length === 1) {
    const result = await (await benches[names[0]!]!())();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const all: Record<string, Record<string, number | string | null>> = {};
    for (const n of names.length ? names : Object.keys(benches)) all[n] = await (await benches[n]!())();
    process.stdout.write(`${JSON.stringify(all)}\n`);
  }
  process.stderr.write(`bench: 1-minute load average at start ${load.toFixed(2)} on ${(await import('node:os')).cpus().length} cores\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
