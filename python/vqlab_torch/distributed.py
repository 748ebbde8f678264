"""Collective operations that are the identity in a single process, so that the quantizers' batch
statistics (EMA sums, code counts, the vectors dead codes are re-seeded from) are those of the
global batch under DDP, exactly as vqlab computes them over one batch."""
from __future__ import annotations

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Σ over the ranks of ``t`` (a new tensor; ``t`` itself when not distributed)."""
    if not is_distributed():
        return t
    out = t.clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def all_gather_rows(t: torch.Tensor) -> torch.Tensor:
    """The ranks' ``t`` [m, c] concatenated in rank order [world·m, c] (every rank has the same m)."""
    if not is_distributed():
        return t
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts, 0)
