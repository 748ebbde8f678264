/**
 * The checkpoint files the user picks in the page, sized and verified before anything parses
 * them: a JSON file is refused above the JSON cap by its size alone, before it is read (config.json
 * as `vqlab train` writes it is under a kilobyte), and when the checkpoint's checksums.json is
 * picked too, config.json and model.safetensors must match the SHA-256 it recorded, so a flipped
 * bit is refused rather than loaded as weights.
 */
import { CHECKSUMS_FILE, limitExceeded, verifyCheckpointFiles, type InputLimits } from '../../dist/src/browser.js';

/** The file names a checkpoint folder of `vqlab train` holds (src/persistence/run-directory.ts). */
const CONFIG_FILE = 'config.json';
const MODEL_FILE = 'model.safetensors';
/** Files of a checkpoint folder that the page does not load: picking the whole folder works. */
const NOT_LOADED = ['trainer-state.json', 'optimizer.safetensors', CHECKSUMS_FILE];

export interface CheckpointUpload {
  readonly configName: string;
  readonly configText: string;
  readonly weightsName: string;
  readonly weights: ArrayBuffer;
  /** Set when the files could not be verified because no checksums.json was picked. */
  readonly notice?: string;
}

/** config.json by name, or else the one other JSON file picked; the same for the weights. */
function pick(files: readonly File[], name: string, extension: string): File | undefined {
  const candidates = files.filter((f) => f.name.endsWith(extension) && !NOT_LOADED.includes(f.name));
  return candidates.find((f) => f.name === name) ?? (candidates.length === 1 ? candidates[0] : undefined);
}

async function readJsonFile(file: File, limits: InputLimits): Promise<Uint8Array> {
  if (file.size > limits.maxJsonBytes) throw new Error(limitExceeded(file.name, 'maxJsonBytes', file.size, limits));
  return new Uint8Array(await file.arrayBuffer());
}

/** The picked files read, sized and verified; one-line errors that name the file and the fix. */
export async function readCheckpointUpload(files: readonly File[], limits: InputLimits): Promise<CheckpointUpload> {
  const config = pick(files, CONFIG_FILE, '.json');
  const weights = pick(files, MODEL_FILE, '.safetensors');
  if (!config || !weights) {
    const got = files.map((f) => f.name).join(', ') || 'nothing';
    throw new Error(`choose ${CONFIG_FILE} and ${MODEL_FILE} (and ${CHECKSUMS_FILE} when there is one) from a checkpoint folder of a vqlab train run, runs/<dir>/checkpoints/<step> (got ${got})`);
  }
  const checksumsFile = files.find((f) => f.name === CHECKSUMS_FILE);
  const checksums = checksumsFile ? await readJsonFile(checksumsFile, limits) : undefined;
  const configBytes = await readJsonFile(config, limits);
  const weightBytes = new Uint8Array(await weights.arrayBuffer());
  const upload = { configName: config.name, configText: new TextDecoder().decode(configBytes), weightsName: weights.name, weights: weightBytes.buffer };
  if (checksums === undefined) {
    return { ...upload, notice: `this checkpoint carries no checksums, so ${config.name} and ${weights.name} are loaded unverified (pick its ${CHECKSUMS_FILE} too when it has one)` };
  }
  await verifyCheckpointFiles({ [config.name]: configBytes, [weights.name]: weightBytes }, checksums, '', limits);
  return upload;
}
