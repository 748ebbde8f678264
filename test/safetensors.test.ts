import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type NamedTensor } from '../src/persistence/safetensors.js';

const tensors = (): Map<string, NamedTensor> =>
  new Map([
    ['b', { shape: [2], data: Float32Array.of(1, 2) }],
    ['a', { shape: [1, 1], data: Float32Array.of(3) }],
  ]);

test('the header is byte-exact: u64 LE length, JSON sorted by name, space padding to 8 bytes, LE F32 data', () => {
  const bytes = encodeSafetensors(tensors(), { k: 'v' });
  const json = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
  assert.equal(json.length, 135);
  // 8 + 135 = 143 → one space makes the data start at byte 144, a multiple of 8.
  const n = 136;
  assert.deepEqual([...bytes.subarray(0, 8)], [n, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(Buffer.from(bytes.subarray(8, 8 + n)).toString('latin1'), `${json} `);
  assert.equal(Buffer.from(bytes.subarray(8 + n)).toString('hex'), '00004040' + '0000803f' + '00000040'); // 3, 1, 2
  assert.equal(bytes.length, 8 + n + 12);
});

test('encode → decode round-trips values, shapes and metadata, including empty and large tensors', () => {
  const big = new Float32Array(10_001).map((_, i) => Math.sin(i) * 1e3);
  const input = new Map<string, NamedTensor>([
    ...tensors(),
    ['big.weight', { shape: [73, 137], data: big }],
    ['scalar', { shape: [], data: Float32Array.of(-0.5) }],
    ['empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  const { tensors: out, metadata } = decodeSafetensors(encodeSafetensors(input, { epoch: '3', note: 'ü ✓' }), 'x.safetensors');
  assert.deepEqual(metadata, { epoch: '3', note: 'ü ✓' });
  assert.deepEqual([...out.keys()].sort(), [...input.keys()].sort());
  for (const [name, t] of input) {
    assert.deepEqual(out.get(name)!.shape, [...t.shape], name);
    assert.deepEqual(out.get(name)!.data, t.data, name);
  }
  // Without metadata there is no __metadata__ key at all.
  const plain = encodeSafetensors(tensors());
  assert.ok(!Buffer.from(plain).toString('latin1').includes('__metadata__'));
  assert.equal((8 + Number(new DataView(plain.buffer).getBigUint64(0, true))) % 8, 0);
});

test('corrupt files are refused with one-line reasons', () => {
  const good = encodeSafetensors(tensors(), { k: 'v' });
  const expectError = (bytes: Uint8Array, pattern: RegExp): void => {
    assert.throws(() => decodeSafetensors(bytes, 'm.safetensors'), (err: unknown) => {
      assert.ok(err instanceof SafetensorsError);
      assert.match(err.message, pattern);
      assert.match(err.message, /^m\.safetensors: /);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  };
  expectError(good.subarray(0, 5), /too short/);
  const hugeLength = good.slice();
  new DataView(hugeLength.buffer).setBigUint64(0, 1n << 40n, true);
  expectError(hugeLength, /header length \d+ exceeds/);
  const badJson = good.slice();
  badJson[8] = 0x5b; // '[' instead of '{' breaks the JSON
  expectError(badJson, /not valid JSON|not a JSON object/);
  expectError(good.subarray(0, good.length - 4), /outside the|cover/);
  const extra = new Uint8Array(good.length + 4);
  extra.set(good);
  expectError(extra, /trailing garbage/);
  const f16 = Buffer.from(Buffer.from(good).toString('latin1').replace('"dtype":"F32","shape":[1,1]', '"dtype":"F16","shape":[1,1]'), 'latin1');
  expectError(f16, /dtype "F16"; vqlab reads only F32/);
  const wrongSpan = Buffer.from(Buffer.from(good).toString('latin1').replace('"shape":[2]', '"shape":[3]'), 'latin1');
  expectError(wrongSpan, /spans 8 bytes but F32 shape \[3\] needs 12/);
});
