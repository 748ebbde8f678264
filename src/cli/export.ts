/** `vqlab export DIR`: self-contained encoder.onnx and decoder.onnx with the trained weights. */
import { EXPORT_OPSETS, type ExportOpset } from '../onnx/lower.js';
import { exportOnnx } from '../tokenize/export.js';
import { helpText, intOption, parseCommandArgs, stringOption, UsageError, type OptionTable } from './args.js';
import { CHECKPOINT_OPTIONS, checkpointReading, MODEL_OPTION, modelAndInputs } from './checkpoint-options.js';
import { toJson, writeStdout, type Command } from './command.js';

const OPTIONS: OptionTable = {
  out: { type: 'string', value: 'DIR', description: 'where to write the files (default: the checkpoint directory; for a pretrained model, NAME-onnx here)' },
  batch: { type: 'string', value: 'N', description: 'batch size fixed in the graphs (default: any batch size at run time; for audio 1, the length being dynamic)' },
  opset: { type: 'string', value: 'N', description: `ONNX opset of the graphs: ${EXPORT_OPSETS.join(' or ')} (default ${EXPORT_OPSETS[EXPORT_OPSETS.length - 1]}; 17 for tools that know no newer one, such as Python's onnx 1.12)` },
  ...MODEL_OPTION,
  ...CHECKPOINT_OPTIONS,
};

const USAGE = 'vqlab export DIR [options]\n       vqlab export --model NAME [options]';
const SUMMARY = 'Export encoder.onnx (image float32 [N,C,H,W] in [0,1] → indices int64 [N,h,w]) and decoder.onnx (indices → image) with the weights baked in. An audio model: audio float32 [N,1,1,samples], samples any multiple of the hop (printed), → indices int64 [N,1,samples/hop], N fixed.';

function opsetOption(values: Parameters<typeof stringOption>[0]): ExportOpset | undefined {
  const text = stringOption(values, 'opset');
  if (text === undefined) return undefined;
  const opset = EXPORT_OPSETS.find((o) => String(o) === text);
  if (opset === undefined) throw new UsageError(`--opset ${text} is not supported; choose ${EXPORT_OPSETS.join(' or ')}`);
  return opset;
}

export const exportCommand: Command = {
  async run(argv) {
    const { values, positionals } = parseCommandArgs('export', argv, OPTIONS, { min: 0, max: 1, names: 'one checkpoint directory' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS));
    const { location, pretrained } = modelAndInputs('export', values, positionals, { min: 0, max: 0, names: 'nothing else' });
    // A pretrained model's folder is inside the installed package: its exports go beside the user.
    const outDir = stringOption(values, 'out') ?? (pretrained ? `${stringOption(values, 'model') ?? positionals[0]!}-onnx` : undefined);
    const batch = intOption(values, 'batch', 1);
    const result = await exportOnnx(location, { ...checkpointReading(values), outDir, batch, opset: opsetOption(values) });
    await writeStdout(`${toJson(result)}\n`);
  },
};
