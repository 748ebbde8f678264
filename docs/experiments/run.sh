#!/bin/sh
# The experiments behind EXPERIMENTS.md, in the order the claim needs them. Every step is
# resumable: rerunning this script skips completed runs and resumes an interrupted one from its
# last checkpoint (saved every 100 steps), so it can be stopped at any time and started again in a
# later sitting. After each job the finished runs are collected into docs/experiments/NAME/
# (results.json, results.csv, report.html, figures, reconstruction grids; no checkpoints), ready to
# commit.
#
#   sh docs/experiments/run.sh            # everything (many hours on 2 cores)
#   sh docs/experiments/run.sh only VIEW  # only the jobs that train into VIEW's work directory
#   sh docs/experiments/run.sh publish    # only collect what has finished
#   sh docs/experiments/run.sh status     # how many runs of each view are done
#
# `only` takes a view's name as `status` prints it (speech-table2, say); views that share a work
# directory (fashion-codebook-size and fashion-table1) train together.
#
# Two lanes train at once from one queue, each run on one ORT thread: on 2 cores two such runs
# trained 407 img/s together where one run on 2 threads trained 314 (medians of 3; reference MNIST
# model, SimVQ, K = 1,024, one epoch). At K = 65,536 a run took 47 minutes in a lane and 29 alone
# on 2 threads, so the lanes finish 1.2× the runs per hour there. The lanes take jobs in the order
# below, no two jobs share a run, and publishing is serialized (flock). The last run, hours long,
# runs alone on all the lanes' threads.
#
# Needs: npm run build; Fashion-MNIST (apt-get install -y dataset-fashion-mnist); festvox-ru for the
# speech view (apt-get install -y festvox-ru); flock (util-linux).
# VQLAB overrides the command (default: node dist/src/cli/main.js); WORK where runs train
# (default: experiments/, which git ignores); PUBLISH where finished views go (default:
# docs/experiments/); LANES the runs trained at once (default 2); THREADS the ORT threads per run
# (default 1).
set -eu
cd "$(dirname "$0")/../.."
VQLAB=${VQLAB:-node dist/src/cli/main.js}
WORK=${WORK:-experiments}
PUBLISH=${PUBLISH:-docs/experiments}
LANES=${LANES:-2}
THREADS=${THREADS:-1}

# Fashion-MNIST, 3 epochs (1,404 steps of 128), reference settings. One directory holds every run;
# the tables are views of it.
FASHION="--data fashion-mnist --epochs 3 --out $WORK/fashion-mnist"
VQ_NORMAL='vq:init=normal:initScale=0.125'   # VQ started like SimVQ's C: N(0, 1/d), d = 64
GRID_Q="simvq,vq,$VQ_NORMAL,ema"
GRID="codebook-size $FASHION --sizes 1024,4096,16384,65536 --quantizers $GRID_Q --seeds 0,1,2 --replicate-sizes 1024,65536 --replicate-variants simvq,vq"
# Dead-code replacement by share of the uniform usage M/K (M = 6,272 latents a batch): 0.16 is the
# usual threshold of 1 use per step at K = 1,024, and means the same at 65,536, where a threshold of
# 1 would exceed M/K ≈ 0.1 and re-seed the whole codebook every step (codebook-options.ts).
TABLE1_EXTRA="fsq,lfq,vq:kmeansIters=10,vq:deadCodeShare=0.16,vq:rotationTrick=true,vq:codebookDim=8:cosine=true,simvq:deadCodeShare=0.16"
TABLE1="codebook-size $FASHION --sizes 1024,65536 --quantizers vq,$VQ_NORMAL,ema,simvq,$TABLE1_EXTRA --seeds 0"
# Table 1's collapsed baselines again with fair set-ups (issue 26), each beside its untuned row:
# LFQ and FSQ behind a per-channel batch normalization (preNorm=batch; the reference encoder's
# outputs share an offset that leaves LFQ 4 codes), LFQ at τ = 0.01 (its default), 0.1 and 1; the
# factorized cosine codes started at unit norm (init=unit, not U(±1/K)); k-means from 65,536
# encoder outputs drawn across the training set (kmeansSamples), one per code at K = 65,536 where
# one batch holds 6,272; SimVQ's "C only" with a frozen random W (the paper's first scenario) beside
# the W = I of plain VQ. They train in a run directory of their own, so the view publishes on a
# machine that lacks Table 1's runs; EXPERIMENTS.md sets each beside its untuned row of fashion-table1.
TABLE1_FAIR_Q="lfq:preNorm=batch,lfq:preNorm=batch:temperature=0.1,lfq:preNorm=batch:temperature=1,fsq:preNorm=batch,vq:codebookDim=8:cosine=true:init=unit,vq:kmeansIters=10:kmeansSamples=65536,simvq:optimize=C:frozenW=random"
FASHION_FAIR="--data fashion-mnist --epochs 3 --out $WORK/fashion-table1-fair"
TABLE1_FAIR="codebook-size $FASHION_FAIR --sizes 1024,65536 --quantizers $TABLE1_FAIR_Q --seeds 0"

# MNIST (bundled digits), 10 epochs, 3 seeds.
ABLATION_Q="vq,$VQ_NORMAL"
ABLATION="optimization --epochs 10 --seeds 0,1,2 --quantizers $ABLATION_Q --out $WORK/mnist-optimization"
BETAS="0.1 0.25 0.5 1 2"
BETA="beta --epochs 10 --seeds 0,1,2 --out $WORK/mnist-beta"
# One run per quantizer at K = 1,024 until its utilization stops rising (at most 100 epochs). SimVQ
# first: its utilization still rose at epoch 10 of the ablation, so it is likely the longest run.
LONG_Q="simvq,vq,ema,fsq,lfq,$VQ_NORMAL"
LONG="codebook-size --sizes 1024 --quantizers $LONG_Q --seeds 0 --epochs 100 --until-plateau 5 --out $WORK/mnist-long"
# SimVQ at K = 65,536 on Fashion-MNIST until its training utilization settles: it changes by less
# than half a point, up or down, in each of 2 epochs (at most 40 epochs; 3 leave it climbing), then
# the same for its two rivals at that size, VQ with dead-code replacement and FSQ. Each run appends
# training-set code usage and W's singular values to its diagnostics.jsonl every epoch. About 10 to
# 20 minutes an epoch alone on 2 threads.
FASHION_LONG_Q="simvq,vq:deadCodeShare=0.16,fsq"
FASHION_LONG="codebook-size --data fashion-mnist --sizes 65536 --quantizers $FASHION_LONG_Q --seeds 0 --epochs 40 --until-settled 2 --diagnose-every 1 --out $WORK/fashion-long"
# Budget or ceiling: SimVQ at K = 65,536 in the grid's 1,404 steps with a larger learning rate, a
# smaller β, and the paper's optimizer (Adam lr 1e-4, betas 0.5, 0.9) with a 10 % warm-up and cosine
# decay. A run that reaches the settled run's utilization in these steps says the grid's 3 epochs
# were too few for the reference optimizer, not that SimVQ stops there.
BUDGET="codebook-size --data fashion-mnist --epochs 3 --sizes 65536 --quantizers simvq --seeds 0"
BUDGET_LR="$BUDGET --lr 0.001 --out $WORK/fashion-budget-lr"
BUDGET_BETA="$BUDGET --beta 0.1 --out $WORK/fashion-budget-beta"
BUDGET_PAPER="$BUDGET --optimizer-preset simvq-paper --warmup 140 --cosine --out $WORK/fashion-budget-paper"

# SimVQ's Table 2 at vqlab's scale (issue 23): speech tokenizers on festvox-ru (589 training and 31
# held-out utterances of one speaker, 16 kHz; apt-get install -y festvox-ru), SEANet with 16
# channels at the first conv (the shipped festvox-ru-simvq-4k's width; hop 320: 50 tokens/s, one
# codebook) and 8-dimensional codes, 1-second crops, batch 8, 0.1 × L1 + the multi-resolution
# log-mel loss (--loss l1+mel), 20 epochs (1,460 steps), seed 0: VQ, EMA-VQ, VQ with dead-code
# replacement (same share of the uniform usage as Table 1; M = 400 latents a step), FSQ (levels for
# about K codes) and SimVQ, at K = 1,024 to 65,536 (20 runs). Why d = 8: in 4-epoch probes at
# K = 4,096 (docs/experiments/speech-probes/, EXPERIMENTS.md) plain SimVQ at the default d = 64
# kept an epoch's perplexity at 44.3 or below after the first epoch and at d = 8 reached 94.5–118.9,
# while VQ stayed at 6.9 or below at both. Every quantizer gets the same d. Compute: an epoch of 73
# steps took 80–130 s on one thread beside other work, so a run trains in about 30–40 minutes, plus
# a minute or two for the held-out utterances (STOI included) and the usage count over the
# training set: about 12 hours in one lane, 6–7 with two (`sh docs/experiments/run.sh only
# speech-table2`).
SPEECH="--data festvox-ru --model seanet --channels 16 --dim 8 --loss l1+mel --batch 8 --epochs 20 --out $WORK/speech"
SPEECH_Q="simvq,vq,ema,vq:deadCodeShare=0.16,fsq"
TABLE2="codebook-size $SPEECH --sizes 1024,4096,16384,65536 --quantizers $SPEECH_Q --seeds 0"

out_of() { # out_of EXPERIMENT-ARGS…: the --out directory they name
  echo "$@" | sed -n 's/.*--out \([^ ]*\).*/\1/p'
}

publish() { # publish NAME EXPERIMENT-ARGS…: collect the finished runs of a view into $PUBLISH/NAME
  name=$1; shift
  src=$(out_of "$@")
  ls "$src"/runs/*/result.json >/dev/null 2>&1 || return 0   # nothing finished yet
  # The view is collected in a directory of its own that sees the runs through a link, so a lane
  # finishing a job (which writes its own results into $src) cannot mix into what is published.
  view=$WORK/.views/$name
  rm -rf "$view" && mkdir -p "$view" && ln -s "$(cd "$src" && pwd)/runs" "$view/runs"
  # The published results.json carries the view's start time over to the new one.
  [ ! -f "$PUBLISH/$name/results.json" ] || cp "$PUBLISH/$name/results.json" "$view/"
  # shellcheck disable=SC2046
  $VQLAB experiment $(echo "$@" | sed "s|--out [^ ]*|--out $view|") --collect </dev/null >/dev/null 2>&1 || return 0
  grep -q '"completedAt"' "$view/results.json" || return 0   # none of this view's runs finished
  # A published view is only ever replaced by one holding each of its runs: on a machine that lacks
  # some of them (another sitting's work directory), publishing would otherwise drop committed rows.
  if [ -f "$PUBLISH/$name/results.json" ]; then
    lost=$(grep -o '"id": "[^"]*"' "$PUBLISH/$name/results.json" | while IFS= read -r id; do
      grep -qF "$id" "$view/results.json" || echo "$id"; done | sed 's/"id": "\(.*\)"/\1/' | tr '\n' ' ')
    if [ -n "$lost" ]; then
      set -- $lost
      echo "run.sh: kept $PUBLISH/$name as it is: $src lacks $# of its runs (the first: $1); train them there, or delete $PUBLISH/$name to publish the view without them" >&2
      return 0
    fi
  fi
  dst=$PUBLISH/$name
  rm -rf "$dst.tmp" && mkdir -p "$dst.tmp"
  cp "$view/results.json" "$view/results.csv" "$view/report.html" "$dst.tmp/"
  cp -r "$view/figures" "$dst.tmp/"
  for curve in "$view"/figures/runs/*-loss.svg; do   # one per run of this view
    [ -f "$curve" ] || continue
    run=$(basename "$curve" -loss.svg)
    [ -f "$src/runs/$run/recon.png" ] || continue
    mkdir -p "$dst.tmp/runs/$run" && cp "$src/runs/$run/recon.png" "$dst.tmp/runs/$run/"
  done
  rm -rf "$dst" && mv "$dst.tmp" "$dst"
}

views() { # the views, one per line: NAME EXPERIMENT-ARGS…
  printf '%s\n' "fashion-codebook-size $GRID" "fashion-table1 $TABLE1" "fashion-table1-fair $TABLE1_FAIR" \
    "mnist-optimization $ABLATION" "mnist-beta $BETA" "mnist-long $LONG" \
    "fashion-budget-lr $BUDGET_LR" "fashion-budget-beta $BUDGET_BETA" "fashion-budget-paper $BUDGET_PAPER" "fashion-long $FASHION_LONG" \
    "speech-table2 $TABLE2"
}

publish_all() { # publish_all [OUT]: every view, or only the views of the runs in OUT
  only=${1:-}
  mkdir -p "$WORK"
  (
    flock 9
    views | while IFS= read -r view; do
      if [ -n "$only" ]; then case "$view " in *"--out $only "*) ;; *) continue;; esac; fi
      # shellcheck disable=SC2086
      publish $view
    done
  ) 9>"$WORK/.publish.lock"
}

run() { # run EXPERIMENT-ARGS… (a slice of a view), then publish the views of its runs
  # shellcheck disable=SC2086
  $VQLAB experiment "$@" --threads "$THREADS" </dev/null || echo "run.sh: failed: vqlab experiment $*" >&2
  publish_all "$(out_of "$@")"
}

status() { # status NAME EXPERIMENT-ARGS…: the view's line of counts from --plan
  name=$1; shift
  # shellcheck disable=SC2086
  echo "$name: $($VQLAB experiment "$@" --plan </dev/null | head -n 1 | sed -n 's/.*(\(.*\))$/\1/p')"
}

queue() { # the jobs, one job (the arguments of one `vqlab experiment`) per line, in priority order
  # 1. VQ against SimVQ at every K, seed 0: the heart of the claim, largest K first after 16,384.
  for k in 16384 65536 1024 4096; do
    for q in simvq vq; do echo "codebook-size $FASHION --sizes $k --quantizers $q --seeds 0"; done
  done
  # 2. VQ with SimVQ's initialization at every K: the claim's second baseline.
  for k in 1024 4096 16384 65536; do echo "codebook-size $FASHION --sizes $k --quantizers $VQ_NORMAL --seeds 0"; done
  # 3. Seeds 1 and 2 for SimVQ, then VQ, at K = 1,024 and 65,536: "across seeds".
  for k in 1024 65536; do
    for q in simvq vq; do
      for s in 1 2; do echo "codebook-size $FASHION --sizes $k --quantizers $q --seeds $s"; done
    done
  done
  # 4. EMA-VQ at every K.
  for k in 1024 4096 16384 65536; do echo "codebook-size $FASHION --sizes $k --quantizers ema --seeds 0"; done
  # 5. MNIST: the optimization ablation (SimVQ learning W, C or both), 10 epochs, one job per seed.
  for s in 0 1 2; do echo "optimization --epochs 10 --seeds $s --quantizers $ABLATION_Q --out $WORK/mnist-optimization"; done
  # 6. SimVQ's Table 1 at Fashion-MNIST scale: the rest of the family at K ≈ 1,024 (the grid above
  #    has VQ, EMA-VQ and SimVQ), then the β sweep on MNIST, then Table 1 at K ≈ 65,536 (half an
  #    hour a run). At K = 2^16 LFQ's entropy loss runs over two groups of 8 bits (its default
  #    entropyGroupBits = 12; see lfq.ts).
  for q in $(echo "$TABLE1_EXTRA" | tr , ' '); do echo "codebook-size $FASHION --sizes 1024 --quantizers $q --seeds 0"; done
  for s in 0 1 2; do
    for b in $BETAS; do echo "beta --epochs 10 --seeds $s --betas $b --out $WORK/mnist-beta"; done
  done
  for q in $(echo "$TABLE1_EXTRA" | tr , ' '); do echo "codebook-size $FASHION --sizes 65536 --quantizers $q --seeds 0"; done
  # 7. MNIST: each quantizer until its utilization plateaus.
  for q in $(echo "$LONG_Q" | tr , ' '); do echo "codebook-size --sizes 1024 --quantizers $q --seeds 0 --epochs 100 --until-plateau 5 --out $WORK/mnist-long"; done
  # 8. Table 1's fair set-ups at K ≈ 1,024, then ≈ 65,536 (their untuned rows are among the jobs above).
  for k in 1024 65536; do
    for q in $(echo "$TABLE1_FAIR_Q" | tr , ' '); do echo "codebook-size $FASHION_FAIR --sizes $k --quantizers $q --seeds 0"; done
  done
  # 9. Budget or ceiling: SimVQ at K = 65,536 in 1,404 steps with a faster optimization.
  echo "$BUDGET_LR"; echo "$BUDGET_BETA"; echo "$BUDGET_PAPER"
  # 10. Speech (Table 2): SimVQ against VQ at K = 4,096 first (the issue's operating point), then the
  #     other quantizers there, then the other sizes.
  for k in 4096 1024 16384 65536; do
    for q in $(echo "$SPEECH_Q" | tr , ' '); do echo "codebook-size $SPEECH --sizes $k --quantizers $q --seeds 0"; done
  done
}

lane() { # train jobs from the queue until none is left; a job is claimed by creating its directory
  n=0
  while IFS= read -r job; do
    n=$((n + 1))
    mkdir "$claims/$n" 2>/dev/null || continue
    # shellcheck disable=SC2086
    run $job
  done <"$claims/queue"
}

if [ "${1:-}" = publish ]; then publish_all; exit 0; fi
if [ "${1:-}" = status ]; then
  # shellcheck disable=SC2086
  views | while IFS= read -r view; do status $view; done
  exit 0
fi

only=''   # with `only VIEW`: that view's work directory, whose jobs alone are trained
if [ "${1:-}" = only ]; then
  wanted=${2:-}
  [ -n "$wanted" ] || { echo "run.sh: only needs a view's name; run.sh status lists them" >&2; exit 2; }
  only=$(views | while IFS= read -r view; do
    # shellcheck disable=SC2086
    set -- $view
    name=$1; shift
    [ "$name" != "$wanted" ] || out_of "$@"
  done)
  [ -n "$only" ] || { echo "run.sh: no view named '$wanted'; run.sh status lists them" >&2; exit 2; }
fi

claims=$(mktemp -d)
trap 'rm -rf "$claims"' EXIT
queue | while IFS= read -r job; do
  case "$job " in *"--out $only "*) echo "$job";; *) [ -n "$only" ] || echo "$job";; esac
done >"$claims/queue"
i=0
while [ "$i" -lt "$LANES" ]; do lane & i=$((i + 1)); done
wait
if [ -n "$only" ] && [ "$only" != "$(out_of $FASHION_LONG)" ]; then echo "run.sh: $wanted done"; exit 0; fi
# 10. Fashion-MNIST at K = 65,536 until utilization settles: SimVQ, VQ with dead-code replacement,
#     FSQ. Runs of many hours after the queue is empty: alone on the machine, each gets every
#     thread the lanes had.
THREADS=$((LANES * THREADS))
run $FASHION_LONG
echo "run.sh: all experiments done"
