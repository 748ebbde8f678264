#!/bin/sh
# The experiments behind EXPERIMENTS.md, in the order the claim needs them. Every step is
# resumable: rerunning this script skips completed runs and resumes an interrupted one from its
# last checkpoint (saved every 100 steps), so it can be stopped at any time and started again in a
# later sitting. After each run the finished runs are collected into docs/experiments/NAME/
# (results.json, results.csv, report.html, figures, reconstruction grids; no checkpoints), ready to
# commit.
#
#   sh docs/experiments/run.sh            # everything (many hours on 2 cores)
#   sh docs/experiments/run.sh publish    # only collect what has finished
#   sh docs/experiments/run.sh status     # how many runs of each view are done
#
# Needs: npm run build; Fashion-MNIST (apt-get install -y dataset-fashion-mnist).
# VQLAB overrides the command (default: node dist/src/cli/main.js); WORK where runs train
# (default: experiments/, which git ignores); PUBLISH where finished views go (default:
# docs/experiments/).
set -eu
cd "$(dirname "$0")/../.."
VQLAB=${VQLAB:-node dist/src/cli/main.js}
WORK=${WORK:-experiments}
PUBLISH=${PUBLISH:-docs/experiments}

# Fashion-MNIST, 3 epochs (1,404 steps of 128), reference settings. One directory holds every run;
# the tables are views of it.
FASHION="--data fashion-mnist --epochs 3 --out $WORK/fashion-mnist"
VQ_NORMAL='vq:init=normal:initScale=0.125'   # VQ started like SimVQ's C: N(0, 1/d), d = 64
GRID_Q="simvq,vq,$VQ_NORMAL,ema"
GRID="codebook-size $FASHION --sizes 1024,4096,16384,65536 --quantizers $GRID_Q --seeds 0,1,2 --replicate-sizes 1024,65536 --replicate-variants simvq,vq"
TABLE1_Q="vq,$VQ_NORMAL,ema,simvq,fsq,lfq,vq:kmeansIters=10,vq:deadCodeThreshold=1,vq:rotationTrick=true,vq:codebookDim=8:cosine=true,simvq:deadCodeThreshold=1"
TABLE1="codebook-size $FASHION --sizes 1024,65536 --quantizers $TABLE1_Q --seeds 0"

# MNIST (bundled digits), 10 epochs, 3 seeds.
ABLATION="optimization --epochs 10 --seeds 0,1,2 --quantizers vq,$VQ_NORMAL --out $WORK/mnist-optimization"
BETA="beta --epochs 10 --seeds 0,1,2 --out $WORK/mnist-beta"
# One run per quantizer at K = 1,024 until its utilization stops rising (at most 100 epochs).
LONG="codebook-size --sizes 1024 --quantizers vq,ema,simvq,fsq,lfq,$VQ_NORMAL --seeds 0 --epochs 100 --until-plateau 5 --out $WORK/mnist-long"
# Beyond the issue's list: SimVQ at K = 65,536 on Fashion-MNIST until its utilization stops rising
# (at most 30 epochs, about 4 hours), to see how far below the paper's ~100 % 3 epochs leave it.
FASHION_LONG="codebook-size --data fashion-mnist --sizes 65536 --quantizers simvq --seeds 0 --epochs 30 --until-plateau 3 --out $WORK/fashion-long"

publish() { # publish NAME EXPERIMENT-ARGS…: collect the finished runs of a view into $PUBLISH/NAME
  name=$1; shift
  src=$(echo "$@" | sed -n 's/.*--out \([^ ]*\).*/\1/p')
  ls "$src"/runs/*/result.json >/dev/null 2>&1 || return 0   # nothing finished yet
  rm -rf "$src/figures"   # --collect draws every figure again; this drops ones no longer drawn
  # shellcheck disable=SC2086
  $VQLAB experiment "$@" --collect >/dev/null 2>&1 || return 0
  grep -q '"completedAt"' "$src/results.json" || return 0   # none of this view's runs finished
  dst=$PUBLISH/$name
  rm -rf "$dst.tmp" && mkdir -p "$dst.tmp"
  cp "$src/results.json" "$src/results.csv" "$src/report.html" "$dst.tmp/"
  cp -r "$src/figures" "$dst.tmp/"
  for curve in "$src"/figures/runs/*-loss.svg; do   # one per run of this view
    [ -f "$curve" ] || continue
    run=$(basename "$curve" -loss.svg)
    [ -f "$src/runs/$run/recon.png" ] || continue
    mkdir -p "$dst.tmp/runs/$run" && cp "$src/runs/$run/recon.png" "$dst.tmp/runs/$run/"
  done
  rm -rf "$dst" && mv "$dst.tmp" "$dst"
}

publish_all() {
  publish fashion-codebook-size $GRID
  publish fashion-table1 $TABLE1
  publish mnist-optimization $ABLATION
  publish mnist-beta $BETA
  publish mnist-long $LONG
  publish fashion-long $FASHION_LONG
}

run() { # run EXPERIMENT-ARGS… (a slice of a view), then publish everything
  # shellcheck disable=SC2086
  $VQLAB experiment "$@" || echo "run.sh: failed: vqlab experiment $*" >&2
  publish_all
}

status() { # status NAME EXPERIMENT-ARGS…: the view's line of counts from --plan
  name=$1; shift
  # shellcheck disable=SC2086
  echo "$name: $($VQLAB experiment "$@" --plan | head -n 1 | sed -n 's/.*(\(.*\))$/\1/p')"
}

if [ "${1:-}" = publish ]; then publish_all; exit 0; fi
if [ "${1:-}" = status ]; then
  status fashion-codebook-size $GRID
  status fashion-table1 $TABLE1
  status mnist-optimization $ABLATION
  status mnist-beta $BETA
  status mnist-long $LONG
  status fashion-long $FASHION_LONG
  exit 0
fi

# 1. VQ against SimVQ at every K, seed 0: the heart of the claim, largest K first after 16,384.
for k in 16384 65536 1024 4096; do
  for q in simvq vq; do run codebook-size $FASHION --sizes $k --quantizers $q --seeds 0; done
done
# 2. VQ with SimVQ's initialization at every K: the claim's second baseline.
for k in 1024 4096 16384 65536; do run codebook-size $FASHION --sizes $k --quantizers $VQ_NORMAL --seeds 0; done
# 3. Seeds 1 and 2 for SimVQ, then VQ, at K = 1,024 and 65,536: "across seeds".
for k in 1024 65536; do
  for q in simvq vq; do
    for s in 1 2; do run codebook-size $FASHION --sizes $k --quantizers $q --seeds $s; done
  done
done
# 4. EMA-VQ at every K.
for k in 1024 4096 16384 65536; do run codebook-size $FASHION --sizes $k --quantizers ema --seeds 0; done
# 5. MNIST: the optimization ablation (SimVQ learning W, C or both), 10 epochs, 3 seeds.
run $ABLATION
# 6. SimVQ's Table 1 at Fashion-MNIST scale: the rest of the family at K ≈ 1,024, then the β sweep
#    on MNIST, then Table 1 at K ≈ 65,536 (half an hour a run). One run per invocation, so that one
#    failing run does not hold up the others. At K = 2^16 LFQ's entropy loss runs over two groups
#    of 8 bits (its default entropyGroupBits = 12; see lfq.ts).
table1() { for q in $(echo "$TABLE1_Q" | tr , ' '); do run codebook-size $FASHION --sizes "$1" --quantizers "$q" --seeds 0; done; }
table1 1024
run $BETA
table1 65536
# 7. MNIST: each quantizer until its utilization plateaus.
run $LONG
# 8. Fashion-MNIST: SimVQ at K = 65,536 until its utilization plateaus.
run $FASHION_LONG
echo "run.sh: all experiments done"
