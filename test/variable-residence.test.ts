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
