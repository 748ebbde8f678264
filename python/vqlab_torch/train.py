"""Continue a vqlab run in PyTorch: ``python -m vqlab_torch.train RUN --steps N``, or with P
data-parallel processes (DDP; NCCL on GPUs, gloo on CPUs) under
``torchrun --nproc_per_node P -m vqlab_torch.train RUN --steps N`` or, on one machine,
``python -m vqlab_torch.train RUN --steps N --nproc P`` (which starts the P processes itself, with
the environment torchrun would give them).

Each step is vqlab's (src/train/autoencoder-step.ts):

    L = mean((x − x̂)²) + quantizer loss          (codebook + β·commitment, or the quantizer's own)
    g = ∂L/∂θ, clipped to the run's global norm if it clips (scale min(1, c/(‖g‖ + 10⁻⁶)))
    θ ← Adam(θ, g) with the run's betas, ε, weight decay and learning-rate schedule
    then the quantizer's state updates (EMA codebook, code usage) and host step (dead codes)

on a global batch of the run's size, split evenly over the processes: DDP averages their
gradients, which is the gradient of the mean over the global batch, and the quantizers sum their
batch statistics (code counts, EMA sums) over the processes. Batches are drawn from a seeded
permutation of the training set (vqlab's data order is not reproduced).

The run's checkpoint is written back in vqlab's layout with the step count advanced by N and the
rest of its trainer state (epoch, data position, settings) as it was, so ``vqlab train --resume``
continues from the PyTorch weights and optimizer state, and ``vqlab encode/eval/export`` read them.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import socket
import sys
import time
import warnings
from typing import Dict, List, Optional, Tuple

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .checkpoint import CheckpointError, load_model, make_optimizer, save_checkpoint
from .config import ConfigError
from .data import DataError, load_train_images
from .distributed import all_reduce_sum
from .models import VqVae
from .quantizers import QuantizerOutput
from .schedule import learning_rate_at


class TrainingStep(nn.Module):
    """The loss of one batch as a module, so DDP can wrap it; keeps the quantizer's output for the host step."""

    def __init__(self, model: VqVae) -> None:
        super().__init__()
        self.model = model
        self.last: Optional[QuantizerOutput] = None

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        out = self.model(x)
        self.last = out.quantized
        return {"total": out.loss, "reconstruction": out.reconstruction_loss, "quantizer": out.quantized.loss,
                **{k: v.detach() for k, v in out.quantized.terms.items()}}


def clip_grad_norm(parameters: List[nn.Parameter], max_norm: float) -> float:
    """Scale every gradient by min(1, c/(‖g‖ + 10⁻⁶)), ‖g‖ the global norm (src/runtime/gradient-clip.ts)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = torch.sqrt(sum(((g * g).sum() for g in grads), torch.zeros((), device=grads[0].device)))
    ratio = max_norm / (norm + 1e-6)
    scale = torch.where(ratio < 1, ratio, torch.ones_like(ratio))
    for g in grads:
        g.mul_(scale)
    return float(norm)


def _setup_distributed(device_arg: str) -> Tuple[int, int, torch.device]:
    """(rank, world size, device) from torchrun's environment; a single process without it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_arg == "cuda" or (device_arg == "auto" and torch.cuda.is_available())
    device = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return rank, world, device


def train(run: str, steps: int, out: Optional[str] = None, data: Optional[str] = None, device_arg: str = "auto",
          checkpoint: str = "last", log_every: int = 10) -> Dict[str, object]:
    """Train ``steps`` steps from the checkpoint ``run`` names and commit a checkpoint to ``out``."""
    rank, world, device = _setup_distributed(device_arg)
    try:
        model, ckpt = load_model(run, checkpoint, device=str(device))
        if ckpt.trainer is None:
            raise CheckpointError(f"{ckpt.folder} has no trainer-state.json; only a checkpoint written by `vqlab train` can be continued")
        if ckpt.config.sample_rate is not None:
            raise CheckpointError(f"{ckpt.folder} is an audio model; this package loads and encodes it (vqlab_torch.encode) but trains only image models")
        trainer = dict(ckpt.trainer)
        out_dir = out or run
        if out is None and not os.path.exists(os.path.join(run, "checkpoint.json")):
            raise CheckpointError(f"{run} is a checkpoint folder, not a run directory; give --out DIR for the new checkpoint")
        if out is not None and os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, "checkpoint.json")):
            raise CheckpointError(f"--out {out} holds files but no vqlab run (no checkpoint.json); give an empty or new folder, or a run directory")
        batch = int(trainer["batch"])
        if batch % world:
            raise ValueError(f"the run's batch of {batch} does not split evenly over {world} processes; use a number of processes that divides it")
        seed = int(trainer["seed"])
        stored = trainer["data"]
        images = load_train_images(data if data is not None else stored.get("path"), None if data is not None else stored.get("trainLimit"))
        shape = ckpt.config.input
        if tuple(images.shape[1:]) != (shape.channels, shape.height, shape.width):
            raise DataError(f"the data's images are {tuple(images.shape[1:])} (C, H, W) but the model takes {(shape.channels, shape.height, shape.width)}")
        if images.shape[0] < batch:
            raise DataError(f"the data hold {images.shape[0]} images, fewer than one batch of {batch}")
        model.train()
        optimizer = make_optimizer(model, ckpt)
        step_module = TrainingStep(model)
        quantizer = model.quantizer
        dropout = bool(getattr(quantizer, "quantize_dropout", False))
        wrapped: nn.Module = step_module
        if world > 1:
            # The gradient of a 1×1 convolution's weight [C, K, 1, 1] comes back with strides DDP's
            # bucket view does not expect; it is copied, which is correct, and PyTorch warns every step.
            warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
            wrapped = DistributedDataParallel(step_module, device_ids=[device.index] if device.type == "cuda" else None,
                                              broadcast_buffers=False, find_unused_parameters=dropout)
        trained = [p for p in model.parameters() if p.requires_grad]
        per_epoch = int(stored["trainCount"]) // batch if data is None else images.shape[0] // batch
        total_steps = int(trainer["epochs"]) * max(1, int(stored["trainCount"]) // batch)
        start_step = int(trainer["step"])
        clip = trainer.get("clipGradNorm")
        local = batch // world
        order: List[int] = []
        epoch_index = -1
        losses: Dict[str, float] = {}
        started = time.time()
        for i in range(steps):
            global_step = start_step + i
            if not order:
                epoch_index += 1
                generator = torch.Generator().manual_seed(seed * 1_000_003 + start_step + epoch_index)
                order = torch.randperm(images.shape[0], generator=generator)[: per_epoch * batch].tolist()
            picked = order[:batch]
            order = order[batch:]
            x = images[torch.tensor(picked[rank * local : (rank + 1) * local])].to(device)
            lr = learning_rate_at(float(trainer["lr"]), global_step, total_steps, trainer.get("lrSchedule"))
            optimizer.set_lr(lr)
            optimizer.zero_grad(set_to_none=True)
            result = wrapped(x)
            result["total"].backward()
            if clip is not None:
                clip_grad_norm(trained, float(clip))
            # The mean over the processes of each term: the loss of the global batch (LFQ's batch entropy aside).
            means = all_reduce_sum(torch.stack([v.detach().float() for v in result.values()])) / world
            values = {k: float(v) for k, v in zip(result.keys(), means)}
            if not all(math.isfinite(v) for v in values.values()):
                bad = next(k for k, v in values.items() if not math.isfinite(v))
                raise FloatingPointError(f"{bad} loss became {values[bad]} at step {global_step + 1}; nothing was saved; lower the learning rate")
            optimizer.step()
            reseeded = 0
            if getattr(quantizer, "needs_host_step", False) and step_module.last is not None:
                reseeded = quantizer.host_step(int(optimizer.step_count), seed, step_module.last, optimizer.reset_rows)
            losses = values
            if rank == 0 and log_every > 0 and ((i + 1) % log_every == 0 or i + 1 == steps):
                extra = f"  re-seeded {reseeded} codes" if reseeded else ""
                print(f"step {global_step + 1}  loss {values['total']:.5f} (recon {values['reconstruction']:.5f})  lr {lr:.3g}{extra}", file=sys.stderr)
        trainer["step"] = start_step + steps
        folder = None
        if rank == 0:
            folder = os.path.abspath(save_checkpoint(out_dir, model, optimizer, trainer, ckpt))
        if world > 1:
            dist.barrier()
        return {"out": os.path.abspath(out_dir), "checkpoint": folder, "steps": steps, "step": trainer["step"],
                "processes": world, "loss": losses, "seconds": time.time() - started}
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawned(index: int, nproc: int, port: int, argv: List[str]) -> None:
    """One of ``--nproc``'s processes: torchrun's environment, then ``main`` as under torchrun."""
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(nproc),
                       "RANK": str(index), "LOCAL_RANK": str(index), "LOCAL_WORLD_SIZE": str(nproc)})
    code = main(argv)
    if code != 0:
        sys.exit(code)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqlab_torch.train", description="Continue a vqlab run in PyTorch (torchrun-ready) and write a vqlab checkpoint.")
    parser.add_argument("run", help="vqlab run directory (or a checkpoint folder, with --out)")
    parser.add_argument("--steps", type=int, required=True, help="optimizer steps to take")
    parser.add_argument("--out", help="run directory for the new checkpoint (default: RUN itself)")
    parser.add_argument("--data", help="IDX directory (or fashion-mnist) to train on instead of the run's own data")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--checkpoint", choices=["last", "best"], default="last", help="which checkpoint of RUN to continue")
    parser.add_argument("--log-every", type=int, default=10, help="print a loss line every N steps (0: none)")
    parser.add_argument("--nproc", type=int, default=1, help="start this many local data-parallel processes (instead of torchrun)")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        try:
            mp.spawn(_spawned, args=(args.nproc, _free_port(), argv), nprocs=args.nproc)
        except mp.ProcessRaisedException as err:
            print(f"error: a training process failed: {err}", file=sys.stderr)
            return 1
        except mp.ProcessExitedException as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        return 0
    try:
        summary = train(args.run, args.steps, args.out, args.data, args.device, args.checkpoint, args.log_every)
    except (CheckpointError, ConfigError, DataError, ValueError, FloatingPointError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
