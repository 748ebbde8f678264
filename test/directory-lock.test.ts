/**
 * The run-directory lock: one live owner at a time, stale locks (owner exited, or pid reused by a
 * later process) taken over, and an experiment refusing a run another process is training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDirectory } from '../src/persistence/directory-lock.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'vqlab-lock-'));
}

test('a directory has one owner at a time; releasing frees it', () => {
  const dir = tmp();
  try {
    const release = lockDirectory(dir, 'run a');
    assert.match(readFileSync(join(dir, '.lock'), 'utf8'), new RegExp(`^${process.pid}( \\d+)?\\n$`));
    assert.throws(() => lockDirectory(dir, 'run a'), new RegExp(`run a: process ${process.pid} is already working in .*; wait for it to finish or stop it \\(if it is not running, delete .*\\.lock\\)`));
    release();
    assert.ok(!existsSync(join(dir, '.lock')));
    lockDirectory(dir, 'run a')();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock whose owner has exited is taken over', () => {
  const dir = tmp();
  try {
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, '.lock'), `${exited.stdout}\n`);
    const release = lockDirectory(dir, 'run b');
    assert.match(readFileSync(join(dir, '.lock'), 'utf8'), new RegExp(`^${process.pid}`));
    release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a live owner blocks; the same pid with another start time (a reused pid) does not', async () => {
  const dir = tmp();
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    const pid = child.pid!;
    writeFileSync(join(dir, '.lock'), `${pid}\n`);
    assert.throws(() => lockDirectory(dir, 'run c'), new RegExp(`process ${pid} is already working`));
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    writeFileSync(join(dir, '.lock'), `${pid} ${start}\n`);
    assert.throws(() => lockDirectory(dir, 'run c'), /is already working/, 'the recorded start time matches: still the owner');
    writeFileSync(join(dir, '.lock'), `${pid} ${Number(start) - 1}\n`);
    lockDirectory(dir, 'run c')();
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
