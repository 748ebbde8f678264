/**
 * `--device cpu|webgpu|auto`, shared by the commands that run graphs: it picks the ONNX Runtime
 * provider every program of the command is compiled for (`useRuntime`), after checking that a
 * WebGPU adapter exists (`openNodeRuntime`; without one, 'webgpu' fails in one line and 'auto'
 * runs on the CPU). Checkpoints do not depend on it.
 */
import { DEVICE_CHOICES, type DeviceChoice } from '../runtime/device-choice.js';
import { choiceOption, type OptionTable, type ParsedArgs } from './args.js';

export const DEVICE_OPTION: OptionTable = {
  device: {
    type: 'string',
    value: 'cpu|webgpu|auto',
    description: 'run on the CPU (default), on a GPU through WebGPU (Vulkan on Linux, Metal on macOS, Direct3D 12 on Windows), or auto: WebGPU when an adapter exists',
  },
};

/** The --device asked for (default cpu); a value outside the choices is a usage error. */
export function deviceChoiceOf(values: ParsedArgs['values']): DeviceChoice {
  return choiceOption(values, 'device', DEVICE_CHOICES) ?? 'cpu';
}

/**
 * Compile this command's programs for `choice` from now on. ONNX Runtime is loaded here, not at
 * import, so that commands which may not need it (`experiment --plan`) stay light.
 */
export async function useDevice(choice: DeviceChoice): Promise<void> {
  const [{ openNodeRuntime }, { useRuntime }] = await Promise.all([import('../runtime/node-runtime.js'), import('../runtime/runtime.js')]);
  useRuntime(await openNodeRuntime(choice));
}

/** `useDevice` of the command's --device. */
export function useDeviceOption(values: ParsedArgs['values']): Promise<void> {
  return useDevice(deviceChoiceOf(values));
}
