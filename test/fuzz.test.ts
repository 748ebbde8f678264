import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../fuzz/run.js';
import { fuzzTargets } from '../fuzz/targets.js';

// The quick pass of the fuzz harness (`npm run fuzz` runs longer ones): every parser of user
// files gets 2,000 seeded mutations of valid files, each of which must end in a valid result
// or a one-line refusal of the parser's own error type, quickly and in bounded memory.
const CASES = 2000;
/** Targets whose decoder is too slow for the full quick pass: Ogg Vorbis (WebAssembly, ~16 ms a case) runs a quarter of it. */
const FEWER_CASES: Readonly<Record<string, number>> = { 'ogg-vorbis': 500 };

for (const target of fuzzTargets()) {
  const cases = FEWER_CASES[target.name] ?? CASES;
  test(`fuzz: ${cases} mutated ${target.name} files end in a result or a one-line refusal`, async () => {
    const { report, failures } = await runFuzz(target, { cases, seed: 1 });
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failing cases; replay one with npm run fuzz -- --seed 1 --target ${target.name} --case N`);
    assert.equal(report.valid + report.refused, cases);
    // The mutations reach past the first check: some files stay valid, most are refused.
    assert.ok(report.valid > 0 && report.refused > 0, JSON.stringify(report));
  });
}
