"""``python -m vqlab_torch.bench RUN --batches FILE ...``: the PyTorch twin of a vqlab run timed on
given batches, for ``npm run bench`` (bench/audio.ts): the median seconds of a training step
(forward, backward and vqlab's Adam, as the training script takes it, with the run's reconstruction
term) and of encoding one batch to indices, after warm-up, at ``--threads`` intra-op threads. With
``--indices FILE`` (vqlab's int32 indices of the first batch) it also counts how far the twin's
indices of that batch agree (agreement.py). Prints one JSON object.

``--batches`` is raw little-endian float32, whole batches of the model's input one after another
([n, batch, C, H, W]; for audio [n, batch, 1, 1, samples]), so both engines see the same values.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Callable, List, Optional

import torch

from .agreement import compare
from .checkpoint import CheckpointError, load_model, make_optimizer
from .config import ConfigError


def _median_seconds(fn: Callable[[], object], runs: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    times: List[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _read_raw(path: str, dtype: torch.dtype) -> torch.Tensor:
    """A file of raw 4-byte values (little-endian, as the machines this runs on store them)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if len(data) % 4:
        raise ValueError(f"{path} holds {len(data)} bytes, not whole 4-byte values")
    return torch.frombuffer(data, dtype=dtype) if data else torch.zeros(0, dtype=dtype)


def bench(run: str, batches_file: str, batch: int, steps: int, warmup: int, indices_file: Optional[str]) -> dict:
    model, ckpt = load_model(run)
    shape = model.config.input
    example = shape.channels * shape.height * shape.width
    values = _read_raw(batches_file, torch.float32)
    if values.numel() == 0 or values.numel() % (batch * example):
        raise ValueError(f"{batches_file} holds {values.numel()} floats, not whole batches of {batch} × {example}")
    batches = values.reshape(-1, batch, shape.channels, shape.height, shape.width)
    loss = (ckpt.trainer or {}).get("loss") or ("l1" if model.config.sample_rate is not None else "mse")

    with torch.no_grad():
        encode_s = _median_seconds(lambda: model.encode(batches[0]), steps, warmup)
    agreement = None
    if indices_file is not None:
        theirs = _read_raw(indices_file, torch.int32).to(torch.int64)
        h, w = model.latent
        agreement = compare(model, batches[0], theirs.reshape(batch, h, w, *([model.quantizer.depth] if model.quantizer.depth > 1 else []))).as_dict()

    model.train()
    optimizer = make_optimizer(model, ckpt)
    quantizer = model.quantizer
    seed = int(ckpt.trainer["seed"]) if ckpt.trainer else 0
    state = {"i": 0}

    def step() -> None:
        x = batches[state["i"] % batches.shape[0]]
        state["i"] += 1
        optimizer.zero_grad(set_to_none=True)
        out = model(x, loss=loss)
        out.loss.backward()
        optimizer.step()
        if getattr(quantizer, "needs_host_step", False):
            quantizer.host_step(int(optimizer.step_count), seed, out.quantized, optimizer.reset_rows)

    train_s = _median_seconds(step, steps, warmup)
    return {"threads": torch.get_num_threads(), "batch": batch, "loss": loss, "train_step_s": train_s, "encode_batch_s": encode_s,
            **({"agreement": agreement} if agreement is not None else {})}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqlab_torch.bench", description="Time a vqlab run's PyTorch twin: training step and encoding, medians after warm-up.")
    parser.add_argument("run", help="vqlab run directory or checkpoint folder (with trainer and optimizer state)")
    parser.add_argument("--batches", required=True, help="raw float32 file of whole batches of the model's input")
    parser.add_argument("--batch", type=int, required=True, help="examples per batch")
    parser.add_argument("--steps", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs before them (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads (default 1)")
    parser.add_argument("--indices", help="vqlab's int32 indices of the first batch, to compare with the twin's")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        result = bench(args.run, args.batches, args.batch, args.steps, args.warmup, args.indices)
    except (CheckpointError, ConfigError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
