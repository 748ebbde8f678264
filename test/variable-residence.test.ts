/**
 * The store's side of training state held on a device (src/runtime/variables.ts): a host copy
 * that a device made stale cannot be read, `sync` downloads exactly the stale variables, and host
 * writes drop the device copies. The device here is a map of arrays, so this runs on every
 * machine; test/resident-state.test.ts checks `ResidentState` on WebGPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VariableStore, type DeviceResidence, type Variable } from '../src/runtime/variables.js';

/** A device that holds a copy per variable and records what the store asked of it. */
class ArrayDevice implements DeviceResidence {
  readonly copies = new Map<Variable, Float32Array>();
  readonly downloaded: string[] = [];
  readonly dropped: string[] = [];

  constructor(private readonly store: VariableStore) {}

  /** A "step" on the device: the variable's value becomes `next` there, stale on the host. */
  step(variable: Variable, next: Float32Array): void {
    this.copies.set(variable, next);
    this.store.markStaleOnHost([variable], true);
  }

  deviceCopy(): Promise<never> {
    return Promise.reject(new Error('this device holds arrays, not device tensors; no session can be fed from it'));
  }

  async download(variables: readonly Variable[]): Promise<void> {
    for (const v of variables) {
      v.value = this.copies.get(v)!.slice();
      this.store.markStaleOnHost([v], false);
      this.downloaded.push(v.name);
    }
  }

  hostWrote(variables: readonly Variable[]): void {
    for (const v of variables) {
      this.copies.delete(v);
      this.dropped.push(v.name);
    }
    this.store.markStaleOnHost(variables, false);
  }

  /** Without a step, the device holds the host's value (as after an upload). */
  hold(variable: Variable): void {
    this.copies.set(variable, variable.value.slice());
  }

  holds(variable: Variable): boolean {
    return this.copies.has(variable);
  }

  readonly rowWrites: string[] = [];

  writeRows(variable: Variable, rows: readonly number[], values: Float32Array): void {
    const copy = this.copies.get(variable)!;
    const width = copy.length / variable.shape[0]!;
    rows.forEach((r, i) => copy.set(values.subarray(i * width, (i + 1) * width), r * width));
    this.rowWrites.push(`${variable.name}[${rows.join(',')}]`);
  }
}

function storeOnDevice(): { store: VariableStore; device: ArrayDevice; a: Variable; b: Variable } {
  const store = new VariableStore(0);
  const a = store.variable('a', 'param', [2], { kind: 'constant', value: 1 });
  const b = store.variable('b', 'state', [2], { kind: 'constant', value: 2 });
  const device = new ArrayDevice(store);
  store.attachResidence(device);
  return { store, device, a, b };
}

test('a host copy made stale by the device cannot be read until a sync downloads it', async () => {
  const { store, device, a, b } = storeOnDevice();
  device.step(a, Float32Array.of(5, 6));
  assert.throws(() => a.value, /variable 'a' is held on the GPU between training steps .*await store\.sync\(\)/);
  assert.throws(() => store.snapshot(), /variable 'a'/);
  assert.deepEqual(Array.from(b.value), [2, 2], 'a variable the device did not change stays readable');
  await store.sync([b]);
  assert.deepEqual(device.downloaded, [], 'nothing stale among those asked for: nothing downloaded');
  await store.sync();
  assert.deepEqual(device.downloaded, ['a']);
  assert.deepEqual(Array.from(a.value), [5, 6]);
  await store.sync();
  assert.deepEqual(device.downloaded, ['a'], 'a synced value is not downloaded again');
});

test('host writes and checkpoint loads drop the device copies, so the next step uploads them', async () => {
  const { store, device, a, b } = storeOnDevice();
  device.step(a, Float32Array.of(5, 6));
  device.step(b, Float32Array.of(7, 8));
  await store.sync([a]);
  a.value.fill(9);
  store.hostWrote([a]);
  assert.deepEqual(device.dropped, ['a']);
  assert.ok(!device.copies.has(a));
  store.load(new Map([['b', { shape: [2], data: Float32Array.of(3, 4) }]]), { allowMissing: true });
  assert.deepEqual(device.dropped, ['a', 'b']);
  assert.deepEqual(Array.from(b.value), [3, 4]);
  assert.deepEqual(Array.from(a.value), [9, 9]);
});

test('one device at a time, and it is detached only with every host value current', async () => {
  const { store, device, a } = storeOnDevice();
  assert.throws(() => store.attachResidence(new ArrayDevice(store)), /already held on a device by another training program; release that program first/);
  device.step(a, Float32Array.of(5, 6));
  assert.throws(() => store.attachResidence(undefined), /would lose the current value of 'a'; sync the store first/);
  await store.sync();
  store.attachResidence(undefined);
  store.attachResidence(new ArrayDevice(store));
});

test('writeRows writes the rows where the value lives: device rows only while the host is stale, both when both are current', async () => {
  const store = new VariableStore(0);
  const table = store.variable('table', 'param', [4, 2], { kind: 'constant', value: 0 });
  const usage = store.variable('usage', 'state', [4], { kind: 'constant', value: 1 });
  const device = new ArrayDevice(store);
  store.attachResidence(device);
  // Stale on the host: the rows go to the device copy alone, and a sync brings them with the rest.
  device.step(table, Float32Array.of(1, 1, 2, 2, 3, 3, 4, 4));
  store.writeRows(table, [2, 0], Float32Array.of(20, 21, 0.5, 0.25));
  assert.deepEqual(device.rowWrites, ['table[2,0]']);
  assert.ok(store.isStaleOnHost(table));
  await store.sync([table]);
  assert.deepEqual(Array.from(table.value), [0.5, 0.25, 2, 2, 20, 21, 4, 4]);
  // Current on both sides: both get the rows, and neither needs a transfer.
  device.hold(usage);
  store.writeRows(usage, [3], Float32Array.of(9));
  assert.deepEqual(Array.from(usage.value), [1, 1, 1, 9]);
  assert.deepEqual(Array.from(device.copies.get(usage)!), [1, 1, 1, 9]);
  assert.deepEqual(device.downloaded, ['table']);
  // Every row: the host value is whole and current, and the device copy is dropped (the next step uploads it).
  device.step(table, new Float32Array(8));
  store.writeRows(table, [3, 2, 1, 0], Float32Array.of(7, 7, 6, 6, 5, 5, 4, 4));
  assert.ok(!store.isStaleOnHost(table) && !device.holds(table));
  assert.deepEqual(Array.from(table.value), [4, 4, 5, 5, 6, 6, 7, 7]);
  assert.deepEqual(device.dropped, ['table']);
});

test('writeRows without a device writes the host value, and refuses rows it cannot place', () => {
  const store = new VariableStore(0);
  const table = store.variable('table', 'param', [3, 2], { kind: 'constant', value: 0 });
  store.writeRows(table, [1], Float32Array.of(8, 9));
  assert.deepEqual(Array.from(table.value), [0, 0, 8, 9, 0, 0]);
  assert.throws(() => store.writeRows(table, [3], Float32Array.of(1, 1)), /^Error: writeRows: row 3 is not one of the 3 rows of 'table'; rows are 0 … 2$/);
  assert.throws(() => store.writeRows(table, [1, 1], Float32Array.of(1, 1, 2, 2)), /^Error: writeRows: row 1 of 'table' is given twice; give each row once$/);
  assert.throws(() => store.writeRows(table, [0], Float32Array.of(1)), /^Error: writeRows: 1 rows of 'table' take 2 values, got 1$/);
  store.writeRows(table, [], new Float32Array(0));
  assert.deepEqual(Array.from(table.value), [0, 0, 8, 9, 0, 0]);
});
