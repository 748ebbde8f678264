/** What a user may ask to run on: a device, or `auto` (WebGPU when an adapter exists, else the CPU). */
export type DeviceChoice = 'cpu' | 'webgpu' | 'auto';

export const DEVICE_CHOICES: readonly DeviceChoice[] = ['cpu', 'webgpu', 'auto'];
