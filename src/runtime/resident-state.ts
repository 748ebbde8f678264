/**
 * A training program's variables kept in device memory between steps. On a GPU, feeding every
 * parameter and optimizer slot from the host and reading their next values back costs two copies
 * of the whole training state per step; instead each variable's current value is held here as a
 * device tensor, fed to the next step as it is, and replaced by the step's output for it, so a
 * step moves only its batch and the scalars it reports.
 *
 * The host copy of a variable is then stale, and the store guards it (variables.ts): a sync point
 * (`VariableStore.sync`: checkpoints, host steps, the end of training, evaluation on another
 * device) downloads the variables it asks for, after which both copies are current; evaluation on
 * this device is fed the copies held here (`deviceCopy`); a host write of a whole value
 * (`hostWrote`: a checkpoint load, k-means) drops the device copy, and the next step uploads it;
 * a host write of some rows (`writeRows`: dead codes re-seeded, their optimizer state zeroed) is
 * queued and applied to the device copy, by a ScatterElements session on the device
 * (`src/onnx/row-write-model.ts`), before the copy is next fed or downloaded, so a host step moves
 * the rows it changed and whatever it read, not its quantizer's whole state.
 * Both transfers run through one tiny identity session each (`src/onnx/identity-model.ts`):
 * onnxruntime-node 1.30 cannot read a device tensor's data itself (`getData()` on one aborts the
 * process: the binding's download throws a C string), but a session fed a device tensor returns
 * its output on the host.
 *
 * Every device tensor held here is disposed exactly once, when it is replaced or dropped, or at
 * `release`: ORT does not free one that is merely forgotten, so a step that dropped its old values
 * would grow memory without bound; and disposing one after the runtime's last WebGPU session is
 * released crashes the process, so `release` disposes before any session goes.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { shapeSize } from '../graph/tensor.js';
import { IDENTITY_INPUT, IDENTITY_OUTPUT, identityModelBytes } from '../onnx/identity-model.js';
import { ROW_WRITE_DATA, ROW_WRITE_INDICES, ROW_WRITE_OUTPUT, ROW_WRITE_UPDATES, rowWriteModelBytes } from '../onnx/row-write-model.js';
import type { Runtime } from './runtime.js';
import type { DeviceTensor } from './session.js';
import type { DeviceResidence, Variable, VariableStore } from './variables.js';

/** Bytes copied between host and device memory, by direction. */
export interface TransferBytes {
  uploaded: number;
  downloaded: number;
}

interface TransferSessions {
  /** Host tensor in, device tensor out. */
  readonly upload: InferenceSession;
  /** Device tensor in, host tensor out. */
  readonly download: InferenceSession;
  /** Device tensor and host rows in, the device tensor with those rows written out. */
  readonly rowWrite: InferenceSession;
}

/** Rows written on the host, waiting to be applied to a device copy. */
interface PendingRows {
  readonly rows: readonly number[];
  readonly values: Float32Array;
}

export class ResidentState implements DeviceResidence {
  private readonly copies = new Map<Variable, DeviceTensor>();
  private readonly pending = new Map<Variable, PendingRows[]>();
  private transfer: Promise<TransferSessions> | undefined;
  /** Bytes this state's own uploads and downloads have moved (a step's batch and outputs are not counted here). */
  readonly moved: TransferBytes = { uploaded: 0, downloaded: 0 };

  constructor(
    private readonly store: VariableStore,
    private readonly runtime: Runtime,
  ) {
    if (!runtime.deviceTensors) throw new Error(`${runtime.description} cannot hold tensors on a device; keep training state on the host there`);
    store.attachResidence(this);
  }

  /** Number of device tensors held now (one per variable on the device). */
  get heldTensors(): number {
    return this.copies.size;
  }

  /** The device tensor to feed for `variable`: its device copy, uploaded from the host value first if it has none. */
  async deviceCopy(variable: Variable): Promise<DeviceTensor> {
    if (this.copies.has(variable)) return this.applyPending(variable);
    const { upload } = await this.sessions();
    const host = variable.value;
    const result = await upload.run({ [IDENTITY_INPUT]: this.runtime.tensor('float32', host, variable.shape) });
    const copy = result[IDENTITY_OUTPUT]!;
    this.copies.set(variable, copy);
    this.moved.uploaded += host.byteLength;
    return copy;
  }

  /** A step computed `variable`'s next value as `next` on the device: it replaces the copy held, and the host value is stale. */
  replace(variable: Variable, next: DeviceTensor): void {
    this.copies.get(variable)?.dispose();
    this.copies.set(variable, next);
    this.store.markStaleOnHost([variable], true);
  }

  async download(variables: readonly Variable[]): Promise<void> {
    const { download } = await this.sessions();
    for (const variable of variables) {
      if (!this.copies.has(variable)) throw new Error(`variable '${variable.name}' is stale on the host but has no device copy to download`);
      const copy = await this.applyPending(variable);
      const result = await download.run({ [IDENTITY_INPUT]: copy });
      const value = result[IDENTITY_OUTPUT]!.data;
      if (!(value instanceof Float32Array)) throw new Error(`downloading '${variable.name}' gave ${value.constructor.name}, not a Float32Array`);
      variable.value = value;
      this.store.markStaleOnHost([variable], false);
      this.moved.downloaded += value.byteLength;
    }
  }

  hostWrote(variables: readonly Variable[]): void {
    for (const variable of variables) {
      this.copies.get(variable)?.dispose();
      this.copies.delete(variable);
      this.pending.delete(variable);
    }
    this.store.markStaleOnHost(variables, false);
  }

  holds(variable: Variable): boolean {
    return this.copies.has(variable);
  }

  writeRows(variable: Variable, rows: readonly number[], values: Float32Array): void {
    if (!this.copies.has(variable)) throw new Error(`writeRows: '${variable.name}' has no device copy to write into`);
    const queue = this.pending.get(variable) ?? [];
    queue.push({ rows: [...rows], values: values.slice() });
    this.pending.set(variable, queue);
  }

  /**
   * The device copy of `variable` with its queued row writes applied, in the order they were
   * made (a later write of a row wins), in one run that uploads each row written once and its
   * row numbers as int32 (ScatterElements wants an index per element).
   */
  private async applyPending(variable: Variable): Promise<DeviceTensor> {
    const copy = this.copies.get(variable)!;
    const queue = this.pending.get(variable);
    if (queue === undefined) return copy;
    this.pending.delete(variable);
    const width = shapeSize(variable.shape.slice(1));
    const latest = new Map<number, Float32Array>();
    for (const { rows, values } of queue) rows.forEach((r, i) => latest.set(r, values.subarray(i * width, (i + 1) * width)));
    const rows = [...latest.keys()].sort((a, b) => a - b);
    const indices = new Int32Array(rows.length * width);
    const updates = new Float32Array(rows.length * width);
    rows.forEach((r, i) => {
      indices.fill(r, i * width, (i + 1) * width);
      updates.set(latest.get(r)!, i * width);
    });
    const shape = [rows.length, ...variable.shape.slice(1)];
    const { rowWrite } = await this.sessions();
    const result = await rowWrite.run({
      [ROW_WRITE_DATA]: copy,
      [ROW_WRITE_INDICES]: this.runtime.tensor('int32', indices, shape),
      [ROW_WRITE_UPDATES]: this.runtime.tensor('float32', updates, shape),
    });
    const written = result[ROW_WRITE_OUTPUT]!;
    copy.dispose();
    this.copies.set(variable, written);
    this.moved.uploaded += indices.byteLength + updates.byteLength;
    return written;
  }

  /**
   * The end of training: download what is stale, dispose every device tensor, release the
   * transfer sessions and give the store back its host values. Call before releasing the
   * sessions whose outputs are held here.
   */
  async release(): Promise<void> {
    try {
      await this.store.sync([...this.copies.keys()]);
    } finally {
      for (const copy of this.copies.values()) copy.dispose();
      this.copies.clear();
      const transfer = this.transfer && (await this.transfer);
      this.transfer = undefined;
      await transfer?.upload.release();
      await transfer?.download.release();
      await transfer?.rowWrite.release();
    }
    this.store.attachResidence(undefined);
  }

  private sessions(): Promise<TransferSessions> {
    this.transfer ??= (async () => {
      const model = identityModelBytes();
      return {
        upload: await this.runtime.createSession(model, { threads: 1, deviceOutputs: [IDENTITY_OUTPUT] }),
        download: await this.runtime.createSession(model, { threads: 1 }),
        rowWrite: await this.runtime.createSession(rowWriteModelBytes(), { threads: 1, deviceOutputs: [ROW_WRITE_OUTPUT] }),
      };
    })();
    return this.transfer;
  }
}
