#!/bin/sh
# Trains every quantizer and codebook option of vqlab on the bundled MNIST digits and prints one
# eval JSON line per run (utilization, perplexity and dead codes over the test set, PSNR, ...).
#   sh docs/quantizer-runs.sh [EPOCHS] [OUT]        (defaults: 3 epochs, runs/quantizers)
# One run at a time, one ORT thread, lowest priority: the machine stays usable.
set -e
EPOCHS=${1:-3}
OUT=${2:-runs/quantizers}
mkdir -p "$OUT"
run() {
  name=$1; shift
  if [ -f "$OUT/$name.json" ]; then cat "$OUT/$name.json"; return; fi
  nice -n 19 node dist/src/cli/main.js train --epochs "$EPOCHS" --threads 1 --quiet --out "$OUT/$name" "$@" > "$OUT/$name.json.tmp"
  mv "$OUT/$name.json.tmp" "$OUT/$name.json"
  cat "$OUT/$name.json"
}
run vq            --quantizer vq
run ema           --quantizer ema
run ema-options   --quantizer ema --quantizer-option decay=0.95 --quantizer-option initialCount=2
run simvq         --quantizer simvq
run fsq           --quantizer fsq --quantizer-option levels=8,5,5,5
run lfq           --quantizer lfq --codebook-size 1024
run rvq           --quantizer residual --quantizer-option base=vq --quantizer-option depth=4 --codebook-size 256
run rsimvq        --quantizer residual --quantizer-option base=simvq --quantizer-option depth=4 --quantizer-option quantizeDropout=true --codebook-size 256
run vq-kmeans     --quantizer vq --quantizer-option kmeansIters=10
run vq-deadcode   --quantizer vq --quantizer-option deadCodeThreshold=1
run vq-rotation   --quantizer vq --quantizer-option rotationTrick=true
run vq-cosine     --quantizer vq --quantizer-option cosine=true
run vq-fc         --quantizer vq --quantizer-option codebookDim=8 --quantizer-option cosine=true
run vq-orthogonal --quantizer vq --quantizer-option orthogonalWeight=1
run simvq-deadcode --quantizer simvq --quantizer-option deadCodeThreshold=1
