/** The machine an experiment ran on, recorded with its results because timings depend on it. */
import { cpus, platform, release, totalmem } from 'node:os';
import type { MachineInfo } from './types.js';

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    memoryGiB: totalmem() / 2 ** 30,
    node: process.versions.node,
    platform: `${platform()} ${release()}`,
  };
}
