import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressReporter, type ProgressState } from '../src/train/progress.js';

const state = (step: number): ProgressState => ({ epoch: 1, epochs: 2, step, steps: 100, loss: 0.0123456, batchUtilization: 0.25, throughput: 321.4 });

test('without a TTY the progress is a plain line every N steps and at the end of the epoch', () => {
  const out: string[] = [];
  const progress = new ProgressReporter({ write: (t: string) => out.push(t), isTTY: false }, true, 40);
  for (let s = 1; s <= 100; s++) progress.update(state(s));
  progress.clear();
  assert.deepEqual(out, [40, 80, 100].map((s) => `epoch 1/2 step ${s}/100  loss 0.01235  util 25.0%  321 img/s\n`));
});

test('on a TTY one line is redrawn in place with a bar, and cleared at the end', () => {
  const out: string[] = [];
  const progress = new ProgressReporter({ write: (t: string) => out.push(t), isTTY: true, columns: 200 }, true);
  progress.update(state(1));
  progress.update(state(2)); // within the redraw interval: skipped
  progress.update(state(100)); // the last step is always drawn
  progress.clear();
  assert.equal(out.length, 3);
  assert.match(out[0]!, /^\r\x1b\[2Kepoch 1\/2 \[\.{24}\] 1\/100  loss 0\.01235  util 25\.0%  321 img\/s$/);
  assert.match(out[1]!, /\[#{24}\] 100\/100/);
  assert.equal(out[2], '\r\x1b[2K');
  const silent: string[] = [];
  new ProgressReporter({ write: (t: string) => silent.push(t), isTTY: true }, false).update(state(1));
  assert.deepEqual(silent, []);
});
