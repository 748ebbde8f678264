/**
 * docs/experiments/run.sh, the plan behind EXPERIMENTS.md, driven with a stand-in for `vqlab`: a
 * shell script that logs each invocation, "trains" a run by writing its result.json, recon.png and
 * a checkpoint, and on --collect writes the files a real collect writes. This checks the script's
 * own logic — which runs it asks for, in what order, that one failing run does not stop the plan,
 * and what it publishes — without hours of training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'docs', 'experiments', 'run.sh');

// The stand-in: `experiment KIND … --out DIR [--collect]`. A run's id is its --quantizers,
// --sizes and --seeds; FAIL_ON makes invocations containing that text fail.
const STUB = `#!/bin/sh
echo "$*" >> "$LOG"
out=$(echo "$*" | sed -n 's/.*--out \\([^ ]*\\).*/\\1/p')
case "$*" in *--plan*) echo "codebook-size (full preset): 3 runs into $out (1 completed, 0 interrupted, 2 not started)"; echo '  a-K1-s0  completed'; exit 0;; esac
case "$*" in *--collect*)
  mkdir -p "$out/figures/runs"
  # Like the real collect, keep the start time of a results.json already in --out.
  started=$(sed -n 's/.*"startedAt":"\\([^"]*\\)".*/\\1/p' "$out/results.json" 2>/dev/null || true)
  started=\${started:-started-by-$$}
  runs=''   # each finished run as the real collect writes it: its spec's id, and when it completed
  for r in "$out"/runs/*/result.json; do
    [ -f "$r" ] || continue
    id=\${r%/result.json}; id=\${id##*/}
    runs="\${runs:+$runs,}{\\"spec\\": {\\"id\\": \\"$id\\"}, \\"completedAt\\":\\"now\\"}"
  done
  echo "{\\"startedAt\\":\\"$started\\",\\"runs\\":[$runs]}" > "$out/results.json"
  echo 'id' > "$out/results.csv"; echo '<html>' > "$out/report.html"
  echo '<svg/>' > "$out/figures/utilization-vs-k.svg"
  sizes=",$(echo "$*" | sed -n 's/.*--sizes \\([^ ]*\\).*/\\1/p'),"
  for r in "$out"/runs/*/result.json; do   # a loss curve per finished run of this view's sizes
    [ -f "$r" ] || continue
    id=\${r%/result.json}; id=\${id##*/}; k=\${id##*-K}; k=\${k%%-*}   # no subprocess: collect runs after every job
    case "$sizes" in *",$k,"*) echo '<svg/>' > "$out/figures/runs/$id-loss.svg";; esac
  done
  exit 0;;
esac
if [ -n "\${FAIL_ON:-}" ]; then case "$*" in *"$FAIL_ON"*) echo "stub: failing" >&2; exit 1;; esac; fi
# With STUB_SLEEP, a training call lasts that long and logs how many calls were running at its start.
if [ -n "\${STUB_SLEEP:-}" ]; then
  mkdir -p "$LOG.active"; touch "$LOG.active/$$"
  echo "$(ls "$LOG.active" | wc -l)" >> "$LOG.concurrency"; sleep "$STUB_SLEEP"; rm "$LOG.active/$$"
fi
q=$(echo "$*" | sed -n 's/.*--quantizers \\([^ ]*\\).*/\\1/p' | sed 's/[:=,]/-/g')
k=$(echo "$*" | sed -n 's/.*--sizes \\([^ ]*\\).*/\\1/p')
s=$(echo "$*" | sed -n 's/.*--seeds \\([^ ]*\\).*/\\1/p')
b=$(echo "$*" | sed -n 's/.*--betas \\([^ ]*\\).*/-b\\1/p')
run="$out/runs/$q-K$k$b-s$s"
mkdir -p "$run/checkpoints"
echo '{}' > "$run/result.json"; echo 'png' > "$run/recon.png"; echo 'weights' > "$run/checkpoints/model.safetensors"
`;

interface Sandbox {
  readonly dir: string;
  readonly work: string;
  readonly publish: string;
  readonly log: string;
  run(args?: string[], env?: Record<string, string>): { stdout: string; stderr: string };
  invocations(): string[];
}

function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'vqlab-run-sh-'));
  const stub = join(dir, 'vqlab-stub.sh');
  writeFileSync(stub, STUB, { mode: 0o755 });
  const work = join(dir, 'work');
  const publish = join(dir, 'published');
  const log = join(dir, 'invocations.log');
  writeFileSync(log, '');
  return {
    dir, work, publish, log,
    run(args = [], env = {}) {
      const r = spawnSync('sh', [script, ...args], {
        encoding: 'utf8',
        env: { ...process.env, VQLAB: `sh ${stub}`, WORK: work, PUBLISH: publish, LOG: log, ...env },
      });
      assert.equal(r.status, 0, `run.sh ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
      return { stdout: r.stdout, stderr: r.stderr };
    },
    invocations: () => readFileSync(log, 'utf8').trim().split('\n').filter((l) => l !== ''),
  };
}

/** Every file under dir, relative, sorted. */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(dir, join(prefix, e.name)) : [join(prefix, e.name)]).sort();
}

/** The training invocations (not --collect), each checked to run on THREADS threads and shown without that flag. */
function trainingRuns(box: Sandbox, threads = 1): string[] {
  const runs = box.invocations().filter((l) => !l.includes('--collect'));
  for (const l of runs) assert.ok(l.endsWith(` --threads ${threads}`), `not on ${threads} thread(s): ${l}`);
  return runs.map((l) => l.slice(0, -` --threads ${threads}`.length));
}

test('run.sh asks for the whole plan in priority order, and one failing run does not stop it', () => {
  const box = sandbox();
  try {
    // One lane, so the order of the invocations is the queue's. Make the first VQ run at
    // K = 65,536 fail: the script reports it and goes on.
    const { stdout, stderr } = box.run([], { LANES: '1', FAIL_ON: '--sizes 65536 --quantizers vq --seeds 0' });
    assert.match(stdout, /run\.sh: all experiments done/);
    assert.match(stderr, /run\.sh: failed: vqlab experiment codebook-size .* --sizes 65536 --quantizers vq --seeds 0\n/);
    const runs = trainingRuns(box);
    const fashion = `--data fashion-mnist --epochs 3 --out ${box.work}/fashion-mnist`;
    // The heart of the claim first: SimVQ and VQ at K = 16,384, then 65,536.
    assert.deepEqual(runs.slice(0, 3), [
      `experiment codebook-size ${fashion} --sizes 16384 --quantizers simvq --seeds 0`,
      `experiment codebook-size ${fashion} --sizes 16384 --quantizers vq --seeds 0`,
      `experiment codebook-size ${fashion} --sizes 65536 --quantizers simvq --seeds 0`,
    ]);
    const index = (text: string): number => runs.findIndex((l) => l.endsWith(text));
    // The criteria's runs (VQ with SimVQ's init, seeds 1 and 2) come before EMA-VQ and Table 1.
    assert.ok(index('--sizes 65536 --quantizers vq:init=normal:initScale=0.125 --seeds 0') < index('--sizes 1024 --quantizers simvq --seeds 1'));
    assert.ok(index('--sizes 65536 --quantizers vq --seeds 2') < index('--sizes 1024 --quantizers ema --seeds 0'));
    // Then EMA-VQ, the MNIST ablation, Table 1 at K ≈ 1,024, the β sweep, Table 1 at ≈ 65,536.
    const at = (text: string): number => runs.findIndex((l) => l.includes(text));
    const order = [
      at('--sizes 65536 --quantizers ema --seeds 0'), at('experiment optimization'), at('--sizes 1024 --quantizers fsq --seeds 0'),
      at('experiment beta'), at('--sizes 65536 --quantizers fsq --seeds 0'), at(`--out ${box.work}/mnist-long`),
    ];
    assert.deepEqual([...order].sort((a, b) => a - b), order, `order: ${order.join(', ')}`);
    assert.ok(!order.includes(-1), `order: ${order.join(', ')}`);
    // Every run the issue lists, each asked for once: the K grid (4 sizes × 4 quantizers + 8 extra
    // seeds), Table 1's other 7 quantizers at 2 sizes, the MNIST ablation (a job per seed), the β
    // sweep (a job per seed and β), the 6 plateau runs, Table 1's 7 fair set-ups at 2 sizes, the
    // 3 budget runs and speech's Table 2 (5 quantizers at 4 sizes); last, SimVQ and its two rivals
    // at 2^16 until their utilization settles.
    assert.equal(runs.length, 16 + 8 + 14 + 3 + 15 + 6 + 14 + 3 + 20 + 1); // 100
    // The fair set-ups after the plateau runs, K ≈ 1,024 first, each option spelled as a variant, in
    // a run directory of their own.
    const fair = ['lfq:preNorm=batch', 'lfq:preNorm=batch:temperature=0.1', 'lfq:preNorm=batch:temperature=1', 'fsq:preNorm=batch', 'vq:codebookDim=8:cosine=true:init=unit', 'vq:kmeansIters=10:kmeansSamples=65536', 'simvq:optimize=C:frozenW=random'];
    const fairFashion = `--data fashion-mnist --epochs 3 --out ${box.work}/fashion-table1-fair`;
    const fairJobs = [1024, 65536].flatMap((k) => fair.map((q) => `experiment codebook-size ${fairFashion} --sizes ${k} --quantizers ${q} --seeds 0`));
    // Then speech, K = 4,096 (the operating point) first, SimVQ against VQ first there.
    const speech = `--data festvox-ru --model seanet --channels 16 --dim 8 --loss l1+mel --batch 8 --epochs 20 --out ${box.work}/speech`;
    const speechJobs = [4096, 1024, 16384, 65536].flatMap((k) => ['simvq', 'vq', 'ema', 'vq:deadCodeShare=0.16', 'fsq'].map((q) => `experiment codebook-size ${speech} --sizes ${k} --quantizers ${q} --seeds 0`));
    const beforeSpeech = -1 - speechJobs.length;
    assert.deepEqual(runs.slice(beforeSpeech - 3 - fairJobs.length, beforeSpeech - 3), fairJobs);
    // Then budget or ceiling: SimVQ at 2^16 in the grid's 3 epochs with a faster optimization.
    const budget = `experiment codebook-size --data fashion-mnist --epochs 3 --sizes 65536 --quantizers simvq --seeds 0`;
    assert.deepEqual(runs.slice(beforeSpeech - 3, beforeSpeech), [
      `${budget} --lr 0.001 --out ${box.work}/fashion-budget-lr`,
      `${budget} --beta 0.1 --out ${box.work}/fashion-budget-beta`,
      `${budget} --optimizer-preset simvq-paper --warmup 140 --cosine --out ${box.work}/fashion-budget-paper`,
    ]);
    assert.deepEqual(runs.slice(beforeSpeech, -1), speechJobs);
    assert.equal(new Set(runs).size, runs.length, 'a job asked for twice');
    assert.match(runs.at(-1)!, /--sizes 65536 --quantizers simvq,vq:deadCodeShare=0.16,fsq --seeds 0 --epochs 40 --until-settled 2 --diagnose-every 1 --out .*\/fashion-long$/);
    assert.equal(index('--sizes 65536 --quantizers lfq --seeds 0') > 0, true, 'LFQ at 2^16 is in Table 1');
    for (const s of [0, 1, 2]) for (const b of ['0.1', '0.25', '0.5', '1', '2']) assert.ok(runs.includes(`experiment beta --epochs 10 --seeds ${s} --betas ${b} --out ${box.work}/mnist-beta`), `β ${b}, seed ${s}`);
    for (const view of ['mnist-optimization', 'mnist-beta', 'mnist-long', 'fashion-long']) assert.ok(runs.some((l) => l.includes(`--out ${box.work}/${view}`)), view);
    // The failed run left nothing; every other run of the grid finished.
    const finished = readdirSync(join(box.work, 'fashion-mnist', 'runs'));
    assert.ok(!finished.includes('vq-K65536-s0'));
    assert.ok(finished.includes('simvq-K65536-s0') && finished.includes('vq-K65536-s2'));
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
});

test('run.sh trains two jobs at once by default, each job exactly once, THREADS threads a run, and the last run alone on all', () => {
  const box = sandbox();
  try {
    box.run([], { STUB_SLEEP: '0.05', THREADS: '2' });
    // The queue on 2 threads a run; then, alone, the long Fashion-MNIST run on both lanes' 4.
    const all = box.invocations().filter((l) => !l.includes('--collect'));
    assert.match(all.at(-1)!, /--out .*\/fashion-long --threads 4$/);
    const runs = trainingRuns({ ...box, invocations: () => all.slice(0, -1) }, 2);
    assert.equal(runs.length, 99, 'the whole queue before the last run');
    assert.equal(new Set(runs).size, runs.length, 'a job trained twice');
    const concurrency = readFileSync(`${box.log}.concurrency`, 'utf8').trim().split('\n').map(Number);
    assert.equal(Math.max(...concurrency), 2, 'two training calls at once, never more');
    assert.deepEqual(readdirSync(box.publish).sort(), ['fashion-budget-beta', 'fashion-budget-lr', 'fashion-budget-paper', 'fashion-codebook-size', 'fashion-long', 'fashion-table1', 'fashion-table1-fair', 'mnist-beta', 'mnist-long', 'mnist-optimization', 'speech-table2']);
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
});

test('run.sh publish copies finished views without checkpoints, drops stale figures, and skips empty views', () => {
  const box = sandbox();
  try {
    // Two finished Fashion-MNIST runs, K = 4,096 outside Table 1's sizes; nothing on MNIST.
    for (const id of ['simvq-K1024-s0', 'simvq-K4096-s0']) {
      const run = join(box.work, 'fashion-mnist', 'runs', id);
      mkdirSync(join(run, 'checkpoints'), { recursive: true });
      writeFileSync(join(run, 'result.json'), '{}');
      writeFileSync(join(run, 'recon.png'), 'png');
      writeFileSync(join(run, 'checkpoints', 'model.safetensors'), 'weights');
    }
    // What a lane's job writes into the shared run directory (its own slice of a view), and a
    // figure an older collect drew under a name no longer used: neither may be published.
    writeFileSync(join(box.work, 'fashion-mnist', 'results.json'), '{"slice":true}');
    mkdirSync(join(box.work, '.views', 'fashion-codebook-size', 'figures'), { recursive: true });
    writeFileSync(join(box.work, '.views', 'fashion-codebook-size', 'figures', 'train-utilization-vq:init=normal.svg'), '<svg/>');
    box.run(['publish']);
    assert.deepEqual(box.invocations().filter((l) => !l.includes('--collect')), [], 'publish trains nothing');
    assert.deepEqual(readdirSync(box.publish).sort(), ['fashion-codebook-size', 'fashion-table1']);
    assert.deepEqual(files(join(box.publish, 'fashion-codebook-size')), [
      'figures/runs/simvq-K1024-s0-loss.svg', 'figures/runs/simvq-K4096-s0-loss.svg', 'figures/utilization-vs-k.svg',
      'report.html', 'results.csv', 'results.json', 'runs/simvq-K1024-s0/recon.png', 'runs/simvq-K4096-s0/recon.png',
    ]);
    assert.match(readFileSync(join(box.publish, 'fashion-codebook-size', 'results.json'), 'utf8'), /completedAt/, 'the collected view, not a slice');
    // A view shows only its own runs' reconstructions, though it shares the run directory.
    assert.deepEqual(files(join(box.publish, 'fashion-table1')).filter((f) => f.startsWith('runs/')), ['runs/simvq-K1024-s0/recon.png']);
    // A second publish replaces the view whole, leaving no temporary directory behind, and keeps
    // the view's start time.
    const published = (): string => readFileSync(join(box.publish, 'fashion-codebook-size', 'results.json'), 'utf8');
    const started = (JSON.parse(published()) as { startedAt: string }).startedAt;
    writeFileSync(join(box.publish, 'fashion-codebook-size', 'extra.txt'), 'old');
    box.run(['publish']);
    assert.ok(!existsSync(join(box.publish, 'fashion-codebook-size', 'extra.txt')));
    assert.equal((JSON.parse(published()) as { startedAt: string }).startedAt, started);
    assert.deepEqual(readdirSync(box.publish).sort(), ['fashion-codebook-size', 'fashion-table1']);
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
});

test('run.sh publish never replaces a published view by one that lacks some of its runs', () => {
  const box = sandbox();
  try {
    const finish = (id: string): void => {
      const run = join(box.work, 'fashion-mnist', 'runs', id);
      mkdirSync(run, { recursive: true });
      writeFileSync(join(run, 'result.json'), '{}');
    };
    finish('simvq-K1024-s0');
    finish('vq-K1024-s0');
    box.run(['publish']);
    const published = join(box.publish, 'fashion-table1', 'results.json');
    const before = readFileSync(published, 'utf8');
    assert.match(before, /"id": "vq-K1024-s0"/);
    // Another machine's work directory, without one of the published runs: publish keeps the
    // committed view whole and says why in one line per view.
    rmSync(join(box.work, 'fashion-mnist', 'runs', 'vq-K1024-s0'), { recursive: true });
    finish('ema-K1024-s0');
    const { stderr } = box.run(['publish']);
    assert.equal(readFileSync(published, 'utf8'), before);
    assert.match(stderr, new RegExp(`run\\.sh: kept ${box.publish}/fashion-table1 as it is: ${box.work}/fashion-mnist lacks 1 of its runs \\(the first: vq-K1024-s0\\); train them there, or delete ${box.publish}/fashion-table1 to publish the view without them\\n`));
    // With the run back, the view grows to hold the new one as well.
    finish('vq-K1024-s0');
    box.run(['publish']);
    assert.match(readFileSync(published, 'utf8'), /"id": "ema-K1024-s0"/);
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
});

test('run.sh only VIEW trains that view\'s jobs alone, in the queue\'s order, and publishes it; an unknown view is refused', () => {
  const box = sandbox();
  try {
    const { stdout } = box.run(['only', 'speech-table2'], { LANES: '1' });
    assert.match(stdout, /run\.sh: speech-table2 done/);
    const runs = trainingRuns(box);
    const speech = `--data festvox-ru --model seanet --channels 16 --dim 8 --loss l1+mel --batch 8 --epochs 20 --out ${box.work}/speech`;
    assert.deepEqual(runs, [4096, 1024, 16384, 65536].flatMap((k) => ['simvq', 'vq', 'ema', 'vq:deadCodeShare=0.16', 'fsq'].map((q) => `experiment codebook-size ${speech} --sizes ${k} --quantizers ${q} --seeds 0`)));
    assert.deepEqual(readdirSync(box.publish), ['speech-table2']);

    const longOnly = sandbox();
    try {
      longOnly.run(['only', 'fashion-long']);
      assert.deepEqual(trainingRuns(longOnly, 2).map((l) => l.replace(/.*--out /, '--out ')), [`--out ${longOnly.work}/fashion-long`], 'the long view is its one run, on all the lanes\' threads');
    } finally {
      rmSync(longOnly.dir, { recursive: true, force: true });
    }

    for (const [args, message] of [[['only'], /^run\.sh: only needs a view's name; run\.sh status lists them\n$/], [['only', 'speech'], /^run\.sh: no view named 'speech'; run\.sh status lists them\n$/]] as const) {
      const r = spawnSync('sh', [script, ...args], { encoding: 'utf8', env: { ...process.env, VQLAB: 'false', WORK: box.work, PUBLISH: box.publish } });
      assert.equal(r.status, 2);
      assert.match(r.stderr, message);
    }
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
});

test('run.sh status prints one line of counts per view and trains nothing', () => {
  const box = sandbox();
  try {
    const { stdout } = box.run(['status']);
    assert.deepEqual(stdout.trim().split('\n').map((l) => l.split(':')[0]), ['fashion-codebook-size', 'fashion-table1', 'fashion-table1-fair', 'mnist-optimization', 'mnist-beta', 'mnist-long', 'fashion-budget-lr', 'fashion-budget-beta', 'fashion-budget-paper', 'fashion-long', 'speech-table2']);
    for (const line of stdout.trim().split('\n')) assert.match(line, /^[a-z0-9-]+: 1 completed, 0 interrupted, 2 not started$/);
    assert.ok(box.invocations().every((l) => l.endsWith('--plan')), 'status only plans');
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
});
